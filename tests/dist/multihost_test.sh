#!/usr/bin/env bash
# Multi-host training over real TCP between network namespaces
# (tools/netns/cluster.sh), with the links optionally shaped to 10 Gbit/s: the
# result must equal the single-host run of the same job exactly (same data order,
# same ring summation order). Skipped (exit 77, reason printed) where namespaces
# cannot be made. Usage: multihost_test.sh BDL_BINARY [--rate 10gbit]
set -u
bdl=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
job=(train --model mlp --epochs 1 --max-iteration 30 --train-samples 6000 --test-samples 1200
     --batch-size 96 --threads 1 --progress quiet --sync-every 10)

"$here/../../tools/netns/cluster.sh" --hosts 3 "$@" -- "$bdl" "${job[@]}" \
  --report "$work/multi.json" >"$work/multi.log" 2>&1
code=$?
cat "$work/multi.log"
[[ $code -eq 77 ]] && exit 77
[[ $code -eq 0 ]] || { echo "FAIL: the multi-host job failed (exit $code)"; exit 1; }

mpiexec --oversubscribe -np 3 "$bdl" "${job[@]}" --report "$work/single.json" \
  >"$work/single.log" 2>&1 || { cat "$work/single.log"; echo "FAIL: single-host run"; exit 1; }

/usr/bin/python3 - "$work/multi.json" "$work/single.json" <<'PY'
import json, sys
multi, single = (json.load(open(p)) for p in sys.argv[1:3])
for key in ("train_loss", "test_top1", "test_loss", "iterations", "workers"):
    print(f"{key}: multi-host {multi[key]}, single-host {single[key]}")
    if multi[key] != single[key]:
        print("FAIL: results differ"); sys.exit(1)
print("PASS")
PY
