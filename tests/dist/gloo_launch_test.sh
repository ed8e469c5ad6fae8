#!/usr/bin/env bash
# bdl started the way torchrun starts workers (RANK, WORLD_SIZE, MASTER_ADDR,
# MASTER_PORT), joined over Gloo with no MPI:
#   - trains to exactly the result of the same job under mpiexec;
#   - a worker that never starts, a WORLD_SIZE that differs and a RANK that is
#     not a number each end the start-up with an error that names them, in time.
# Usage: gloo_launch_test.sh BDL_BINARY MPIEXEC
set -u
bdl=$1
mpiexec=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
job=(train --model mlp --epochs 1 --max-iteration 20 --train-samples 4000 --test-samples 1000
     --batch-size 64 --threads 1 --progress quiet --sync-every 5 --compress bf16)
failed=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; failed=1; fi; }

"$here/env_launch.sh" 2 "$bdl" "${job[@]}" --report "$work/gloo.json" >"$work/gloo.log" 2>&1
check "environment launch of 2 trains" "[[ $? -eq 0 ]]"
cat "$work/gloo.log"
check "the job says it runs over Gloo and bdl's streams" \
  "grep -q \"over 2 workers over TCP (Gloo and bdl's streams\" '$work/gloo.log'"
"$mpiexec" --oversubscribe -np 2 "$bdl" "${job[@]}" --report "$work/mpi.json" >"$work/mpi.log" 2>&1
check "mpiexec -np 2 trains" "[[ $? -eq 0 ]]"
/usr/bin/python3 - "$work/gloo.json" "$work/mpi.json" <<'PY'
import json, sys
gloo, mpi = (json.load(open(p)) for p in sys.argv[1:3])
bad = [k for k in ("train_loss", "test_top1", "test_loss", "iterations", "workers") if gloo[k] != mpi[k]]
for k in ("train_loss", "test_loss", "workers"):
    print(f"{k}: Gloo {gloo[k]}, MPI {mpi[k]}")
sys.exit(1 if bad else 0)
PY
check "Gloo and MPI give the same bits" "[[ $? -eq 0 ]]"

# The transfers over Gloo's own unbound buffers (BDL_TRANSFERS=gloo): the same bits.
BDL_TRANSFERS=gloo "$here/env_launch.sh" 2 "$bdl" "${job[@]}" --report "$work/unbound.json" \
  >"$work/unbound.log" 2>&1
check "BDL_TRANSFERS=gloo trains" "[[ $? -eq 0 ]] && grep -q 'over 2 workers over TCP (Gloo;' '$work/unbound.log'"
cmp -s <(/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["train_loss"], r["test_loss"])' "$work/unbound.json") \
       <(/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["train_loss"], r["test_loss"])' "$work/gloo.json")
check "and gives the bits of the streams" "[[ $? -eq 0 ]]"
BDL_TRANSFERS=udp "$here/env_launch.sh" 2 "$bdl" "${job[@]}" >"$work/udp.log" 2>&1
check "BDL_TRANSFERS=udp is refused by name" "[[ $? -ne 0 ]] && grep -q \"BDL_TRANSFERS='udp' is neither\" '$work/udp.log'"

# Rank 2 of 3 never starts: ranks 0 and 1 fail within the start timeout (2 s).
port=$((20000 + RANDOM % 12000))
start=$(date +%s)
for r in 0 1; do
  RANK=$r WORLD_SIZE=3 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$bdl" "${job[@]}" \
    --comm-timeout-ms 2000 >"$work/missing$r.log" 2>&1 &
done
wait -n; c0=$?; wait -n; c1=$?  # either order: both must fail
elapsed=$(($(date +%s) - start))
cat "$work/missing0.log" "$work/missing1.log"
check "a missing worker fails the start-up" "[[ $c0 -ne 0 && $c1 -ne 0 ]]"
check "within 10 s (took ${elapsed} s)" "[[ $elapsed -le 10 ]]"
check "rank 0 names rank 2" "grep -q 'rank 2 of 3 did not reach port' '$work/missing0.log'"
check "rank 1 names rank 2 too" "grep -q 'rank 0 says: rank 2 of 3 did not reach' '$work/missing1.log'"

# WORLD_SIZE differs between workers.
port=$((20000 + RANDOM % 12000))
RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$bdl" "${job[@]}" \
  --comm-timeout-ms 5000 >"$work/size0.log" 2>&1 &
pid0=$!
RANK=1 WORLD_SIZE=3 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$bdl" "${job[@]}" \
  --comm-timeout-ms 5000 >"$work/size1.log" 2>&1
c1=$?
wait $pid0; c0=$?
cat "$work/size0.log" "$work/size1.log"
check "a WORLD_SIZE that differs fails both" "[[ $c0 -ne 0 && $c1 -ne 0 ]]"
check "and says so" "grep -q 'WORLD_SIZE differs' '$work/size0.log' && grep -q 'WORLD_SIZE differs' '$work/size1.log'"

RANK=abc WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$bdl" "${job[@]}" >"$work/rank.log" 2>&1
c=$?
cat "$work/rank.log"
check "RANK=abc is refused by name" "[[ $c -ne 0 ]] && grep -q \"RANK='abc' is not a whole number\" '$work/rank.log'"

RANK=0 WORLD_SIZE=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$bdl" "${job[@]}" >"$work/one.log" 2>&1
check "WORLD_SIZE=1 trains alone" "[[ $? -eq 0 ]]"

[[ $failed -eq 0 ]] && echo PASS
exit $failed
