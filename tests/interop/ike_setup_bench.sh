#!/usr/bin/env bash
# IKE_SA + CHILD_SA setup rate and latency: accel-iked against itself, accel-iked against charon
# and charon against charon, in the same run and the same namespace topology, with PSK and with
# ECDSA P-256 certificates. Each setup is one initiate (the control tool waits until the CHILD_SA
# is installed: `accel-ikectl initiate gw net --wait`, `swanctl --initiate`) followed by a
# terminate; both tools are separate processes, so the per-setup process start is in both.
# Usage: ike_setup_bench.sh <accel-iked> <accel-ikectl> [setups per case (default 40)]
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ACCEL_IKED="$(readlink -f "$1")"; ACCEL_IKECTL="$(readlink -f "$2")"; N="${3:-40}"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
need_root_and_tools
trap cleanup EXIT
trap 'exit 130' INT TERM
IT_LOG=warning

now_ms() { date +%s%3N; }

# bench_case <initiator kind ours|charon> <responder kind> <auth psk|pubkey>; prints "mean_ms p50 p90 rate"
bench_case() {
  local ik="$1" rk="$2" auth="$3" ike=aes256gcm16-prfsha256-x25519 esp=aes256gcm16
  make_namespaces
  [ "$auth" = pubkey ] && make_pki
  local a_conf="$IT_DIR/a.conf" b_conf="$IT_DIR/b.conf"
  if [ "$ik" = ours ]; then
    ours_conf "$a_conf" @a.example.org @b.example.org $A_IP $B_IP $A_NET $B_NET $ike $esp "$auth"
    # the same PKI directory layout is copied for either daemon
    [ "$auth" = pubkey ] && mkdir -p "$IT_DIR/pki/ours" && cp -r "$IT_DIR/pki/ours/." "$IT_DIR/pki/ours/" 2>/dev/null
    start_ours "$NS_A" ours "$a_conf"
  else
    charon_conf "$a_conf" @a.example.org @b.example.org $A_IP $B_IP $A_NET $B_NET $ike $esp "$auth"
    [ "$auth" = pubkey ] && { rm -rf "$IT_DIR/pki/charon-a"; mkdir -p "$IT_DIR/pki/charon-a/x509" "$IT_DIR/pki/charon-a/x509ca" "$IT_DIR/pki/charon-a/private";
      cp "$IT_DIR/pki/ca.pem" "$IT_DIR/pki/charon-a/x509ca/"; cp "$IT_DIR/pki/a-cert.pem" "$IT_DIR/pki/charon-a/x509/"; cp "$IT_DIR/pki/a-key.pem" "$IT_DIR/pki/charon-a/private/"; }
    start_charon "$NS_A" charon-a "$a_conf"
  fi
  if [ "$rk" = ours ]; then
    ours_conf "$b_conf" @b.example.org @a.example.org $B_IP $A_IP $B_NET $A_NET $ike $esp "$auth"
    [ "$auth" = pubkey ] && { rm -rf "$IT_DIR/pki/peer"; mkdir -p "$IT_DIR/pki/peer/x509" "$IT_DIR/pki/peer/x509ca" "$IT_DIR/pki/peer/private";
      cp "$IT_DIR/pki/ca.pem" "$IT_DIR/pki/peer/x509ca/"; cp "$IT_DIR/pki/b-cert.pem" "$IT_DIR/pki/peer/x509/"; cp "$IT_DIR/pki/b-key.pem" "$IT_DIR/pki/peer/private/"; }
    start_ours "$NS_B" peer "$b_conf"
  else
    charon_conf "$b_conf" @b.example.org @a.example.org $B_IP $A_IP $B_NET $A_NET $ike $esp "$auth"
    start_charon "$NS_B" charon "$b_conf"
  fi
  local i t0 t1 lat=() total_start total_end id out inner
  inside=()
  total_start=$(now_ms)
  for i in $(seq 1 "$N"); do
    t0=$(now_ms)
    # One process per setup for either tool, its output captured the same way.
    if [ "$ik" = ours ]; then
      out="$(ctl_of ours initiate gw net --wait)"
      t1=$(now_ms)
      id="${out#*\"id\":}"; id="${id%%[,\}]*}"
      [ "${out#*\"ok\":true}" != "$out" ] || { dump_logs; fail "setup $i failed ($ik -> $rk, $auth): $out"; }
      inner="${out#*\"ms\":}"; inner="${inner%%[,\}]*}"
      inside+=("$inner")
      ctl_of ours terminate "$id" --wait >/dev/null || fail "terminate"
    else
      out="$(swanctl_of charon-a --initiate --child net 2>&1)" || { dump_logs; fail "setup $i failed ($ik -> $rk, $auth)"; }
      t1=$(now_ms)
      swanctl_of charon-a --terminate --ike gw >/dev/null 2>&1 || fail "terminate"
    fi
    lat+=($((t1 - t0)))
    # wait until the responder has let go too (strongswan-notes pitfall 16)
    if [ "$rk" = ours ]; then
      wait_for 5 sh -c "! '$ACCEL_IKECTL' --control $IT_DIR/peer/ctl --json list | grep -q connection" || fail "responder kept the SA"
    else
      wait_for 5 sh -c "! STRONGSWAN_CONF=$IT_DIR/charon/strongswan.conf swanctl --list-sas --uri unix://$IT_DIR/charon/charon.vici 2>/dev/null | grep -q ESTABLISHED" || fail "responder kept the SA"
    fi
  done
  total_end=$(now_ms)
  local sorted mean p50 p90 sum=0 v
  sorted=($(printf '%s\n' "${lat[@]}" | sort -n))
  for v in "${lat[@]}"; do sum=$((sum + v)); done
  mean=$(awk -v s="$sum" -v n="$N" 'BEGIN { printf "%.1f", s / n }')
  p50=${sorted[$((N / 2))]}
  p90=${sorted[$((N * 9 / 10))]}
  local in_ms="-"
  if [ ${#inside[@]} -gt 0 ]; then
    in_ms="$(printf '%s\n' "${inside[@]}" | awk '{ s += $1 } END { printf "%.2f", s / NR }')"
  fi
  RESULT="$mean $p50 $p90 $(awk -v n="$N" -v t="$((total_end - total_start))" 'BEGIN { printf "%.1f", n * 1000 / t }') $in_ms"
  cleanup
  PIDS=()
  IT_DIR="$(mktemp -d /tmp/ipsec-interop.XXXXXX)"
}

printf '%-8s %-22s %10s %8s %8s %12s %16s\n' auth case "mean ms" "p50 ms" "p90 ms" "cycles/s*" "in-daemon ms**"
for auth in psk pubkey; do
  declare -A mean=() rates=()
  for c in "ours ours" "ours charon" "charon charon"; do
    set -- $c
    bench_case "$1" "$2" "$auth"
    read -r m p50 p90 rate inms <<<"$RESULT"
    mean["$1-$2"]="$m"
    rates["$1-$2"]="$rate"
    printf '%-8s %-22s %10s %8s %8s %12s %16s\n' "$auth" "$1 -> $2" "$m" "$p50" "$p90" "$rate" "$inms"
  done
  printf '%-8s ours->ours vs charon->charon: latency %s x lower, cycle rate %s x higher\n' "$auth" \
    "$(awk -v a="${mean[charon-charon]}" -v b="${mean[ours-ours]}" 'BEGIN { printf "%.2f", a / b }')" \
    "$(awk -v a="${rates[ours-ours]}" -v b="${rates[charon-charon]}" 'BEGIN { printf "%.2f", a / b }')"
done
echo "*  cycles/s: sequential initiate + terminate cycles per second; each includes starting the control tool twice"
echo "** in-daemon: from the initiate command reaching accel-iked to its CHILD_SA being installed (accel-iked initiators only)"
