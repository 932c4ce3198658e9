#!/usr/bin/env bash
# IKEv2 interop between accel-iked and strongSwan 5.9 (charon, kernel-libipsec) in two network
# namespaces. Usage: strongswan_interop.sh <accel-iked> <accel-ikectl> [scenario...]
# Scenarios (default: all):
#   psk-gcm-x25519   ours initiates, PSK, IKE aes256gcm16-prfsha256-x25519, ESP aes256gcm16
#   psk-cbc-ecp256   charon initiates, PSK, IKE aes128-sha256-ecp256, ESP aes128-sha256 (+ecp256 PFS)
#   ecdsa-certs      ours initiates, ECDSA P-256 certificates from a private CA (RFC 7427)
#   rekey            CHILD and IKE rekeys started by each side, DPD, then DELETE from charon
# Each scenario pings through the tunnel both ways and checks the SAs on both sides.
# Exit 77 (skipped) without root or strongSwan.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ACCEL_IKED="$(readlink -f "$1")"; ACCEL_IKECTL="$(readlink -f "$2")"; shift 2
# shellcheck source=lib.sh
. "$HERE/lib.sh"
need_root_and_tools
trap cleanup EXIT
trap 'exit 130' INT TERM

route_ours() {  # route_ours <ns> <peer net> <my net>
  ip -n "$1" route replace "$2.0/24" dev "acc${IT_ID}" src "$3.1"
}

metric_positive() {  # metric_positive <ours name> <metric>: its value in the metrics file is > 0
  awk -v m="$2" '$1 == m && $2 > 0 { ok = 1 } END { exit !ok }' "$IT_DIR/$1/metrics.prom" 2>/dev/null
}

ping_both() {  # ping through the tunnel in both directions
  ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 2 -I "$A_NET.1" "$B_NET.1" >"$IT_DIR/ping-ab.out" 2>&1 || {
    cat "$IT_DIR/ping-ab.out" >&2; return 1; }
  ip netns exec "$NS_B" ping -c 3 -i 0.2 -W 2 -I "$B_NET.1" "$A_NET.1" >"$IT_DIR/ping-ba.out" 2>&1 || {
    cat "$IT_DIR/ping-ba.out" >&2; return 1; }
}


# Keys: charon's level-4 'chd' log prints the CHILD_SA keys; ours are checked indirectly by the
# traffic (both directions decrypt and authenticate) and directly by comparing the SPIs and
# algorithms charon lists with ours.
check_same_spis() {  # check_same_spis <charon name> <ours name>
  local c o
  # charon keeps a rekeyed inbound SA for delete_rekeyed_delay (5 s): compare INSTALLED ones.
  c="$(swanctl_of "$1" --list-sas --raw 2>/dev/null | tr '{' '\n' | grep 'state=INSTALLED' | grep -o 'spi-in=[0-9a-f]*\|spi-out=[0-9a-f]*' | sort | tr '\n' ' ')"
  o="$(ctl_of "$2" --json list | grep -o '"spi_in":"[0-9a-f]*"\|"spi_out":"[0-9a-f]*"' | sed 's/"spi_in":"/spi-out=/; s/"spi_out":"/spi-in=/; s/"//' | sort | tr '\n' ' ')"
  echo "charon [$c] ours [$o]" >> "$IT_DIR/spis.txt"
  [ -n "$c" ] && [ "$c" = "$o" ] || { log "SPIs differ: charon [$c] ours [$o]"; return 1; }
}

scenario_psk_gcm_x25519() {
  log "psk-gcm-x25519: accel-iked initiates to charon"
  ours_conf "$IT_DIR/a.conf" @a.example.org @b.example.org $A_IP $B_IP $A_NET $B_NET aes256gcm16-prfsha256-x25519 aes256gcm16 psk
  charon_conf "$IT_DIR/b.conf" @b.example.org @a.example.org $B_IP $A_IP $B_NET $A_NET aes256gcm16-prfsha256-x25519 aes256gcm16 psk
  start_charon "$NS_B" charon "$IT_DIR/b.conf"
  start_ours "$NS_A" ours "$IT_DIR/a.conf"
  route_ours "$NS_A" $B_NET $A_NET
  ctl_of ours initiate gw net >/dev/null || fail "initiate"
  wait_for 10 ours_established ours || { dump_logs; fail "not established"; }
  wait_for 5 charon_established charon || { dump_logs; fail "charon has no CHILD_SA"; }
  ping_both || { dump_logs; fail "ping through the tunnel"; }
  check_same_spis charon ours || { dump_logs; fail "SPIs"; }
  ctl_of ours --json list | grep -q 'AES_GCM_16_256/PRF_HMAC_SHA2_256/CURVE_25519' || fail "IKE algorithms"
  # charon's level-4 log shows the CHILD_SA keys it derived; every packet we sent authenticated
  # under them (and theirs under ours), so the derivations agree.
  grep -q "encryption initiator key => 36 bytes" "$IT_DIR/charon/charon.log" || fail "charon logged no CHILD_SA keys"
  # With ESP on the runtime (--device), the daemon writes Prometheus text every second: the ping
  # shows in the data path's counters and the card's, and the batching counters are there.
  if [ -n "${IKED_ARGS:-}" ]; then
    wait_for 5 metric_positive ours ipsec_accel_gateway_encrypted_packets_total || { dump_logs; fail "metrics: no encrypted packets"; }
    metric_positive ours ipsec_accel_gateway_decrypted_packets_total || fail "metrics: no decrypted packets"
    metric_positive ours ipsec_accel_gateway_sendmmsg_calls_total || fail "metrics: no sendmmsg calls"
    grep -q '^ipsec_accel_gateway_udp_gso_messages_total [0-9]' "$IT_DIR/ours/metrics.prom" || fail "metrics: no GSO counter"
    grep -q '^ipsec_accel_gateway_child_sas 1$' "$IT_DIR/ours/metrics.prom" || fail "metrics: child_sas is not 1"
  fi
  # Reload with one more connection: the established SA stays, traffic still flows.
  sed -i 's/^connections {/connections {\n  extra { remote_addrs = 198.18.9.9\n local { auth = psk\n id = @x.example.org\n }\n remote { auth = psk\n }\n }/' "$IT_DIR/ours/accel-iked.conf"
  ctl_of ours reload | grep -q '"ok":true' || { dump_logs; fail "reload"; }
  ours_established ours || fail "SA dropped by reload"
  ping_both || { dump_logs; fail "ping after reload"; }
  log "psk-gcm-x25519: OK"
}

scenario_psk_cbc_ecp256() {
  log "psk-cbc-ecp256: charon initiates to accel-iked (responder)"
  ours_conf "$IT_DIR/a.conf" @a.example.org @b.example.org $A_IP $B_IP $A_NET $B_NET aes128-sha256-ecp256 aes128-sha256-ecp256 psk
  charon_conf "$IT_DIR/b.conf" @b.example.org @a.example.org $B_IP $A_IP $B_NET $A_NET aes128-sha256-ecp256 aes128-sha256-ecp256 psk
  start_ours "$NS_A" ours "$IT_DIR/a.conf"
  route_ours "$NS_A" $B_NET $A_NET
  start_charon "$NS_B" charon "$IT_DIR/b.conf"
  swanctl_of charon --initiate --child net >"$IT_DIR/initiate.out" 2>&1 || { cat "$IT_DIR/initiate.out" >&2; dump_logs; fail "charon initiate"; }
  wait_for 10 ours_established ours || { dump_logs; fail "not established"; }
  ping_both || { dump_logs; fail "ping through the tunnel"; }
  check_same_spis charon ours || { dump_logs; fail "SPIs"; }
  ctl_of ours --json list | grep -q 'AES_CBC_128/HMAC_SHA2_256_128' || fail "CHILD algorithms"
  log "psk-cbc-ecp256: OK"
}

ike_id() { ctl_of "$1" --json list | sed 's/"children":\[[^]]*\]//g' | grep -o '"id":[0-9]*' | head -1 | grep -o '[0-9]*'; }
child_ids() { ctl_of "$1" --json list | tr '{]' '\n\n' | grep '"name":"net"' | grep -o '"id":[0-9]*' | grep -o '[0-9]*'; }
charon_spis() { swanctl_of "$1" --list-sas --raw 2>/dev/null | tr '{' '\n' | grep 'state=INSTALLED' | grep -o 'spi-in=[0-9a-f]*' | sort | tr '\n' ' '; }
ours_ike_spis() { ctl_of "$1" --json list | grep -o '"spi_i":"[0-9a-f]*"' | tr '\n' ' '; }

scenario_rekey() {
  log "rekey: CHILD and IKE rekeys from both sides, DPD, DELETE"
  DPD=2s ours_conf "$IT_DIR/a.conf" @a.example.org @b.example.org $A_IP $B_IP $A_NET $B_NET aes256gcm16-prfsha256-x25519 aes128gcm16-x25519 psk
  DPD=2s charon_conf "$IT_DIR/b.conf" @b.example.org @a.example.org $B_IP $A_IP $B_NET $A_NET aes256gcm16-prfsha256-x25519 aes128gcm16-x25519 psk
  start_charon "$NS_B" charon "$IT_DIR/b.conf"
  start_ours "$NS_A" ours "$IT_DIR/a.conf"
  route_ours "$NS_A" $B_NET $A_NET
  ctl_of ours initiate gw net >/dev/null || fail "initiate"
  wait_for 10 ours_established ours || { dump_logs; fail "not established"; }
  ping_both || { dump_logs; fail "ping before rekeys"; }
  local before after id
  # CHILD rekey started by us (with PFS: x25519 in the ESP proposal).
  before="$(charon_spis charon)"
  ctl_of ours rekey-child "$(child_ids ours | head -1)" >/dev/null || fail "rekey-child"
  wait_for 10 sh -c "[ \"\$(STRONGSWAN_CONF=$IT_DIR/charon/strongswan.conf swanctl --list-sas --raw --uri unix://$IT_DIR/charon/charon.vici 2>/dev/null | grep -o 'spi-in=[0-9a-f]*' | sort | tr '\n' ' ')\" != '$before' ]" || { dump_logs; fail "CHILD rekey by us"; }
  wait_for 5 check_same_spis charon ours || { dump_logs; fail "SPIs after our CHILD rekey"; }
  ping_both || { dump_logs; fail "ping after our CHILD rekey"; }
  # CHILD rekey started by charon.
  before="$(charon_spis charon)"
  swanctl_of charon --rekey --child net >/dev/null 2>&1 || fail "charon rekey child"
  wait_for 10 sh -c "[ \"\$(STRONGSWAN_CONF=$IT_DIR/charon/strongswan.conf swanctl --list-sas --raw --uri unix://$IT_DIR/charon/charon.vici 2>/dev/null | grep -o 'spi-in=[0-9a-f]*' | sort | tr '\n' ' ')\" != '$before' ]" || { dump_logs; fail "CHILD rekey by charon"; }
  wait_for 5 check_same_spis charon ours || { dump_logs; fail "SPIs after charon's CHILD rekey"; }
  ping_both || { dump_logs; fail "ping after charon's CHILD rekey"; }
  # IKE rekey started by us, then by charon.
  before="$(ours_ike_spis ours)"
  ctl_of ours rekey "$(ike_id ours)" >/dev/null || fail "rekey"
  wait_for 10 sh -c "[ \"\$('$ACCEL_IKECTL' --control $IT_DIR/ours/ctl --json list | grep -o '\"spi_i\":\"[0-9a-f]*\"' | tr '\n' ' ')\" != '$before' ]" || { dump_logs; fail "IKE rekey by us"; }
  sleep 0.5
  [ "$(ctl_of ours --json list | grep -c '"connection"')" = 1 ] || { dump_logs; fail "old IKE SA not deleted"; }
  ping_both || { dump_logs; fail "ping after our IKE rekey"; }
  before="$(ours_ike_spis ours)"
  swanctl_of charon --rekey --ike gw >/dev/null 2>&1 || fail "charon rekey ike"
  wait_for 10 sh -c "[ \"\$('$ACCEL_IKECTL' --control $IT_DIR/ours/ctl --json list | grep -o '\"spi_i\":\"[0-9a-f]*\"' | tr '\n' ' ')\" != '$before' ]" || { dump_logs; fail "IKE rekey by charon"; }
  sleep 0.5
  [ "$(ctl_of ours --json list | grep -c '"connection"')" = 1 ] || { dump_logs; fail "old IKE SA still there"; }
  ping_both || { dump_logs; fail "ping after charon's IKE rekey"; }
  check_same_spis charon ours || { dump_logs; fail "SPIs after IKE rekeys"; }
  # Liveness: both sides run DPD every 2 s; after 5 s both still stand.
  sleep 5
  ours_established ours || { dump_logs; fail "lost after DPD"; }
  grep -q "sending DPD request" "$IT_DIR/charon/charon.log" || log "note: charon sent no DPD"
  ctl_of ours dpd "$(ike_id ours)" >/dev/null || fail "dpd"
  # DELETE from charon: our side removes everything.
  swanctl_of charon --terminate --ike gw >/dev/null 2>&1 || fail "charon terminate"
  wait_for 5 sh -c "! '$ACCEL_IKECTL' --control $IT_DIR/ours/ctl --json list | grep -q connection" || { dump_logs; fail "DELETE from charon"; }
  [ "$(ctl_of ours --json stats | grep -o '"children":[0-9]*' | grep -o '[0-9]*$')" = 0 ] || fail "data path still has SAs"
  # And from us.
  ctl_of ours initiate gw net >/dev/null || fail "initiate again"
  wait_for 10 ours_established ours || { dump_logs; fail "not re-established"; }
  ctl_of ours terminate "$(ike_id ours)" >/dev/null || fail "terminate"
  wait_for 5 sh -c "! STRONGSWAN_CONF=$IT_DIR/charon/strongswan.conf swanctl --list-sas --uri unix://$IT_DIR/charon/charon.vici 2>/dev/null | grep -q ESTABLISHED" || { dump_logs; fail "DELETE from us"; }
  log "rekey: OK"
}

scenario_ecdsa_certs() {
  log "ecdsa-certs: ECDSA P-256 certificates (RFC 7427), ours initiates, then charon initiates;"
  log "  charon fragments its IKE_AUTH (RFC 7383, fragment_size 300) so ours must reassemble"
  make_pki
  ours_conf "$IT_DIR/a.conf" @a.example.org @b.example.org $A_IP $B_IP $A_NET $B_NET aes256gcm16-prfsha256-ecp256 aes256gcm16 pubkey
  charon_conf "$IT_DIR/b.conf" @b.example.org @a.example.org $B_IP $A_IP $B_NET $A_NET aes256gcm16-prfsha256-ecp256 aes256gcm16 pubkey
  CHARON_FRAGMENT_SIZE=300 start_charon "$NS_B" charon "$IT_DIR/b.conf"
  start_ours "$NS_A" ours "$IT_DIR/a.conf"
  route_ours "$NS_A" $B_NET $A_NET
  ctl_of ours initiate gw net >/dev/null || fail "initiate"
  wait_for 10 ours_established ours || { dump_logs; fail "not established"; }
  ctl_of ours --json list | grep -q '"fragments_in":[1-9]' || { dump_logs; fail "no IKE fragments received from charon"; }
  grep -q "authentication of 'a.example.org' with ECDSA\|authentication of 'a.example.org' with RFC 7427" "$IT_DIR/charon/charon.log" \
    || { dump_logs; fail "charon did not verify our signature"; }
  ping_both || { dump_logs; fail "ping through the tunnel"; }
  check_same_spis charon ours || { dump_logs; fail "SPIs"; }
  swanctl_of charon --terminate --ike gw >/dev/null 2>&1
  wait_for 5 sh -c "! '$ACCEL_IKECTL' --control $IT_DIR/ours/ctl --json list | grep -q connection" || fail "terminate"
  swanctl_of charon --initiate --child net >"$IT_DIR/initiate.out" 2>&1 || { cat "$IT_DIR/initiate.out" >&2; dump_logs; fail "charon initiate"; }
  wait_for 10 ours_established ours || { dump_logs; fail "not established (charon initiator)"; }
  ping_both || { dump_logs; fail "ping (charon initiator)"; }
  log "ecdsa-certs: OK"
}

scenario_dead_peer() {
  log "dead-peer: charon vanishes; accel-iked's liveness checks notice and remove the SAs"
  DPD=1s ours_conf "$IT_DIR/a.conf" @a.example.org @b.example.org $A_IP $B_IP $A_NET $B_NET aes256gcm16-prfsha256-x25519 aes256gcm16 psk
  charon_conf "$IT_DIR/b.conf" @b.example.org @a.example.org $B_IP $A_IP $B_NET $A_NET aes256gcm16-prfsha256-x25519 aes256gcm16 psk
  start_charon "$NS_B" charon "$IT_DIR/b.conf"
  IKED_ARGS="--retransmit-timeout 300 --retransmit-base 1.5 --retransmit-tries 3" start_ours "$NS_A" ours "$IT_DIR/a.conf"
  route_ours "$NS_A" $B_NET $A_NET
  ctl_of ours initiate gw net --wait >/dev/null || { dump_logs; fail "initiate"; }
  ping_both || { dump_logs; fail "ping"; }
  sleep 3
  ours_established ours || { dump_logs; fail "lost while charon answers DPD"; }
  # Cut the link: charon can no longer answer.
  ip -n "$NS_B" link set "vb${IT_ID}" down
  local t0=$SECONDS
  wait_for 15 sh -c "! '$ACCEL_IKECTL' --control $IT_DIR/ours/ctl --json list | grep -q connection" || { dump_logs; fail "dead peer not detected"; }
  grep -q "peer is dead" "$IT_DIR/ours/iked.log" || { dump_logs; fail "no dead-peer verdict in the log"; }
  [ "$(ctl_of ours --json stats | grep -o '"children":[0-9]*' | grep -o '[0-9]*$')" = 0 ] || fail "data path still has SAs"
  log "dead-peer: SAs removed $((SECONDS - t0)) s after the link went down (DPD 1 s, 3 retransmits)"
  log "dead-peer: OK"
}

scenario_ours_ours() {
  log "ours-ours: accel-iked to accel-iked, PSK, CBC+HMAC with MODP-3072, then a CHILD rekey"
  ours_conf "$IT_DIR/a.conf" @a.example.org @b.example.org $A_IP $B_IP $A_NET $B_NET aes256-sha384-modp3072 aes256-sha256-esn psk
  ours_conf "$IT_DIR/b.conf" @b.example.org @a.example.org $B_IP $A_IP $B_NET $A_NET aes256-sha384-modp3072 aes256-sha256-esn psk
  start_ours "$NS_A" ours "$IT_DIR/a.conf"
  start_ours "$NS_B" peer "$IT_DIR/b.conf"
  route_ours "$NS_A" $B_NET $A_NET
  route_ours "$NS_B" $A_NET $B_NET
  ctl_of ours initiate gw net >/dev/null || fail "initiate"
  wait_for 10 ours_established ours || { dump_logs; fail "not established"; }
  wait_for 5 ours_established peer || { dump_logs; fail "peer not established"; }
  ping_both || { dump_logs; fail "ping"; }
  ctl_of peer rekey-child "$(child_ids peer | head -1)" >/dev/null || fail "rekey-child"
  sleep 1
  ping_both || { dump_logs; fail "ping after rekey"; }
  [ "$(child_ids ours | wc -l)" = 1 ] && [ "$(child_ids peer | wc -l)" = 1 ] || { dump_logs; fail "children after rekey"; }
  log "ours-ours: OK"
}

rss_kb() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
iked_pid() {  # the accel-iked serving control socket $1
  local entry pid
  for entry in "${PIDS[@]}"; do
    pid="${entry%%:*}"
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--control $1 " && { echo "$pid"; return; }
  done
}

scenario_flood() {
  [ -n "${IKE_FLOOD:-}" ] && [ -x "$IKE_FLOOD" ] || { log "flood: no ike_flood tool, skipped"; return; }
  log "flood: 30000 IKE_SA_INIT requests against accel-iked with an established tunnel"
  ours_conf "$IT_DIR/a.conf" @a.example.org @b.example.org $A_IP $B_IP $A_NET $B_NET aes256gcm16-prfsha256-x25519 aes256gcm16 psk
  ours_conf "$IT_DIR/b.conf" @b.example.org @a.example.org $B_IP $A_IP $B_NET $A_NET aes256gcm16-prfsha256-x25519 aes256gcm16 psk
  start_ours "$NS_A" ours "$IT_DIR/a.conf"
  start_ours "$NS_B" peer "$IT_DIR/b.conf"
  route_ours "$NS_A" $B_NET $A_NET
  route_ours "$NS_B" $A_NET $B_NET
  ctl_of ours initiate gw net --wait >/dev/null || { dump_logs; fail "initiate"; }
  ping_both || { dump_logs; fail "ping before"; }
  local pid rss0 rss1 stats
  pid="$(iked_pid "$IT_DIR/peer/ctl")"
  rss0="$(rss_kb "$pid")"
  ip netns exec "$NS_A" "$IKE_FLOOD" $B_IP 500 30000 >/dev/null || fail "flood tool"
  sleep 1
  rss1="$(rss_kb "$pid")"
  stats="$(ctl_of peer --json stats)"
  log "  responder stats: $stats"
  log "  responder RSS: ${rss0} kB before, ${rss1} kB after"
  echo "$stats" | grep -q '"cookies_sent":[1-9]' || fail "no cookies demanded"
  [ "$(echo "$stats" | grep -o '"half_open":[0-9]*' | grep -o '[0-9]*$')" -le 30 ] || fail "half-open SAs not bounded"
  [ $((rss1 - rss0)) -lt 20000 ] || fail "memory grew by $((rss1 - rss0)) kB"
  ours_established peer || fail "established SA lost"
  ping_both || { dump_logs; fail "ping after the flood"; }
  log "flood: OK"
}

for s in "${@:-psk-gcm-x25519 psk-cbc-ecp256 ecdsa-certs rekey dead-peer ours-ours flood}"; do
  for one in $s; do
    make_namespaces
    "scenario_${one//-/_}"
    cleanup
    PIDS=()
    IT_DIR="$(mktemp -d /tmp/ipsec-interop.XXXXXX)"
  done
done
log "all scenarios passed"
