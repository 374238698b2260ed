#!/usr/bin/env bash
# Launches sift under mpirun with the settings this machine needs.
#
#   launch/mpirun.sh [-np N] [--hostfile FILE] [--max-restarts K] [--min-np M] [--tcp-only] [--dry-run] [--] SIFT_ARGS...
#
# - OPENBLAS_NUM_THREADS = cores / ranks-per-node (at least 1), so ranks do not fight over cores;
# - --oversubscribe when more ranks than cores run on this machine (said so on stderr);
# - OMPI_ALLOW_RUN_AS_ROOT* when run as root;
# - --max-restarts K relaunches the job after a failure (a killed rank ends the whole MPI job);
#   the training command must then use --checkpoint-dir and --resume to continue where it stopped.
#   --min-np M makes the restarts elastic: each relaunch uses one rank fewer (never below M), for a
#   job that lost a node; selections do not depend on the rank count, so the run continues exactly.
#   A preempted run (SIGUSR1 to mpirun is forwarded to every rank; SIGTERM to any rank) checkpoints,
#   exits with status 75 and is not restarted.
# - --dry-run checks everything (hostfile included), prints the mpirun command and the thread count
#   it would use, and exits without starting anything.
# The sift binary is $SIFT_BINARY, or the release build of this checkout.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
np=2
hostfile=""
max_restarts=0
min_np=""
dry_run=0
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        -np|-n) np="$2"; shift 2 ;;
        --hostfile) hostfile="$2"; shift 2 ;;
        --max-restarts) max_restarts="$2"; shift 2 ;;
        --min-np) min_np="$2"; shift 2 ;;
        --dry-run) dry_run=1; shift ;;
        --tcp-only) extra+=(--mca btl tcp,self --mca btl_tcp_if_include "${SIFT_TCP_IF:-lo}"); shift ;;
        --mca) extra+=(--mca "$2" "$3"); shift 3 ;;
        --) shift; break ;;
        *) break ;;
    esac
done
if ! [[ "$np" =~ ^[1-9][0-9]*$ ]]; then echo "error: -np must be a positive integer (got '$np')" >&2; exit 2; fi
if ! [[ "$max_restarts" =~ ^[0-9]+$ ]]; then echo "error: --max-restarts must be a non-negative integer" >&2; exit 2; fi
if [ -n "$min_np" ] && { ! [[ "$min_np" =~ ^[1-9][0-9]*$ ]] || [ "$min_np" -gt "$np" ]; }; then
    echo "error: --min-np must be a positive integer no larger than -np (got '$min_np')" >&2; exit 2
fi
bin="${SIFT_BINARY:-$here/../.build/release/sift}"
if [ ! -x "$bin" ]; then echo "error: sift binary not found at $bin (run launch/setup.sh first)" >&2; exit 2; fi

cores=$(nproc)
args=(-np "$np")
if [ -n "$hostfile" ]; then
    if [ ! -r "$hostfile" ]; then echo "error: cannot read hostfile $hostfile" >&2; exit 2; fi
    # Each non-comment line: HOST [slots=N] ... (N up to 6 digits); reject anything else before mpirun sees it.
    lineno=0; slots_total=0; hosts=0
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        line="${line%%#*}"; [[ "$line" =~ ^[[:space:]]*$ ]] && continue
        if ! [[ "$line" =~ ^[[:space:]]*[A-Za-z0-9._-]+([[:space:]]+(slots|max_slots|max-slots)=[0-9]{1,6})*[[:space:]]*$ ]]; then
            echo "error: $hostfile:$lineno: expected 'HOST [slots=N]' (N at most 6 digits), got '$line'" >&2; exit 2
        fi
        s=$(sed -n 's/.*[[:space:]]slots=\([0-9]*\).*/\1/p' <<<"$line"); slots_total=$((slots_total + 10#${s:-1})); hosts=$((hosts + 1))
    done < "$hostfile"
    if [ "$hosts" -eq 0 ]; then echo "error: $hostfile names no hosts" >&2; exit 2; fi
    if [ "$slots_total" -eq 0 ]; then echo "error: $hostfile has no slots (every host says slots=0)" >&2; exit 2; fi
    args+=(--hostfile "$hostfile")
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

if [ "$dry_run" = 1 ]; then
    echo "OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS mpirun ${args[*]} ${extra[*]} $bin $*"
    exit 0
fi
attempt=0
while :; do
    mpirun "${args[@]}" "${extra[@]}" "$bin" "$@"
    rc=$?
    [ $rc -eq 0 ] && exit 0
    # Exit codes 2 and 64 are usage/validation errors: restarting cannot fix them. 75: a rank was asked
    # to stop (SIGTERM/SIGINT/SIGUSR1 — a scheduler's preemption) and checkpointed: the job is going
    # away, so do not restart here; the scheduler requeues it and `--resume` continues.
    if [ $rc -eq 75 ]; then echo "launch: preempted; checkpoint written, continue with --resume" >&2; exit 75; fi
    if [ $rc -eq 2 ] || [ $rc -eq 64 ] || [ $attempt -ge "$max_restarts" ]; then exit $rc; fi
    attempt=$((attempt + 1))
    if [ -n "$min_np" ] && [ "$np" -gt "$min_np" ]; then
        np=$((np - 1)); args[1]="$np"
        echo "launch: job failed with exit code $rc; restart $attempt of $max_restarts on $np ranks" >&2
        continue
    fi
    echo "launch: job failed with exit code $rc; restart $attempt of $max_restarts" >&2
done
