#!/usr/bin/env bash
# Runs a job across N "hosts" made of network namespaces on this machine: each
# host is a namespace with one veth link to a bridge (in a namespace of its own),
# addressed 10.199.77.1..N, optionally shaped with tc to RATE. Only TCP is used
# between ranks. Everything is removed afterwards.
#   --launcher mpi (default): mpirun starts one rank per host through an agent
#     that runs `ip netns exec` instead of ssh;
#   --launcher env: one process per host started directly, with RANK,
#     WORLD_SIZE, MASTER_ADDR (host 1) and MASTER_PORT in its environment, as
#     torchrun does: bdl joins them over Gloo, with no MPI at all.
#   tools/netns/cluster.sh [--hosts N] [--rate 10gbit] [--launcher mpi|env] -- COMMAND [ARGS...]
# Exit code: the job's, or 77 when namespaces cannot be made here (not root, no
# iproute2, no permission), with the reason printed.
set -u
hosts=3
rate=""
launcher=mpi
while [[ $# -gt 0 && "$1" != "--" ]]; do
  case "$1" in
    --hosts) hosts=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --launcher) launcher=$2; shift 2 ;;
    *) echo "cluster.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
shift
skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "not root: network namespaces need root"
command -v ip >/dev/null || skip "no ip command (iproute2)"
[[ $launcher == mpi || $launcher == env ]] || { echo "cluster.sh: --launcher mpi or env" >&2; exit 2; }
if [[ $launcher == mpi ]]; then mpiexec=$(command -v mpiexec) || skip "no mpiexec"; fi

tag="bdl$$"
work=$(mktemp -d)
cleanup() {
  for i in $(seq 1 "$hosts") sw; do ip netns del "${tag}h${i}" 2>/dev/null; done
  ip netns del "${tag}sw" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "${tag}sw" 2>/dev/null || skip "cannot create network namespaces here"
{ ip -n "${tag}sw" link add br0 type bridge && ip -n "${tag}sw" link set br0 up; } ||
  skip "cannot create a bridge"
for i in $(seq 1 "$hosts"); do
  ip netns add "${tag}h${i}"
  ip link add "${tag}v${i}" type veth peer name "${tag}p${i}" || skip "cannot create veth pairs"
  ip link set "${tag}v${i}" netns "${tag}h${i}"
  ip link set "${tag}p${i}" netns "${tag}sw"
  ip -n "${tag}sw" link set "${tag}p${i}" master br0 up
  ip -n "${tag}h${i}" addr add "10.199.77.${i}/24" dev "${tag}v${i}"
  ip -n "${tag}h${i}" link set "${tag}v${i}" up
  ip -n "${tag}h${i}" link set lo up
  if [[ -n "$rate" ]]; then
    ip netns exec "${tag}h${i}" tc qdisc add dev "${tag}v${i}" root tbf rate "$rate" \
      burst 4mb latency 50ms || skip "tc cannot shape the links"
  fi
done
if [[ $launcher == env ]]; then
  echo "cluster.sh: $hosts hosts in network namespaces${rate:+, links shaped to $rate}, started by environment" >&2
  pids=()
  for i in $(seq 1 "$hosts"); do
    ip netns exec "${tag}h${i}" env RANK=$((i - 1)) WORLD_SIZE="$hosts" MASTER_ADDR=10.199.77.1 \
      MASTER_PORT=29500 "$@" &
    pids+=($!)
  done
  status=0
  for p in "${pids[@]}"; do wait "$p" || { c=$?; [[ $status -eq 0 ]] && status=$c; }; done
  exit $status
fi
# OpenMPI's launcher calls "<agent> <host> <command...>" where it would call ssh.
# Each host also gets its own hostname (a UTS namespace), as real hosts have:
# daemons that share one hostname share session directory names, and creating
# them at once failed one run in six ("mkdir ... jf.N/0/3: File exists").
cat >"$work/netns-agent" <<AGENT
#!/bin/sh
host=\$1
shift
exec ip netns exec ${tag}\$host unshare --uts sh -c "hostname \$host && \$*"
AGENT
chmod +x "$work/netns-agent"
for i in $(seq 1 "$hosts"); do echo "h${i} slots=1"; done >"$work/hosts"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# OpenMPI's daemons share the hardware topology by mapping it at a guessed hole
# in their address space; with several daemons on one machine that write once
# crashed an orted (hwloc_shmem_topology_write, SIGSEGV). No hole, no sharing:
# each daemon reads its own topology.
export OMPI_MCA_rtc_hwloc_vmhole=none
# The daemons' session directories in this run's own folder: under the shared
# /tmp/ompi.<host>.<uid>, a job that ended earlier (a killed worker's daemon)
# can remove the tree while this one creates its directories in it (seen once
# in CI: orted "unable to create /tmp/ompi.vm.0/jf.N/0").
mkdir -p "$work/ompi"
export OMPI_MCA_orte_tmpdir_base="$work/ompi"
# Each rank must run in its own namespace: each sees a different address.
ip netns exec "${tag}h1" "$mpiexec" --hostfile "$work/hosts" -np "$hosts" \
  --mca plm_rsh_agent "$work/netns-agent" --mca oob_tcp_if_include 10.199.77.0/24 \
  sh -c 'ip -o -4 addr show' >"$work/addresses" 2>&1
seen=$(grep -o "10\.199\.77\.[0-9]*" "$work/addresses" | sort -u | wc -l)
if [[ "$seen" -ne "$hosts" ]]; then
  echo "cluster.sh: the ranks did not run in $hosts namespaces ($seen addresses seen):" >&2
  cat "$work/addresses" >&2
  exit 1
fi
echo "cluster.sh: $hosts hosts in network namespaces${rate:+, links shaped to $rate}" >&2
ip netns exec "${tag}h1" "$mpiexec" --hostfile "$work/hosts" -np "$hosts" \
  --mca plm_rsh_agent "$work/netns-agent" --mca btl tcp,self \
  --mca btl_tcp_if_include 10.199.77.0/24 --mca oob_tcp_if_include 10.199.77.0/24 "$@"
