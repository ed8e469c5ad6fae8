#!/usr/bin/env bash
# A worker lost mid-training must end the job with a non-zero exit code within
# 30 s and a message naming the lost rank; nothing may hang.
#   kill: rank 1 gets SIGKILL (the launcher sees the process die);
#   stop: rank 1 gets SIGSTOP (alive but silent: only bdl's own transfer
#         timeouts, --comm-timeout-ms, can notice).
# The launcher is mpiexec, or "env" for an environment launch over Gloo
# (tests/dist/env_launch.sh: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT).
# Usage: kill_worker_test.sh BDL_BINARY MPIEXEC|env kill|stop
set -u
bdl=$1
mpiexec=$2
mode=${3:-kill}
here=$(cd "$(dirname "$0")" && pwd)
signal=$([[ $mode == stop ]] && echo STOP || echo KILL)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# --seed $$ makes this job's command line unique: the pgrep/pkill below touch no other job.
if [[ $mpiexec == env ]]; then
  launch=("$here/env_launch.sh" 3)
  rank_var=RANK
else
  launch=("$mpiexec" --oversubscribe -np 3)
  rank_var=OMPI_COMM_WORLD_RANK
fi
"${launch[@]}" "$bdl" train --model mlp --epochs 50 --seed $$ --threads 1 \
  --batch-size 96 --progress quiet --comm-timeout-ms 5000 >"$log" 2>&1 &
launcher=$!

# Find rank 1 once training runs (its environment carries its rank).
victim=""
for _ in $(seq 1 200); do
  for pid in $(pgrep -f "$bdl train --model mlp --epochs 50 --seed $$" || true); do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "$rank_var=1"; then
      victim=$pid
    fi
  done
  [[ -n "$victim" ]] && grep -q "bdl train:" "$log" && break
  sleep 0.1
done
if [[ -z "$victim" ]]; then
  echo "FAIL: rank 1 never started"; cat "$log"; kill -9 "$launcher" 2>/dev/null; exit 1
fi
sleep 1
start=$(date +%s.%N)
kill -s "$signal" "$victim"

# Wait at most 40 s for the whole job to end.
for _ in $(seq 1 400); do
  kill -0 "$launcher" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$launcher" 2>/dev/null; then
  echo "FAIL: the job still runs 40 s after rank 1 was killed (hang)"
  pkill -9 -f "$bdl train --model mlp --epochs 50 --seed $$"; kill -9 "$launcher"; cat "$log"; exit 1
fi
wait "$launcher"
code=$?
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
echo "job exited with code $code, ${elapsed} s after rank 1 got SIG$signal"
pkill -9 -f "$bdl train --model mlp --epochs 50 --seed $$" 2>/dev/null  # a stopped worker, if left
cat "$log"
if [[ $code -eq 0 ]]; then echo "FAIL: exit code 0"; exit 1; fi
if (( $(echo "$elapsed > 30" | bc) )); then echo "FAIL: took more than 30 s"; exit 1; fi
if [[ $mode == kill ]]; then
  grep -Eq "rank 1 .*(signal 9|Killed)|lost rank 1" "$log" || { echo "FAIL: no message names rank 1"; exit 1; }
else
  grep -Eq "lost rank [0-9]" "$log" || { echo "FAIL: no message names a lost rank"; exit 1; }
fi
echo "PASS"
