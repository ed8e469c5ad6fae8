#!/usr/bin/env bash
# Starts N copies of a command the way torchrun does (RANK, WORLD_SIZE,
# MASTER_ADDR, MASTER_PORT in each one's environment), so that bdl joins them
# over Gloo without mpirun. Exits with the first non-zero exit code, after
# ending the others (BDL_LAUNCH_GRACE_S, 5 s, after the first failure); 0 when
# all succeed.
# Usage: env_launch.sh N COMMAND [ARGS...]   (MASTER_PORT: a free port if unset)
set -u
n=$1
shift
port=${MASTER_PORT:-}
if [[ -z "$port" ]]; then
  # A port nothing listens on now, from the range Linux does not hand out itself.
  for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 12000))
    if ! ss -Htln "sport = :$candidate" 2>/dev/null | grep -q .; then port=$candidate; break; fi
  done
fi
pids=()
for ((r = 0; r < n; r++)); do
  RANK=$r WORLD_SIZE=$n MASTER_ADDR=${MASTER_ADDR:-127.0.0.1} MASTER_PORT=$port "$@" &
  pids+=($!)
done
status=0
remaining=$n
killer=""
while ((remaining > 0)); do
  done_pid=""
  wait -n -p done_pid
  code=$?
  [[ -z "$done_pid" || "$done_pid" == "$killer" ]] && continue
  remaining=$((remaining - 1))
  if ((code != 0 && status == 0)); then
    status=$code
    # As torchrun does: the others get a few seconds to end on their own (and
    # say why), then are killed; a stopped or hung worker would never end.
    (sleep "${BDL_LAUNCH_GRACE_S:-5}"; kill -9 "${pids[@]}" 2>/dev/null) &
    killer=$!
  fi
done
[[ -n "$killer" ]] && kill "$killer" 2>/dev/null
exit $status
