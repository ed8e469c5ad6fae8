#!/usr/bin/env bash
# fp16 and bf16 on the wire: LeNet-5 on Fashion-MNIST, 2 workers, the recipe of
# the training benchmarks (2 epochs), must end within 0.5 points of test top-1 of
# the same job in fp32. (After a single epoch the three differ by more noise:
# fp16 was once 0.52 points *above* fp32 there.)
# Usage: compression_accuracy_test.sh BDL_BINARY MPIEXEC
set -u
bdl=$1
mpiexec=$2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
[[ -d /usr/share/datasets/fashion-mnist ]] || { echo "SKIP: dataset-fashion-mnist is not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for format in none fp16 bf16; do
  "$mpiexec" --oversubscribe -np 2 "$bdl" train --model lenet5 --epochs 2 --threads 1 \
    --progress quiet --seed 1 --compress "$format" --report "$work/$format.json" >/dev/null ||
    { echo "FAIL: the $format job failed"; exit 1; }
done
/usr/bin/python3 - "$work" <<'PY'
import json, sys
top1 = {f: json.load(open(f"{sys.argv[1]}/{f}.json"))["test_top1"] for f in ("none", "fp16", "bf16")}
print("test top-1:", top1)
bad = [f for f in ("fp16", "bf16") if abs(top1[f] - top1["none"]) > 0.005]
print("FAIL: more than 0.5 points from fp32: " + ", ".join(bad) if bad else "PASS")
sys.exit(1 if bad else 0)
PY
