#!/usr/bin/env bash
# A single-node SLURM on this machine, to try sift's SLURM path (launch/slurm.sbatch) before a cluster does.
#
#   launch/slurm_local.sh up       # install slurm-wlm + munge if missing, start munged, slurmctld, slurmd
#   launch/slurm_local.sh status   # the daemons and `sinfo`
#   launch/slurm_local.sh down     # stop exactly the daemons `up` started and remove their state
#   launch/slurm_local.sh install  # only install slurm-wlm and munge if missing (launch/test.sh does)
#   launch/slurm_local.sh --help   # this text
#
# `up` prints `export SLURM_CONF=DIR/slurm.conf` on its last line (stdout); the SLURM commands (sbatch,
# squeue, scancel, scontrol, sinfo, srun) use this cluster once it is set:
#   eval "$(launch/slurm_local.sh up)"; sbatch ... launch/slurm.sbatch ...; launch/slurm_local.sh down
#
# One node named `hostname -s` at 127.0.0.1 with 2 CPUs (SIFT_SLURM_CPUS) and one partition, `local`;
# select/cons_tres by CPU, proctrack/linuxproc and task/none (no cgroups), JobRequeue=1, srun's MPI
# plugin pmix by default. Everything it makes lives in one directory, $SIFT_SLURM_DIR (default
# /tmp/sift-slurm): its own munge key and socket, slurm.conf, state, spool, PMIx folders, logs and
# pid files. It writes nothing under /etc, enables no systemd unit and does not touch a munged or SLURM already running on
# the machine (the ports are its own: $SIFT_SLURM_PORT for slurmctld, default 6917, and the next one
# for slurmd). Runs as root (slurmd starts jobs as their user). `up` is idempotent: with the daemons
# of this directory already running it only waits for the node to be idle.
set -euo pipefail
# shellcheck source=launch/lib.sh
. "$(dirname "$0")/lib.sh"
dir="${SIFT_SLURM_DIR:-/tmp/sift-slurm}"
port="${SIFT_SLURM_PORT:-6917}"
cpus="${SIFT_SLURM_CPUS:-2}"
node="$(hostname -s)"
conf="$dir/slurm.conf"
export SLURM_CONF="$conf"
cmd="${1:-}"

say() { echo "slurm_local: $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

# The pid a daemon of ours wrote, if that process still runs that program.
running() { # NAME (munged|slurmctld|slurmd)
    local f="$dir/$1.pid" pid
    [ -r "$f" ] || return 1
    pid=$(tr -dc 0-9 < "$f"); [ -n "$pid" ] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] || return 1
    echo "$pid"
}

stop() { # NAME
    local pid _
    pid=$(running "$1") || { rm -f "$dir/$1.pid"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then say "$1 (pid $pid) did not stop in 10 s; killing it"; kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$dir/$1.pid"
}

# Runs a daemon (it forks into the background) without the descriptors above 2 this script inherited:
# munged keeps them open, and a caller that waits for one of them to close (a pipe, or how Foundation's
# Process sees its child end) would wait as long as the daemon runs.
start_daemon() { # PROGRAM ARGS...
    (
        for fd in "/proc/$BASHPID/fd"/*; do
            fd=${fd##*/}
            [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
        done
        exec "$@" </dev/null >&2
    )
}

# SIGKILL to PID and every process below it (children first found, then each killed).
kill_tree() { # PID
    local child children
    # Each children file is one line of space-separated PIDs.
    children=$(cat /proc/"$1"/task/*/children 2>/dev/null)
    for child in $children; do kill_tree "$child"; done
    kill -KILL "$1" 2>/dev/null || true
}

node_state() { sinfo -h -n "$node" -o %T 2>/dev/null | head -n 1; }

install_packages() {
    local missing=() p
    for p in slurm-wlm munge; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "SLURM is not installed and apt-get is not available: install ${missing[*]} by hand"
    say "installing ${missing[*]} (Debian's packages)"
    apt-get update -qq >&2 || die "apt-get update failed: cannot install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
        || die "apt-get install ${missing[*]} failed"
}

write_config() {
    local plugins=/usr/lib/x86_64-linux-gnu/slurm-wlm mpi=pmix
    [ -d "$plugins" ] || plugins=$(dirname "$(dpkg -L slurm-wlm-basic-plugins 2>/dev/null | grep -m1 '/select_linear.so$')")
    [ -e "$plugins/mpi_pmix.so" ] || mpi=none
    cat > "$conf.new" <<EOF
# Written by launch/slurm_local.sh: a single-node SLURM for trying sift's SLURM path on one machine.
ClusterName=sift-local
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire is also how long a requeued job waits before it may start again (120 s by default).
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
PluginDir=$plugins
PlugStackConfig=$dir/plugstack.conf
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SwitchType=switch/none
MpiDefault=$mpi
JobRequeue=1
ReturnToService=2
MinJobAge=600
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# The node's CPUs as configured here, whatever this machine has (a job asks for at most these).
SlurmdParameters=config_overrides
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
    : > "$dir/plugstack.conf"
    # srun --mpi=pmix makes a folder per job step under /tmp by default, named by job and step id only:
    # one left by an earlier cluster (job ids start at 1 again) makes the step fail to launch.
    mkdir -p "$dir/pmix"
    echo "PMIxCliTmpDirBase=$dir/pmix" > "$dir/mpi.conf"
    if [ -e "$conf" ] && ! cmp -s "$conf" "$conf.new" && { running slurmctld >/dev/null || running slurmd >/dev/null; }; then
        say "slurm.conf changed; restarting slurmctld and slurmd"
        stop slurmd; stop slurmctld
    fi
    mv "$conf.new" "$conf"
}

up() {
    [ "$(id -u)" -eq 0 ] || die "launch/slurm_local.sh needs root (slurmd starts jobs as their user; munged and slurmd run as root)"
    install_packages
    for p in munged slurmctld slurmd sinfo scontrol; do
        command -v "$p" >/dev/null || [ -x "/usr/sbin/$p" ] || die "$p is not installed (Debian packages slurm-wlm and munge)"
    done
    export PATH="$PATH:/usr/sbin"
    mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
    # Other users may use this cluster: the socket's folder must be searchable; the key stays 0600.
    chmod 755 "$dir" "$dir/munge"
    # A port of ours taken by something else would make the daemons fail late; say so now.
    local q
    for q in "slurmctld $port" "slurmd $((port + 1))"; do
        if ! running "${q% *}" >/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/${q#* }") 2>/dev/null; then
            die "port ${q#* } (for ${q% *}) is already in use (another SLURM?); choose another pair with SIFT_SLURM_PORT"
        fi
    done
    write_config

    if ! running munged >/dev/null; then
        [ -s "$dir/munge/munge.key" ] || { dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none; chmod 600 "$dir/munge/munge.key"; }
        start_daemon munged --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" --pid-file="$dir/munged.pid" \
            --log-file="$dir/munged.log" --seed-file="$dir/munge/munged.seed" --force \
            || die "munged did not start: $(tail -n 3 "$dir/munged.log" 2>/dev/null)"
    fi
    if ! running slurmctld >/dev/null; then
        start_daemon slurmctld -f "$conf" -i || die "slurmctld did not start: $(tail -n 5 "$dir/slurmctld.log" 2>/dev/null)"
    fi
    if ! running slurmd >/dev/null; then
        start_daemon slurmd -f "$conf" || die "slurmd did not start: $(tail -n 5 "$dir/slurmd.log" 2>/dev/null)"
    fi
    local _ state=""
    for _ in $(seq 1 60); do
        state=$(node_state)
        case "$state" in idle*|mixed*|allocated*) break ;; esac
        # A node left down or drained by an earlier run of this directory comes back.
        case "$state" in down*|drain*) scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true ;; esac
        sleep 0.5
    done
    case "$state" in
        idle*|mixed*|allocated*) ;;
        *) die "the node $node is '${state:-unknown}' after 30 s (logs: $dir/slurmctld.log, $dir/slurmd.log)" ;;
    esac
    say "up: node $node ($cpus CPUs), partition local, slurmctld port $port, files in $dir"
    echo "export SLURM_CONF=$conf"
}

down() {
    local _ pid f
    if [ -r "$conf" ] && running slurmctld >/dev/null; then
        # The jobs of this cluster end with it.
        scancel --full "--partition=local" >/dev/null 2>&1 || true
        for _ in $(seq 1 30); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.5; done
    fi
    # A job step's slurmstepd outlives slurmd, and so may a job's srun: end those of this cluster, if
    # any are left, with what they started (a slurmstepd works in this directory, where slurmd runs;
    # a job's processes carry SLURM_JOB_ID and this SLURM_CONF in their environment).
    if [ -d "$dir" ]; then
        local self=" $$ $PPID "
        for f in /proc/[0-9]*/comm; do
            pid=${f#/proc/}; pid=${pid%/comm}
            [[ "$self" == *" $pid "* ]] && continue
            if [ "$(cat "$f" 2>/dev/null)" = slurmstepd ] && [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$dir" ]; then :
            elif grep -qzxF "SLURM_CONF=$conf" "/proc/$pid/environ" 2>/dev/null \
                 && grep -qz "^SLURM_JOB_ID=" "/proc/$pid/environ" 2>/dev/null; then :
            else continue; fi
            say "ending $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)(pid $pid) and what it started"
            kill_tree "$pid"
        done
    fi
    stop slurmd
    stop slurmctld
    stop munged
    if [ -d "$dir" ]; then
        # Only what `up` made: the directory holds nothing else unless the user put it there.
        rm -rf "$dir/state" "$dir/spool" "$dir/munge" "$dir"/*.log "$dir/pmix" "$conf" "$conf.new" "$dir/plugstack.conf" "$dir/mpi.conf"
        rmdir "$dir" 2>/dev/null || say "left $dir (it holds files this script did not make)"
    fi
    say "down"
}

status() {
    local n rc=0 pid
    for n in munged slurmctld slurmd; do
        if pid=$(running "$n"); then echo "$n: running (pid $pid)"; else echo "$n: not running"; rc=1; fi
    done
    if [ $rc -eq 0 ]; then sinfo; echo "export SLURM_CONF=$conf"; fi
    return $rc
}

case "$cmd" in
    -h|--help) script_help ;;
    up) up ;;
    install) [ "$(id -u)" -eq 0 ] || die "installing slurm-wlm and munge needs root"; install_packages ;;
    down) down ;;
    status) status ;;
    *) echo "usage: launch/slurm_local.sh up|down|status|install   (files in \$SIFT_SLURM_DIR, default /tmp/sift-slurm)" >&2; exit 64 ;;
esac
