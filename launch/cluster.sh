#!/usr/bin/env bash
# A cluster in a box: N hosts on this machine, each a Linux network namespace with its own address,
# hostname and (optionally) rate-limited link, joined by one bridge, plus the hostfile and the rsh
# agent that let launch/mpirun.sh start ranks on them exactly as it would over ssh.
#
#   launch/cluster.sh up N [--rate R] [--slots S] [--id K]   create (or adjust) the cluster; idempotent
#   launch/cluster.sh down [--id K]                          remove everything `up` made, nothing else
#   launch/cluster.sh status [--id K]                        list hosts, addresses, links, processes
#   launch/cluster.sh --help                                 this text
#
# Cluster K (1..254, default $SIFT_CLUSTER_ID or 1) owns the names siftcK-* and the addresses
# 10.213.K.0/24: hosts 10.213.K.1..N (namespace and hostname siftcK-hI, interface eth0), this machine
# 10.213.K.254 on the bridge siftcK-br (the login node mpirun runs on). The hosts have no route
# anywhere else. --rate (tc units: 200mbit, 1gbit, ...) shapes every host's link with a token bucket
# in both directions; without it the links run at memory speed. Files go to $SIFT_CLUSTER_DIR,
# default /run/siftcK: hostfile (one line per host, slots=S, default 1) and agent.
# Needs root, iproute2 and unshare; otherwise it refuses with one line.
set -uo pipefail
# shellcheck source=launch/lib.sh
. "$(dirname "$0")/lib.sh"
die() { echo "cluster: $*" >&2; exit 2; }

cmd="${1:-}"; [ $# -gt 0 ] && shift
n=""; rate=""; slots=1; id="${SIFT_CLUSTER_ID:-1}"
case "$cmd" in
    -h|--help) script_help; exit 0 ;;
    up) n="${1:-}"; [ $# -gt 0 ] && shift ;;
    down|status) ;;
    *) die "usage: launch/cluster.sh up N [--rate R] [--slots S] [--id K] | down [--id K] | status [--id K]" ;;
esac
while [ $# -gt 0 ]; do
    case "$1" in
        --rate) rate="${2:-}"; shift 2 || die "--rate needs a value (e.g. 1gbit)" ;;
        --slots) slots="${2:-}"; shift 2 || die "--slots needs a value" ;;
        --id) id="${2:-}"; shift 2 || die "--id needs a value" ;;
        *) die "unknown argument '$1'" ;;
    esac
done
# in_range VALUE PATTERN LOW HIGH: VALUE matches the regular expression PATTERN and lies in LOW..HIGH.
in_range() { [[ "$1" =~ $2 ]] && [ "$1" -ge "$3" ] && [ "$1" -le "$4" ]; }
in_range "$id" '^[0-9]{1,3}$' 1 254 || die "--id must be 1..254 (got '$id')"
if [ "$cmd" = up ]; then
    in_range "$n" '^[0-9]{1,2}$' 1 32 || die "up needs a host count 1..32 (got '$n')"
    in_range "$slots" '^[0-9]{1,3}$' 1 999 || die "--slots must be a positive integer (got '$slots')"
    [ -z "$rate" ] || [[ "$rate" =~ ^[0-9]+(\.[0-9]+)?(kbit|mbit|gbit)$ ]] || die "--rate must look like 500mbit or 1gbit (got '$rate')"
fi
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces and links); run as root or skip the cluster"
for tool in ip tc unshare; do command -v "$tool" >/dev/null || die "needs '$tool' (iproute2, util-linux), which is not installed"; done

prefix="siftc$id"
net="10.213.$id"
dir="${SIFT_CLUSTER_DIR:-/run/$prefix}"
bridge="$prefix-br"
hosts() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$prefix-h[0-9]+$" | sort -t h -k 2 -n; }

# Kills the processes left in a host (a lost host's rank and daemon) and removes it with its link.
remove_host() {
    local ns="$1" i="${1##*-h}"
    local pids; mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
    [ ${#pids[@]} -gt 0 ] && kill -9 "${pids[@]}" 2>/dev/null
    ip link del "$prefix-v$i" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
}

# tbf on one device: `rate` sustained, a burst of 2 ms of traffic (at least 128 KiB, above a veth's
# 64 KiB segments), packets queued at most 50 ms before being dropped.
shape() {
    local dev="$1" netns="$2" bits burst
    bits=$(awk -v r="$rate" 'BEGIN { m = r ~ /gbit/ ? 1e9 : r ~ /mbit/ ? 1e6 : 1e3; sub(/[a-z]+$/, "", r); print r * m }')
    burst=$(awk -v b="$bits" 'BEGIN { x = b / 8 * 0.002; if (x < 131072) x = 131072; printf "%d", x }')
    ip ${netns:+-n "$netns"} link set "$dev" up
    tc ${netns:+-n "$netns"} qdisc replace dev "$dev" root tbf rate "$rate" burst "$burst" latency 50ms
}

case "$cmd" in
up)
    ip netns list >/dev/null 2>&1 || die "network namespaces are not available here (ip netns list failed)"
    if ! ip link show "$bridge" >/dev/null 2>&1; then
        if ip -o addr show | grep -q " $net\."; then die "addresses $net.0/24 are already in use on this machine; pick another --id"; fi
        ip link add "$bridge" type bridge || die "cannot create bridge $bridge (no bridge support in this kernel?)"
    fi
    ip addr replace "$net.254/24" dev "$bridge" || die "cannot give $bridge the address $net.254"
    ip link set "$bridge" up
    for ns in $(hosts); do [ "${ns##*-h}" -gt "$n" ] && remove_host "$ns"; done
    for i in $(seq 1 "$n"); do
        ns="$prefix-h$i"; veth="$prefix-v$i"
        if ! ip netns list | awk '{print $1}' | grep -qx "$ns"; then
            ip netns add "$ns" || die "cannot create network namespace $ns"
        fi
        if ! ip link show "$veth" >/dev/null 2>&1; then
            ip -n "$ns" link del eth0 2>/dev/null
            ip link add "$veth" type veth peer name "$prefix-p$i" || die "cannot create veth pair $veth"
            { ip link set "$prefix-p$i" netns "$ns" && ip -n "$ns" link set "$prefix-p$i" name eth0; } || die "cannot move the link into $ns"
            ip link set "$veth" master "$bridge" || die "cannot attach $veth to $bridge"
        fi
        ip -n "$ns" addr replace "$net.$i/24" dev eth0 || die "cannot address $ns"
        { ip -n "$ns" link set lo up && ip -n "$ns" link set eth0 up && ip link set "$veth" up; } || die "cannot bring up $ns's link"
        if [ -n "$rate" ]; then
            { shape "$veth" "" && shape eth0 "$ns"; } || die "tc could not shape $ns's link to $rate"
        else
            tc qdisc del dev "$veth" root 2>/dev/null; tc -n "$ns" qdisc del dev eth0 root 2>/dev/null
        fi
    done
    mkdir -p "$dir" || die "cannot create $dir"
    {
        echo "# Cluster in a box $id: $n hosts (launch/cluster.sh up $n${rate:+ --rate $rate} --id $id). HOST slots=N"
        for i in $(seq 1 "$n"); do echo "$net.$i slots=$slots"; done
    } > "$dir/hostfile.tmp" && mv "$dir/hostfile.tmp" "$dir/hostfile"
    # shellcheck disable=SC2016,SC2028  # the single-quoted lines are the agent's own code, expanded when it runs
    {
        echo '#!/bin/sh'
        echo "# rsh agent for OpenMPI (plm_rsh_agent): runs the command on host \$1 of cluster $id, inside its"
        echo "# network namespace and with its own hostname, as ssh would on a real node."
        echo 'host="$1"; shift'
        echo 'case "$host" in'
        for i in $(seq 1 "$n"); do echo "  $net.$i|$prefix-h$i) ns=$prefix-h$i ;;"; done
        echo "  *) echo \"cluster agent: '\$host' is not a host of cluster $id (see $dir/hostfile)\" >&2; exit 255 ;;"
        echo 'esac'
        echo 'ip netns list | grep -q "^$ns\b" || { echo "cluster agent: host $host ($ns) is down" >&2; exit 255; }'
        echo 'exec ip netns exec "$ns" unshare --uts /bin/sh -c "hostname $ns; $*"'
    } > "$dir/agent.tmp" && chmod 755 "$dir/agent.tmp" && mv "$dir/agent.tmp" "$dir/agent"
    echo "cluster $id: $n hosts ${rate:+at $rate }on $bridge, hostfile $dir/hostfile, agent $dir/agent"
    echo "run: launch/mpirun.sh -np $((n * slots)) --hostfile $dir/hostfile --agent $dir/agent -- train ..."
    ;;
down)
    for ns in $(hosts); do remove_host "$ns"; done
    ip link del "$bridge" 2>/dev/null
    rm -f "$dir/hostfile" "$dir/agent"; rmdir "$dir" 2>/dev/null
    echo "cluster $id: down"
    ;;
status)
    if ! ip link show "$bridge" >/dev/null 2>&1 && [ -z "$(hosts)" ]; then echo "cluster $id: down"; exit 0; fi
    echo "cluster $id: bridge $bridge $(ip -o -4 addr show dev "$bridge" 2>/dev/null | awk '{print $4}'), files in $dir"
    for ns in $(hosts); do
        i="${ns##*-h}"
        addr=$(ip -n "$ns" -o -4 addr show dev eth0 2>/dev/null | awk '{print $4}')
        state=$(ip -n "$ns" -o link show eth0 2>/dev/null | grep -q "state UP\|LOWER_UP" && echo up || echo down)
        shaped=$(tc -n "$ns" qdisc show dev eth0 2>/dev/null | grep -o "rate [^ ]*" | head -n 1)
        echo "  $ns ${addr:-no address} link $state ${shaped:-unshaped}, $(ip netns pids "$ns" 2>/dev/null | wc -l) processes"
    done
    ;;
esac
