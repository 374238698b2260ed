#!/usr/bin/env bash
# Launches sift under mpirun with the settings this machine needs.
#
#   launch/mpirun.sh [-np N] [--hostfile FILE] [--agent PROGRAM] [--max-restarts K] [--min-np M] [--tcp-only]
#                    [--mca NAME VALUE]... [--dry-run] [--help] [--] SIFT_ARGS...
#
# - --agent PROGRAM starts the daemons on the hostfile's hosts with PROGRAM instead of ssh (OpenMPI's
#   plm_rsh_agent; launch/cluster.sh writes one for its namespace hosts);
# - OPENBLAS_NUM_THREADS = cores / ranks-per-node (at least 1), so ranks do not fight over cores;
# - --oversubscribe when more ranks than cores run on this machine (said so on stderr);
# - OMPI_ALLOW_RUN_AS_ROOT* when run as root;
# - --max-restarts K relaunches the job after a failure (a killed rank ends the whole MPI job);
#   the training command must then use --checkpoint-dir and --resume-or-start to continue where it
#   stopped (--resume-or-start: the first launch, with no checkpoint yet, starts from step 0).
#   --min-np M makes the restarts elastic: each relaunch uses one rank fewer (never below M), for a
#   job that lost a node; selections do not depend on the rank count, so the run continues exactly.
#   A host the job lost (named by a rank's watchdog, "lost rank R on host H", or by mpirun) is left
#   out of the hostfile of the restart.
#   Exit statuses 2 (bad input), 64 (usage), 75 (preempted) and 132-134 (a trap or abort: a
#   deterministic crash) are never restarted (docs/RELIABILITY.md has the table).
# - SIGINT (Ctrl-C), SIGTERM, SIGHUP or SIGUSR1 to this script is a preemption: every rank finishes its
#   step, writes a checkpoint and exits 75, which this script returns without restarting (SIGUSR1 to
#   mpirun, which forwards it). A job not stopped $SIFT_STOP_GRACE seconds (default 300) after the
#   interrupt, or after a third interrupt, is killed.
# - once a rank aborted, mpirun has $SIFT_ABORT_GRACE seconds (default 20) to end before it is killed:
#   an mpirun that lost a host otherwise waits ~15 minutes.
# - with --hostfile, OpenMPI's TCP progress thread is on (--mca btl_tcp_progress_thread 1): over TCP a
#   gradient bucket otherwise moves only while a rank is inside an MPI call, so overlap stalls between
#   them; `--mca btl_tcp_progress_thread 0` turns it off (docs/DECISIONS.md);
# - --dry-run checks everything (hostfile included), prints the mpirun command and the thread count
#   it would use, and exits without starting anything.
# The sift binary is $SIFT_BINARY, or the release build of this checkout (built by launch/setup.sh when
# SIFT_BINARY is not set: launch/lib.sh's sift_binary).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=launch/lib.sh
. "$here/lib.sh"
np=2
hostfile=""
agent=""
max_restarts=0
min_np=""
dry_run=0
progress_thread_set=0
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        -np|-n) need_value "$@"; np="$2"; shift 2 ;;
        --hostfile) need_value "$@"; hostfile="$2"; shift 2 ;;
        --agent) need_value "$@"; agent="$2"; shift 2 ;;
        --max-restarts) need_value "$@"; max_restarts="$2"; shift 2 ;;
        --min-np) need_value "$@"; min_np="$2"; shift 2 ;;
        --dry-run) dry_run=1; shift ;;
        --tcp-only) extra+=(--mca btl "tcp,self" --mca btl_tcp_if_include "${SIFT_TCP_IF:-lo}"); shift ;;
        --mca) [ $# -ge 3 ] || usage_error "--mca needs a name and a value"
               extra+=(--mca "$2" "$3"); [ "$2" = btl_tcp_progress_thread ] && progress_thread_set=1; shift 3 ;;
        -h|--help) script_help; exit 0 ;;
        --) shift; break ;;
        *) break ;;
    esac
done
if ! [[ "$np" =~ ^[1-9][0-9]*$ ]]; then echo "error: -np must be a positive integer (got '$np')" >&2; exit 2; fi
if ! [[ "$max_restarts" =~ ^[0-9]+$ ]]; then echo "error: --max-restarts must be a non-negative integer" >&2; exit 2; fi
if [ -n "$min_np" ] && { ! [[ "$min_np" =~ ^[1-9][0-9]*$ ]] || [ "$min_np" -gt "$np" ]; }; then
    echo "error: --min-np must be a positive integer no larger than -np (got '$min_np')" >&2; exit 2
fi
if [ -n "$agent" ]; then
    if [ -z "$hostfile" ]; then echo "error: --agent needs --hostfile (it starts ranks on the hostfile's hosts)" >&2; exit 2; fi
    if [ ! -x "$agent" ]; then echo "error: --agent $agent is not an executable program" >&2; exit 2; fi
    extra+=(--mca plm_rsh_agent "$agent")
fi
sift_binary

cores=$(nproc)
args=(-np "$np")
if [ -n "$hostfile" ]; then
    if [ ! -r "$hostfile" ]; then echo "error: cannot read hostfile $hostfile" >&2; exit 2; fi
    # Each non-comment line: HOST [slots=N] ... (N up to 6 digits); reject anything else before mpirun sees it.
    lineno=0; slots_total=0; hosts=0; host_names=(); host_lines=()
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        line="${line%%#*}"; [[ "$line" =~ ^[[:space:]]*$ ]] && continue
        if ! [[ "$line" =~ ^[[:space:]]*[A-Za-z0-9._-]+([[:space:]]+(slots|max_slots|max-slots)=[0-9]{1,6})*[[:space:]]*$ ]]; then
            echo "error: $hostfile:$lineno: expected 'HOST [slots=N]' (N at most 6 digits), got '$line'" >&2; exit 2
        fi
        s=$(sed -n 's/.*[[:space:]]slots=\([0-9]*\).*/\1/p' <<<"$line"); slots_total=$((slots_total + 10#${s:-1})); hosts=$((hosts + 1))
        read -r name _ <<<"$line"
        # OpenMPI 4.1 fails on a host listed twice with "internal error … should be reported": refuse it here.
        for i in "${!host_names[@]}"; do
            if [ "${host_names[$i]}" = "$name" ]; then
                echo "error: $hostfile:$lineno: host $name is listed twice (lines ${host_lines[$i]} and $lineno); give it one line with the sum of its slots" >&2; exit 2
            fi
        done
        host_names+=("$name"); host_lines+=("$lineno")
    done < "$hostfile"
    if [ "$hosts" -eq 0 ]; then echo "error: $hostfile names no hosts" >&2; exit 2; fi
    if [ "$slots_total" -eq 0 ]; then echo "error: $hostfile has no slots (every host says slots=0)" >&2; exit 2; fi
    args+=(--hostfile "$hostfile")
    [ "$progress_thread_set" = 1 ] || extra+=(--mca btl_tcp_progress_thread 1)
    per_node=$(( (np + slots_total - 1) / slots_total )); [ "$per_node" -lt 1 ] && per_node=1
    if [ "$np" -gt "$slots_total" ]; then
        echo "note: $np ranks exceed the $slots_total slots in $hostfile; oversubscribing" >&2
        args+=(--oversubscribe)
    fi
else
    per_node=$np
    if [ "$np" -gt "$cores" ]; then
        echo "note: $np ranks on $cores cores: oversubscribed, so this run cannot show speed-up" >&2
        args+=(--oversubscribe)
    fi
fi
threads=$(( cores / per_node )); [ "$threads" -lt 1 ] && threads=1
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-$threads}"
# Ranks' stdout is a pseudo-terminal under mpirun whatever ours is: tell them which display to use.
if [ -t 1 ]; then export SIFT_PROGRESS="${SIFT_PROGRESS:-bar}"; else export SIFT_PROGRESS="${SIFT_PROGRESS:-plain}"; fi
args+=(--bind-to none -x OPENBLAS_NUM_THREADS -x SIFT_PROGRESS)
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    args+=(--allow-run-as-root)
fi

# Every host of the hostfile other than this one must answer through the agent (ssh by default)
# before mpirun starts: a host that does not fails here in seconds with its name, instead of deep
# inside mpirun's daemon start-up.
if [ -n "$hostfile" ] && [ "$dry_run" = 0 ]; then
    if [ -n "$agent" ]; then probe=("$agent"); elif command -v ssh >/dev/null; then probe=(ssh -o BatchMode=yes -o ConnectTimeout=5); else probe=(); fi
    local_names=" localhost $(hostname 2>/dev/null) $(hostname -s 2>/dev/null) $(hostname -I 2>/dev/null) "
    for i in "${!host_names[@]}"; do
        h="${host_names[$i]}"
        [ ${#probe[@]} -eq 0 ] && break
        [[ "$h" == 127.* ]] || [[ "$local_names" == *" $h "* ]] && continue
        if ! why=$(timeout 15 "${probe[@]}" "$h" true 2>&1 </dev/null); then
            why=$(tr '\n' ' ' <<<"$why" | cut -c1-200)
            echo "error: $hostfile:${host_lines[$i]}: host $h does not answer through ${probe[0]}: ${why:-timed out after 15 s}" >&2; exit 2
        fi
    done
fi

if [ "$dry_run" = 1 ]; then
    echo "OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS mpirun ${args[*]} ${extra[*]} $bin $*"
    exit 0
fi
attempt=0
# mpirun runs in the background so that this script stays in charge.
# - An interrupt (SIGINT: Ctrl-C; SIGTERM: a scheduler or `kill`; SIGHUP: the terminal closed; SIGUSR1)
#   becomes a preemption: this script sends SIGUSR1 to mpirun, which forwards it to every rank; the ranks
#   finish the step, write one checkpoint and exit 75, which this script returns without restarting.
#   mpirun runs in a session of its own (setsid) so that a Ctrl-C in the terminal reaches only this
#   script: mpirun 4.1 answers SIGINT/SIGTERM itself by killing the ranks 1 s later
#   (odls_base_sigkill_timeout) and exiting 1 whatever they returned. A job still running
#   $SIFT_STOP_GRACE seconds (default 300) after the interrupt, or after a third one, is killed.
# - A job whose rank aborted gets $SIFT_ABORT_GRACE seconds (default 20) to end; an mpirun still
#   waiting then (for the daemon of a host it lost: its kill order sits in a TCP queue to a dead link,
#   which TCP retries for 15 minutes) is killed. The daemons on the hosts it still reaches see it go
#   and end their ranks.
grace="${SIFT_ABORT_GRACE:-20}"
stop_grace="${SIFT_STOP_GRACE:-300}"
mpirun_pid=""; ending_since=""; stopping_since=""; interrupted=""; interrupts=0
stop() {
    interrupts=$((interrupts + 1))
    if [ -z "$interrupted" ]; then
        interrupted=$1; stopping_since=$SECONDS
        echo "launch: SIG$1: every rank finishes its step and writes a checkpoint (exit 75; continue with --resume)" >&2
    elif [ "$interrupts" -ge 3 ]; then
        stopping_since=$((SECONDS - stop_grace))
    else
        echo "launch: still stopping (writing the checkpoint); a third interrupt kills the job" >&2
    fi
    [ -n "$mpirun_pid" ] && kill -USR1 "$mpirun_pid" 2>/dev/null
}
trap 'stop INT' INT
trap 'stop TERM' TERM
trap 'stop HUP' HUP
trap 'stop USR1' USR1
own_session=(); command -v setsid >/dev/null && own_session=(setsid)
errlog=$(mktemp); trap 'rm -f "$errlog" "$errlog".hosts*' EXIT
# Exit statuses never restarted (the table is Core's ExitStatus, written out in docs/RELIABILITY.md):
# 2 bad input or data, 64 usage, 75 preempted, and a deterministic crash (132 SIGILL, 133 SIGTRAP:
# a Swift trap; 134 SIGABRT) — a relaunch would meet them again. Everything else is restarted with
# --max-restarts: 1 (a failure), 3 and 4 (an MPI error, the watchdog: a stalled or lost rank), a rank
# killed by another signal, and mpirun's own failures.
final_statuses=" 2 64 75 132 133 134 "
while :; do
    if [ -n "$interrupted" ]; then echo "launch: interrupted between attempts; continue with --resume" >&2; exit 75; fi
    : > "$errlog"; ending_since=""; signalled=0
    "${own_session[@]}" mpirun "${args[@]}" "${extra[@]}" "$bin" "$@" 2>"$errlog" &
    mpirun_pid=$!
    # An interrupt that came while mpirun was being started reaches it now.
    [ -n "$interrupted" ] && kill -USR1 "$mpirun_pid" 2>/dev/null
    tail -f -n +1 --pid="$mpirun_pid" "$errlog" >&2 &
    tail_pid=$!
    while kill -0 "$mpirun_pid" 2>/dev/null; do
        if [ -z "$ending_since" ] && grep -qE "MPI_ABORT was invoked|ORTE has lost communication|error: watchdog:" "$errlog"; then
            ending_since=$SECONDS
        fi
        if [ $signalled = 0 ] && [ -n "$ending_since" ] && [ $((SECONDS - ending_since)) -ge "$grace" ]; then
            # Not SIGTERM: mpirun 4.1, asked to stop while an abort is in progress, "forcibly
            # terminates" and crashes in PMIx_Finalize.
            echo "launch: mpirun has not ended $grace s after the job began to stop (a lost host?); killing it" >&2
            kill -KILL "$mpirun_pid" 2>/dev/null; signalled=1
        fi
        if [ $signalled = 0 ] && [ -n "$stopping_since" ] && [ $((SECONDS - stopping_since)) -ge "$stop_grace" ]; then
            echo "launch: the job has not stopped $((SECONDS - stopping_since)) s after SIG$interrupted; killing it" >&2
            kill -KILL "$mpirun_pid" 2>/dev/null; signalled=1
        fi
        sleep 1 & wait $! 2>/dev/null
    done
    wait "$mpirun_pid" 2>/dev/null; rc=$?
    wait "$tail_pid" 2>/dev/null
    mpirun_pid=""
    [ $rc -eq 0 ] && exit 0
    # mpirun's own account of a daemon that never called back does not say which host it was.
    if [ -n "$hostfile" ] && grep -qE "unable to reliably start one or more daemons|unable to complete a TCP connection" "$errlog"; then
        for h in "${host_names[@]}"; do
            why=$(timeout 3 bash -c "</dev/tcp/$h/9" 2>&1); code=$?
            if [ $code -eq 124 ] || grep -qiE "no route|unreachable|timed out" <<<"$why"; then
                echo "error: mpirun could not start on host $h of $hostfile: it does not answer from here (${why:-no answer in 3 s}); fix its network or leave it out" >&2
            fi
        done
    fi
    # 75: every rank checkpointed and stopped (an interrupt, or a scheduler's preemption): the job is
    # going away, so it is not restarted here; the scheduler requeues it and `--resume` continues.
    if [ $rc -eq 75 ]; then echo "launch: preempted; checkpoint written, continue with --resume" >&2; exit 75; fi
    if [ -n "$interrupted" ]; then echo "launch: the job ended with exit code $rc after SIG$interrupted; not restarted" >&2; exit $rc; fi
    if [[ "$final_statuses" == *" $rc "* ]]; then
        [ "$max_restarts" -gt 0 ] && echo "launch: exit code $rc is not restarted (docs/RELIABILITY.md, exit codes)" >&2
        exit $rc
    fi
    [ $attempt -ge "$max_restarts" ] && exit $rc
    attempt=$((attempt + 1))
    # Hosts the job lost (named by a rank's watchdog, or by mpirun) leave the hostfile of the restart.
    if [ -n "$hostfile" ]; then
        lost=$( { sed -n 's/.* lost rank [0-9]* on host \([^ ]*\) (\([^)]*\)).*/\1 \2/p' "$errlog";
                  sed -n 's/.*Remote daemon:.* on node \([^ ]*\).*/\1/p' "$errlog"; } | tr ', ' '\n' | sed '/^$/d' | sort -u)
        if [ -n "$lost" ]; then
            awk -v lost="$lost" 'BEGIN { n = split(lost, l, "\n"); for (i = 1; i <= n; i++) gone[l[i]] = 1 }
                 { line = $0; sub(/#.*/, "", line); split(line, f, " ") } !(f[1] in gone)' "$hostfile" > "$errlog.hosts$attempt"
            if grep -qvE '^[[:space:]]*(#|$)' "$errlog.hosts$attempt"; then
                echo "launch: lost host(s) $(tr '\n' ' ' <<<"$lost")- relaunching without them" >&2
                hostfile="$errlog.hosts$attempt"
                for i in "${!args[@]}"; do [ "${args[$i]}" = --hostfile ] && args[i + 1]="$hostfile"; done
            fi
        fi
    fi
    if [ -n "$min_np" ] && [ "$np" -gt "$min_np" ]; then
        np=$((np - 1)); args[1]="$np"
        echo "launch: job failed with exit code $rc; restart $attempt of $max_restarts on $np ranks" >&2
        continue
    fi
    echo "launch: job failed with exit code $rc; restart $attempt of $max_restarts" >&2
done
