#!/usr/bin/env bash
# mpi-two-hosts.sh - an MPI job across two "hosts" on one machine: two network namespaces,
# each with its own address (10.77.0.1, 10.77.0.2) and hostname, joined by a veth pair, so
# that Open MPI sees two nodes and its ranks talk TCP between them, as on two machines.
# mpirun starts the remote side through this script as its rsh agent instead of ssh.
# Needs root (ip netns, unshare).
#   Scripts/mpi-two-hosts.sh COMMAND...      e.g. Scripts/mpi-two-hosts.sh .build/release/picasso train …
set -euo pipefail
if [ "${1:-}" = "--agent" ]; then  # called by mpirun as: --agent HOST COMMAND…
  host=$2; shift 2
  case "$host" in
    10.77.0.1) ns=picasso-a name=host-a ;;
    10.77.0.2) ns=picasso-b name=host-b ;;
    *) echo "mpi-two-hosts: unknown host $host" >&2; exit 1 ;;
  esac
  exec ip netns exec "$ns" unshare --uts /bin/sh -c "hostname $name; exec /bin/sh -c \"\$0\"" "$*"
fi
[ $# -ge 1 ] || { echo "usage: $0 COMMAND..." >&2; exit 2; }
SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
HOSTS=$(mktemp)
cleanup() { ip netns del picasso-a 2>/dev/null || true; ip netns del picasso-b 2>/dev/null || true; rm -f "$HOSTS"; }
trap cleanup EXIT
cleanup
ip netns add picasso-a
ip netns add picasso-b
ip link add veth-a netns picasso-a type veth peer name veth-b netns picasso-b
ip -n picasso-a addr add 10.77.0.1/24 dev veth-a
ip -n picasso-b addr add 10.77.0.2/24 dev veth-b
for n in a b; do ip -n picasso-$n link set veth-$n up; ip -n picasso-$n link set lo up; done
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' > "$HOSTS"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# --bind-to none: both "hosts" share this machine's cores, each rank may use all of them.
ip netns exec picasso-a unshare --uts /bin/sh -c 'hostname host-a; exec "$@"' sh \
  mpirun --hostfile "$HOSTS" --mca plm_rsh_agent "$SELF --agent" --mca btl tcp,self --bind-to none \
  -x PATH -np 2 "$@"
