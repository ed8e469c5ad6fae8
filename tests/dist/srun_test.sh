#!/usr/bin/env bash
# `srun bdl train` under Slurm gives exactly the result of the same job under
# mpirun. Needs a running Slurm cluster with PMIx (skipped, exit 77, otherwise;
# tools/slurm/local-cluster.sh starts a one-node cluster on a Debian machine).
# Usage: srun_test.sh BDL_BINARY MPIEXEC
set -u
bdl=$1
mpiexec=$2
command -v srun >/dev/null || { echo "SKIP: no srun (Slurm is not installed)"; exit 77; }
timeout 10 sinfo -h -o %T 2>/dev/null | grep -Eq "idle|mixed|allocated" ||
  { echo "SKIP: no running Slurm cluster"; exit 77; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
job=(train --model mlp --epochs 1 --max-iteration 30 --train-samples 6000 --test-samples 1000
     --batch-size 64 --threads 1 --progress quiet)
timeout 120 srun --mpi=pmix -n 2 --cpus-per-task 1 "$bdl" "${job[@]}" --report "$work/srun.json" ||
  { echo "FAIL: srun job"; exit 1; }
"$mpiexec" --oversubscribe -np 2 "$bdl" "${job[@]}" --report "$work/mpirun.json" >/dev/null ||
  { echo "FAIL: mpirun job"; exit 1; }
/usr/bin/python3 - "$work/srun.json" "$work/mpirun.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
keys = ("workers", "iterations", "train_loss", "test_top1", "test_loss")
print({k: a[k] for k in keys})
same = all(a[k] == b[k] for k in keys) and a["workers"] == 2
print("PASS" if same else f"FAIL: mpirun gave {dict((k, b[k]) for k in keys)}")
sys.exit(0 if same else 1)
PY
