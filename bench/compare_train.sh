#!/usr/bin/env bash
# Runs the side-by-side training comparison of BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/compare_train.py --out bench/results/train_compare.json "$@"
