#!/usr/bin/env bash
# `make demo`: the project's main job on the embedded defaults.
#
# Until the gateway exists (see README, status), the demonstration is what works today: the
# software ESP/AH data path, driven by the `ipsec-pcap` tool over a generated capture, then the
# ESP throughput table against raw intel-ipsec-mb. Every step checks its result and the script
# stops at the first failure. Options (environment):
#   DEMO_PACKETS=N   packets per capture (default 20000)
#   DEMO_FULL=1      full-length benchmark instead of the quick one
# As root, step 5 also runs the IKEv2 daemon against strongSwan in two network namespaces.
set -euo pipefail
B=${1:-build}
TOOL=$B/host/tools/ipsec-pcap
BENCH=$B/bench/esp_bench
EX=host/tools/examples
N=${DEMO_PACKETS:-20000}
cd "$(dirname "$0")/.."
for f in "$TOOL" "$BENCH"; do
  [ -x "$f" ] || { echo "demo: $f is missing; run 'make build' first" >&2; exit 2; }
done
work=$(mktemp -d /tmp/ipsec-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'echo; echo "demo: interrupted"; exit 130' INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ok() { printf '   \033[32mok\033[0m  %s\n' "$*"; }

step "1. Generate captures: $N IPv4 and $N IPv6 UDP packets of 512 bytes (RFC 5737 / RFC 3849 addresses)"
"$TOOL" gen -o "$work/v4.pcap" --count "$N" --size 512 --seed 1 >/dev/null
"$TOOL" gen -o "$work/v6.pcap" --count "$N" --size 512 --seed 2 --v6 >/dev/null
ok "$work/v4.pcap, $work/v6.pcap"

roundtrip() {  # <sa file> <capture> <label>
  local sa=$1 in=$2 label=$3
  "$TOOL" encap --sa "$sa" -i "$in" -o "$work/enc.pcap" > "$work/enc.txt"
  "$TOOL" decap --sa "$sa" -i "$work/enc.pcap" -o "$work/dec.pcap" > "$work/dec.txt"
  cmp -s "$in" "$work/dec.pcap" || { echo "demo: $label did not round-trip" >&2; cat "$work/enc.txt" "$work/dec.txt"; exit 1; }
  local enc dec
  enc=$(awk '/^  throughput/ {printf "%.2f Mpps", $2/1e6}' "$work/enc.txt")
  dec=$(awk '/^  throughput/ {printf "%.2f Mpps", $2/1e6}' "$work/dec.txt")
  printf '   \033[32mok\033[0m  %-44s encap %-14s decap %-14s byte-identical after decap\n' "$label" "$enc" "$dec"
}

step "2. Encapsulate and decapsulate through the software data path (rates: SA processing time as ipsec-pcap reports it)"
roundtrip "$EX/gcm-tunnel.sa" "$work/v4.pcap" "ESP AES-128-GCM tunnel, IPv4 in IPv4"
roundtrip "$EX/gcm-tunnel.sa" "$work/v6.pcap" "ESP AES-128-GCM tunnel, IPv6 in IPv4"
roundtrip "$EX/cbc-hmac-transport.sa" "$work/v4.pcap" "ESP AES-CBC + HMAC-SHA-256 transport"
roundtrip "$EX/ah-transport.sa" "$work/v4.pcap" "AH HMAC-SHA-256-128 transport"

step "3. A forged packet: one ciphertext bit flipped in the first ESP packet"
"$TOOL" encap --sa "$EX/gcm-tunnel.sa" -i "$work/v4.pcap" -o "$work/enc.pcap" >/dev/null
# pcap global header 24 bytes + record header 16 + outer IPv4 20 + ESP 8 + IV 8: byte 100 is ciphertext.
printf '\x5a' | dd of="$work/enc.pcap" bs=1 seek=100 conv=notrunc status=none
set +e
"$TOOL" decap --sa "$EX/gcm-tunnel.sa" -i "$work/enc.pcap" -o "$work/dec.pcap" --stats > "$work/dec.txt"
rc=$?
set -e
grep -q "auth-failed" "$work/dec.txt" && [ "$rc" -eq 1 ] || { echo "demo: the forged packet was not caught" >&2; cat "$work/dec.txt"; exit 1; }
ok "dropped with reason auth-failed (exit status 1); the other $((N - 1)) packets decapsulated:"
grep -E "dropped|auth-failed|packets out" "$work/dec.txt" | sed 's/^/        /'

step "4. ESP throughput per core, against raw intel-ipsec-mb and OpenSSL in the same run"
if [ "${DEMO_FULL:-0}" = 1 ]; then "$BENCH"; else "$BENCH" --quick; fi

step "5. IKEv2: accel-iked against strongSwan 5.9 in two network namespaces (PSK, AES-GCM-256, Curve25519)"
IKED=$B/host/ike/daemon/accel-iked
IKECTL=$B/host/ike/daemon/accel-ikectl
if [ "$(id -u)" -ne 0 ]; then
  echo "   skipped: needs root for network namespaces (run the demo as root to see it)"
elif [ ! -x "$IKED" ] || [ ! -x /usr/lib/ipsec/charon ]; then
  echo "   skipped: accel-iked or strongSwan missing ('make deps build')"
else
  # Our initiator to charon, ping through the tunnel both ways, then charon to our responder.
  set +e
  bash tests/interop/strongswan_interop.sh "$IKED" "$IKECTL" psk-gcm-x25519 psk-cbc-ecp256 2>&1 | grep '\[interop'
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] || { echo "demo: the IKEv2 interop step failed (exit $rc)" >&2; exit 1; }
  ok "IKE and CHILD SAs negotiated both ways, ESP-in-UDP traffic through the tunnels (docs/ike.md)"
fi

step "Done"
echo "   Not yet in this demo: the card (RTL in Verilator) and the gateway; see README."
