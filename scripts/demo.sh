#!/usr/bin/env bash
# `make demo`: the gateway with ESP on the card, against strongSwan and against itself.
#
#   1. Two network namespaces joined by a veth pair (198.18.0.1 <-> 198.18.0.2), a "subnet" behind
#      each (192.0.2.1 and 198.51.100.1, RFC 5737).
#   2. accel-iked with ESP on the simulated card (the RTL in Verilator, through the real driver and
#      runtime) on one side, strongSwan 5.9 (charon with kernel-libipsec) on the other; IKEv2 with
#      PSK, AES-GCM-256 / Curve25519, ESP AES-GCM-128 in UDP 4500.
#   3. Ping both ways and a short iperf3 TCP run through the tunnel, then a summary: SAs,
#      algorithms, throughput, the card's counters.
#   4. The same with accel-iked on both sides.
#   5. Everything torn down (also on Ctrl-C): daemons by process id, namespaces.
#
# Usage: scripts/demo.sh [build dir]   (make demo calls it after building)
# Options (environment):
#   DEMO_DEVICE=sim|soft   the card: sim (default, the Verilator card) or soft (the software model
#                          of the card: much faster, the same driver and runtime)
#   DEMO_SECONDS=N         iperf3 length in seconds (default 3)
#   DEMO_KEEP=1            keep the logs (printed path)
# Needs root for the namespaces; says so and stops otherwise.
set -u
B="$(readlink -f "${1:-build}")"
cd "$(dirname "$0")/.."
DEV="${DEMO_DEVICE:-sim}"
SECS="${DEMO_SECONDS:-3}"
ACCEL_IKED="$B/host/ike/daemon/accel-iked"
ACCEL_IKECTL="$B/host/ike/daemon/accel-ikectl"
ACCEL_CARDCTL="$B/host/tools/accel-cardctl"

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ok() { printf '   \033[32mok\033[0m  %s\n' "$*"; }
info() { printf '        %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: needs root: it creates network namespaces, a veth pair and TUN devices." >&2
  echo "      Run it as root (sudo make demo). Nothing was changed." >&2
  exit 2
fi
for f in "$ACCEL_IKED" "$ACCEL_IKECTL" "$ACCEL_CARDCTL"; do
  [ -x "$f" ] || { echo "demo: $f is missing; run 'make build' first" >&2; exit 2; }
done
for t in ip ping iperf3 swanctl python3; do
  command -v "$t" >/dev/null 2>&1 || { echo "demo: $t is missing; run 'make deps'" >&2; exit 2; }
done
[ -x /usr/lib/ipsec/charon ] || { echo "demo: strongSwan's charon is missing; run 'make deps'" >&2; exit 2; }
case "$DEV" in sim|soft) ;; *) echo "demo: DEMO_DEVICE must be sim or soft" >&2; exit 2 ;; esac

export IT_KEEP="${DEMO_KEEP:-0}"
# shellcheck source=../tests/interop/lib.sh
. tests/interop/lib.sh
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, tearing down"; exit 130' INT TERM
IKED_ARGS="--device $DEV"

# json <file> <python expression over j>: a field of a JSON document.
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

iperf_run() {  # iperf_run <label>: TCP from A's subnet to B's for $SECS seconds; prints Mbit/s
  ip netns exec "$NS_B" iperf3 -s -1 -B "$B_NET.1" -p 5201 >"$IT_DIR/iperf-s.out" 2>&1 &
  remember $! "$(command -v iperf3)"
  sleep 0.3
  if ! ip netns exec "$NS_A" timeout $((SECS + 20)) iperf3 -c "$B_NET.1" -B "$A_NET.1" -p 5201 -t "$SECS" -J \
      >"$IT_DIR/iperf.json" 2>"$IT_DIR/iperf.err"; then
    cat "$IT_DIR/iperf.err" >&2
    return 1
  fi
  json "$IT_DIR/iperf.json" "'%.1f' % (j['end']['sum_received']['bits_per_second']/1e6)"
}

ping_check() {  # ping_check <from ns> <from addr> <to addr>
  ip netns exec "$1" ping -c 5 -i 0.2 -W 3 -I "$2" "$3" >"$IT_DIR/ping.out" 2>&1 || { cat "$IT_DIR/ping.out" >&2; return 1; }
  grep -oE '[0-9]+ received|rtt [^=]+= [0-9./]+ ms' "$IT_DIR/ping.out" | tr '\n' ' '
}

summary() {  # summary <our daemon name>
  ctl_of "$1" --json list >"$IT_DIR/list.json"
  ctl_of "$1" --json stats >"$IT_DIR/stats.json"
  json "$IT_DIR/list.json" "'\n'.join('IKE SA %s %s <-> %s  %s%s' % (s['id'], s['local'], s['remote'], s['algorithms'], ', NAT-T' if s['nat'] else '') for s in j['sas'])" | sed 's/^/        /'
  json "$IT_DIR/list.json" "'\n'.join('  CHILD %s %s  SPIs in %s out %s  %s === %s  in %d pkts / out %d pkts' % (c['name'], c['algorithms'], c['spi_in'], c['spi_out'], ','.join(c['local_ts']) if isinstance(c['local_ts'], list) else c['local_ts'], ','.join(c['remote_ts']) if isinstance(c['remote_ts'], list) else c['remote_ts'], c['packets_in'], c['packets_out']) for s in j['sas'] for c in s['children'])" | sed 's/^/        /'
  info "the card's SAs (accel-cardctl --control <socket> card sas):"
  "$ACCEL_CARDCTL" --control "$IT_DIR/$1/ctl" card sas 2>&1 | sed 's/^/          /'
  sleep 1.1  # the metrics file is rewritten every second
  if [ -f "$IT_DIR/metrics.prom" ]; then
    info "Prometheus text file ($(grep -vc '^#' "$IT_DIR/metrics.prom") samples), for example:"
    grep -E '^ipsec_accel_gateway_(encrypted|decrypted)_packets_total' "$IT_DIR/metrics.prom" | sed 's/^/          /'
  fi
  json "$IT_DIR/stats.json" "(lambda d: 'data path: %s (%s)  from TUN %d, ESP in %d, encrypted %d, decrypted %d, through the card %d, on the host %d, dropped %d %s, policy violations %d, device errors %d' % (d['engine'], d['device'], d['tun_in'], d['esp_in'], d['encrypted'], d['decrypted'], d['via_card'], d['via_host'], d['dropped'], d['drop_reasons'] or '', d['policy_violations'], d['device_errors']))(j['data_path'])" | sed 's/^/        /'
}

start_pair() {  # start_pair charon|ours: the peer in B, ours in A, up and routed
  local peer="$1"
  ours_conf "$IT_DIR/a.conf" @a.example.org @b.example.org $A_IP $B_IP $A_NET $B_NET aes256gcm16-prfsha256-x25519 aes128gcm16 psk
  if [ "$peer" = charon ]; then
    charon_conf "$IT_DIR/b.conf" @b.example.org @a.example.org $B_IP $A_IP $B_NET $A_NET aes256gcm16-prfsha256-x25519 aes128gcm16 psk
    start_charon "$NS_B" charon "$IT_DIR/b.conf"
  else
    ours_conf "$IT_DIR/b.conf" @b.example.org @a.example.org $B_IP $A_IP $B_NET $A_NET aes256gcm16-prfsha256-x25519 aes128gcm16 psk
    start_ours "$NS_B" peer "$IT_DIR/b.conf" "accb${IT_ID}"
    ip -n "$NS_B" route replace "$A_NET.0/24" dev "accb${IT_ID}" src "$B_NET.1"
  fi
  IKED_ARGS="--device $DEV --metrics-file $IT_DIR/metrics.prom" start_ours "$NS_A" ours "$IT_DIR/a.conf"
  ip -n "$NS_A" route replace "$B_NET.0/24" dev "acc${IT_ID}" src "$A_NET.1"
  local t0=$SECONDS
  ctl_of ours initiate gw net >/dev/null || fail "initiate"
  wait_for 20 ours_established ours || { dump_logs; fail "the tunnel did not come up"; }
  ok "IKE_SA and CHILD_SA established in $((SECONDS - t0)) s or less"
}

run_part() {  # run_part <title> charon|ours
  bold "$1"
  make_namespaces
  ok "namespaces $NS_A and $NS_B, veth $A_IP <-> $B_IP, subnets $A_NET.1 and $B_NET.1 behind them"
  start_pair "$2"
  local p
  p=$(ping_check "$NS_A" "$A_NET.1" "$B_NET.1") || { dump_logs; fail "ping A -> B through the tunnel"; }
  ok "ping $A_NET.1 -> $B_NET.1: $p"
  p=$(ping_check "$NS_B" "$B_NET.1" "$A_NET.1") || { dump_logs; fail "ping B -> A through the tunnel"; }
  ok "ping $B_NET.1 -> $A_NET.1: $p"
  local mbps
  mbps=$(iperf_run) || { dump_logs; fail "iperf3 through the tunnel"; }
  ok "iperf3 TCP, $SECS s, $A_NET.1 -> $B_NET.1: $mbps Mbit/s"
  bold "Summary ($1)"
  summary ours
  cleanup
  PIDS=()
  IT_DIR="$(mktemp -d /tmp/ipsec-demo.XXXXXX)"
}

card_name() { [ "$DEV" = sim ] && echo "the Verilator card (RTL through the real driver)" || echo "the software model of the card"; }

run_part "Our gateway (ESP on $(card_name)) <-> strongSwan 5.9 (kernel-libipsec)" charon
run_part "Our gateway <-> our gateway (ESP on $(card_name) on both sides)" ours

bold "Done"
info "Everything was torn down. For the software model of the card (faster): DEMO_DEVICE=soft make demo;"
info "for a longer iperf3 run: DEMO_SECONDS=20 make demo. Benchmarks: docs/performance.md."
