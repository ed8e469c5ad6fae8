#!/usr/bin/env bash
# Training from record shards (`bdl convert`), streamed: 2 workers, 4 shards;
# each worker's machine holds only its own two shards and the MANIFEST, and the
# job trains and validates on all of the data between them.
# Usage: record_shards_test.sh BDL_BINARY MPIEXEC
set -u
bdl=$1
mpiexec=$2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
[[ -d /usr/share/datasets/fashion-mnist ]] || { echo "SKIP: dataset-fashion-mnist is not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bdl" convert --data fashion-mnist --shards 4 -o "$work/all" || { echo "FAIL: bdl convert"; exit 1; }
for r in 0 1; do
  for s in train test; do
    mkdir -p "$work/rank$r/$s"
    for p in $r $((r + 2)); do ln -s "$work/all/$s/part-0000$p-of-00004.tfrecord" "$work/rank$r/$s/"; done
    ln -s "$work/all/$s/MANIFEST" "$work/rank$r/$s/"
  done
done
cat >"$work/run.sh" <<'RUN'
#!/bin/sh
dir=$1; shift
exec "$@" --data "$dir/rank$OMPI_COMM_WORLD_RANK"
RUN
chmod +x "$work/run.sh"
"$mpiexec" --oversubscribe -np 2 "$work/run.sh" "$work" "$bdl" train --model lenet5 --epochs 1 \
  --threads 1 --progress quiet --report "$work/r.json" || { echo "FAIL: training"; exit 1; }
/usr/bin/python3 - "$work/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print({k: r[k] for k in ("workers", "iterations", "test_samples", "test_top1", "peak_rss_mib")})
# 60,000 samples in 4 shards of 15,000: each worker streams 30,000, so 468
# iterations of 64 per worker (the global batch of 128): one pass over all the data.
ok = r["workers"] == 2 and r["iterations"] == 468 and r["test_samples"] == 10000 and r["test_top1"] > 0.8
print("PASS" if ok else "FAIL"); sys.exit(0 if ok else 1)
PY
