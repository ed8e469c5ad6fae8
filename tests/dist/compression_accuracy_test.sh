#!/usr/bin/env bash
# fp16 and bf16 on the wire: LeNet-5 on Fashion-MNIST, 2 workers, the recipe of the
# training benchmarks (2 epochs), must end within 0.5 points of fp32's test top-1.
# One run varies by about 0.6 points from seed to seed (BENCHMARKS.md), more than
# the margin, so the means over seeds 1-3 are compared.
# Usage: compression_accuracy_test.sh BDL_BINARY MPIEXEC
set -u
bdl=$1
mpiexec=$2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
[[ -d /usr/share/datasets/fashion-mnist ]] || { echo "SKIP: dataset-fashion-mnist is not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for seed in 1 2 3; do
  for format in none fp16 bf16; do
    "$mpiexec" --oversubscribe -np 2 "$bdl" train --model lenet5 --epochs 2 --threads 1 \
      --progress quiet --seed "$seed" --compress "$format" --report "$work/$format-$seed.json" \
      >/dev/null || { echo "FAIL: the $format job (seed $seed) failed"; exit 1; }
  done
done
/usr/bin/python3 - "$work" <<'PY'
import json, statistics, sys
top1 = {f: [json.load(open(f"{sys.argv[1]}/{f}-{s}.json"))["test_top1"] for s in (1, 2, 3)]
        for f in ("none", "fp16", "bf16")}
mean = {f: statistics.mean(v) for f, v in top1.items()}
for f in top1:
    print(f"{f}: test top-1 {top1[f]}, mean {mean[f]:.4f}")
bad = [f for f in ("fp16", "bf16") if abs(mean[f] - mean["none"]) > 0.005]
print("FAIL: more than 0.5 points from fp32: " + ", ".join(bad) if bad else "PASS")
sys.exit(1 if bad else 0)
PY
