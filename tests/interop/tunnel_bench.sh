#!/usr/bin/env bash
# The tunnel benchmark (docs/performance.md, "Tunnel"): in one run and one namespace topology
# (two namespaces joined by a veth pair, a subnet address behind each):
#   bare       iperf3 TCP over the bare veth (198.18.0.1 -> 198.18.0.2)
#   strongswan iperf3 TCP through strongSwan <-> strongSwan (charon, kernel-libipsec: ESP in user
#              space over TUN, as the project's peer runs here), ESP AES-GCM-128 in UDP 4500
#   ours-soft  iperf3 TCP through accel-iked <-> accel-iked, ESP on the software model of the card
#              (the real driver and runtime, --device soft), the same proposals
#   ours-sim   packets per second through accel-iked <-> accel-iked with ESP on the Verilator card
#              (--device sim): iperf3 UDP, 200-byte datagrams, counted at the receiver
# and the ratios ours-soft / strongswan and ours-soft / bare. TCP throughput on a shared 2-core
# machine varies by +-15 % from one 5 s run to the next, so the three TCP runs repeat in
# TUNNEL_BENCH_ROUNDS rounds (default 3), each round bare, strongSwan, ours back to back; every
# round's figures and ratios are recorded (<name>_r<k>) and the headline figures are the medians
# (the ratios: the median of the per-round ratios, each taken within one round).
# Usage: tunnel_bench.sh <accel-iked> <accel-ikectl> [seconds, default 5]
# Writes "tunnel_bench <name> <value> <unit>" lines to $TUNNEL_BENCH_OUT (default: stdout only).
# TUNNEL_BENCH_RUNS selects runs (default "bare strongswan soft sim"; the ratios need the first
# three); TUNNEL_BENCH_STATS=1 prints both gateways' data path counters after the soft run.
# Exit 77 (skipped) without root or strongSwan or iperf3.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ACCEL_IKED="$(readlink -f "$1")"; ACCEL_IKECTL="$(readlink -f "$2")"
SECS="${3:-5}"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
need_root_and_tools
command -v iperf3 >/dev/null || { echo "tunnel_bench: iperf3 missing (make deps)"; exit 77; }
trap cleanup EXIT
trap 'exit 130' INT TERM
OUT="${TUNNEL_BENCH_OUT:-/dev/null}"
: >"$OUT"

record() {  # record <name> <value> <unit>
  printf 'tunnel_bench %s %s %s\n' "$1" "$2" "$3" | tee -a "$OUT"
}

field() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

tcp() {  # tcp <from addr> <to addr>: Mbit/s received
  ip netns exec "$NS_B" iperf3 -s -1 -B "$2" -p 5201 >"$IT_DIR/iperf-s.out" 2>&1 &
  remember $! "$(command -v iperf3)"
  sleep 0.3
  ip netns exec "$NS_A" timeout $((SECS + 30)) iperf3 -c "$2" -B "$1" -p 5201 -t "$SECS" -O 1 -J \
    >"$IT_DIR/iperf.json" 2>"$IT_DIR/iperf.err" || { cat "$IT_DIR/iperf.err" "$IT_DIR/iperf.json" >&2; return 1; }
  log "$1 -> $2: $(field "$IT_DIR/iperf.json" "'%d TCP retransmissions' % j['end']['sum_sent'].get('retransmits', -1)")"
  field "$IT_DIR/iperf.json" "'%.1f' % (j['end']['sum_received']['bits_per_second']/1e6)"
}

udp_pps() {  # udp_pps <from addr> <to addr> <offered Mbit/s>: datagrams per second received
  ip netns exec "$NS_B" iperf3 -s -1 -B "$2" -p 5202 >"$IT_DIR/iperf-s.out" 2>&1 &
  remember $! "$(command -v iperf3)"
  sleep 0.3
  ip netns exec "$NS_A" timeout $((SECS + 30)) iperf3 -u -c "$2" -B "$1" -p 5202 -t "$SECS" -l 200 -b "${3}M" -J \
    >"$IT_DIR/iperf.json" 2>"$IT_DIR/iperf.err" || { cat "$IT_DIR/iperf.err" >&2; return 1; }
  field "$IT_DIR/iperf.json" "'%.0f' % ((j['end']['sum']['packets'] - j['end']['sum']['lost_packets']) / j['end']['sum']['seconds'])"
}

next_topology() {
  cleanup
  PIDS=()
  IT_DIR="$(mktemp -d /tmp/ipsec-tbench.XXXXXX)"
  make_namespaces
}

ours_pair() {  # ours_pair <device>: accel-iked on both sides, tunnel up and routed
  IKED_ARGS="--device $1"
  ours_conf "$IT_DIR/a.conf" @a.example.org @b.example.org $A_IP $B_IP $A_NET $B_NET aes256gcm16-prfsha256-x25519 aes128gcm16 psk
  ours_conf "$IT_DIR/b.conf" @b.example.org @a.example.org $B_IP $A_IP $B_NET $A_NET aes256gcm16-prfsha256-x25519 aes128gcm16 psk
  start_ours "$NS_B" peer "$IT_DIR/b.conf" "accb${IT_ID}"
  start_ours "$NS_A" ours "$IT_DIR/a.conf"
  ip -n "$NS_A" route replace "$B_NET.0/24" dev "acc${IT_ID}" src "$A_NET.1"
  ip -n "$NS_B" route replace "$A_NET.0/24" dev "accb${IT_ID}" src "$B_NET.1"
  ctl_of ours initiate gw net >/dev/null || fail "initiate"
  wait_for 20 ours_established ours || { dump_logs; fail "our tunnel did not come up"; }
}

RUNS="${TUNNEL_BENCH_RUNS:-bare strongswan soft sim}"
ROUNDS="${TUNNEL_BENCH_ROUNDS:-3}"
want() { case " $RUNS " in *" $1 "*) return 0;; *) return 1;; esac; }
median() { python3 -c "import statistics,sys; print('%.${2:-1}f' % statistics.median(float(x) for x in sys.argv[1].split()))" "$1"; }

log "tunnel benchmark: $SECS s per run, $ROUNDS round(s) of ($RUNS)"
bare_all="" ss_all="" soft_all="" r1_all="" r2_all=""
make_namespaces
for round in $(seq 1 "$ROUNDS"); do
  bare="" ss="" soft=""
  if want bare; then
    next_topology
    bare=$(tcp $A_IP $B_IP) || fail "iperf3 over the bare veth"
    record "bare_tcp_r$round" "$bare" Mbit/s
    bare_all="$bare_all $bare"
  fi

  if want strongswan; then
    next_topology
    charon_conf "$IT_DIR/a.conf" @a.example.org @b.example.org $A_IP $B_IP $A_NET $B_NET aes256gcm16-prfsha256-x25519 aes128gcm16 psk
    charon_conf "$IT_DIR/b.conf" @b.example.org @a.example.org $B_IP $A_IP $B_NET $A_NET aes256gcm16-prfsha256-x25519 aes128gcm16 psk
    start_charon "$NS_B" charon-b "$IT_DIR/b.conf"
    start_charon "$NS_A" charon-a "$IT_DIR/a.conf"
    swanctl_of charon-a --initiate --child net >"$IT_DIR/initiate.out" 2>&1 || { cat "$IT_DIR/initiate.out" >&2; fail "charon initiate"; }
    wait_for 10 charon_established charon-a || { dump_logs; fail "strongSwan tunnel did not come up"; }
    ss=$(tcp "$A_NET.1" "$B_NET.1") || { dump_logs; fail "iperf3 through strongSwan"; }
    record "strongswan_tcp_r$round" "$ss" Mbit/s
    ss_all="$ss_all $ss"
  fi

  if want soft; then
    next_topology
    ours_pair soft
    soft=$(tcp "$A_NET.1" "$B_NET.1") || { dump_logs; fail "iperf3 through our tunnel (soft)"; }
    record "ours_soft_tcp_r$round" "$soft" Mbit/s
    soft_all="$soft_all $soft"
    if [ "$round" = "$ROUNDS" ]; then
      soft_pps=$(udp_pps "$A_NET.1" "$B_NET.1" 2000) || { dump_logs; fail "iperf3 UDP through our tunnel (soft)"; }
      record ours_soft_udp200_pps "$soft_pps" pkt/s
      if [ "${TUNNEL_BENCH_STATS:-0}" = 1 ]; then
        for g in ours peer; do
          echo "== $g stats" >&2
          ctl_of "$g" stats >&2 || true
        done
      fi
    fi
  fi

  if [ -n "$soft" ] && [ -n "$ss" ] && [ -n "$bare" ]; then
    r1=$(python3 -c "print('%.2f' % ($soft / $ss))")
    r2=$(python3 -c "print('%.3f' % ($soft / $bare))")
    record "ratio_ours_soft_vs_strongswan_r$round" "$r1" x
    record "ratio_ours_soft_vs_bare_r$round" "$r2" x
    r1_all="$r1_all $r1"
    r2_all="$r2_all $r2"
  fi
done

if want sim; then
  next_topology
  ours_pair sim
  sim_pps=$(udp_pps "$A_NET.1" "$B_NET.1" 4) || { dump_logs; fail "iperf3 UDP through our tunnel (sim)"; }
  record ours_sim_udp200_pps "$sim_pps" pkt/s
fi

[ -n "$bare_all" ] && record bare_tcp "$(median "$bare_all")" Mbit/s
[ -n "$ss_all" ] && record strongswan_tcp "$(median "$ss_all")" Mbit/s
[ -n "$soft_all" ] && record ours_soft_tcp "$(median "$soft_all")" Mbit/s
if [ -n "$r1_all" ]; then
  r1=$(median "$r1_all" 2)
  r2=$(median "$r2_all" 3)
  record ratio_ours_soft_vs_strongswan "$r1" x
  record ratio_ours_soft_vs_bare "$r2" x
  log "ours (soft model) / strongSwan userspace: ${r1}x (target >= 10); ours / bare veth: ${r2} (target >= 0.40); medians of $ROUNDS round(s):${r1_all} /${r2_all}"
fi
