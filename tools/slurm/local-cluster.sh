#!/usr/bin/env bash
# Starts a one-node Slurm cluster on this Debian machine (root), for trying
# `srun bdl train` and for tests/dist/srun_test.sh. Not for production clusters.
set -euo pipefail
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  slurmctld slurmd slurm-client munge >/dev/null
mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
chown munge:munge /run/munge
pgrep -x munged >/dev/null || munged --force
cpus=$(nproc)
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=bdltest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=localhost NodeHostname=localhost CPUs=$cpus RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 1 20); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 0.5; done
sinfo
