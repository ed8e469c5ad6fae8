#!/usr/bin/env bash
# The large-batch experiment of docs/large-batch.md: LeNet-5 with BatchNorm on
# Fashion-MNIST for 20 epochs, batch 128 (momentum SGD) against batch 8192
# (LARS, learning rate scaled linearly from 128, warm-up, polynomial decay),
# three seeds each, and the large batch once more on 2 MPI workers. Writes the
# reports to docs/large-batch/ and draws docs/large-batch.png.
#
#   tools/experiments/large_batch.sh [SEEDS...]     (default 1 2 3; ~8 minutes here)
set -euo pipefail
cd "$(dirname "$0")/../.."
bdl=build/bdl
out=docs/large-batch
mkdir -p "$out"
seeds=("${@:-1 2 3}")
read -r -a seeds <<<"${seeds[*]}"
common=(--model lenet5_bn --epochs 20 --progress quiet)
small=(--batch-size 128 --lr 0.05 --momentum 0.9 --weight-decay 5e-4 --schedule poly:2)
# LARS's learning rate is 0.625 per 128 samples, scaled linearly to 8192.
large=(--batch-size 8192 --optimizer lars --lr 0.625 --scale-lr-from 128 --momentum 0.9
       --weight-decay 5e-4 --trust-coefficient 0.001 --warmup-epochs 3 --schedule poly:2)
for seed in "${seeds[@]}"; do
  "$bdl" train "${common[@]}" "${small[@]}" --threads 2 --seed "$seed" \
    --report "$out/batch128_seed$seed.json"
  "$bdl" train "${common[@]}" "${large[@]}" --threads 2 --seed "$seed" \
    --report "$out/batch8192_seed$seed.json"
done
# Without LARS: momentum SGD with the same linear scaling and warm-up.
"$bdl" train "${common[@]}" --batch-size 8192 --lr 0.05 --scale-lr-from 128 --momentum 0.9 \
  --weight-decay 5e-4 --warmup-epochs 3 --schedule poly:2 --threads 2 --seed 1 \
  --report "$out/batch8192_sgd_seed1.json"
# Distributed: 2 workers of 1 thread, 4096 samples each per iteration.
root=()
if [[ $(id -u) -eq 0 ]]; then root=(--allow-run-as-root); fi
mpirun --oversubscribe "${root[@]}" -np 2 "$bdl" train "${common[@]}" "${large[@]}" \
  --threads 1 --seed 1 --report "$out/batch8192_2workers_seed1.json"
/usr/bin/python3 tools/experiments/plot_large_batch.py "$out" docs/large-batch.png
