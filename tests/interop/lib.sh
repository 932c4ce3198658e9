# Shared helpers for the interop tests: namespaces joined by a veth pair, strongSwan (charon with
# kernel-libipsec, see docs/interop.md) and accel-iked instances, all cleaned up by PID on exit.
# Links use 198.18.0.0/15; tunnelled subnets RFC 5737 ranges; nothing leaves the namespaces.
set -u

IT_ID="${IT_ID:-$$}"
IT_DIR="${IT_DIR:-$(mktemp -d /tmp/ipsec-interop.XXXXXX)}"
NS_A="ia${IT_ID}"
NS_B="ib${IT_ID}"
A_IP=198.18.0.1
B_IP=198.18.0.2
A_NET=192.0.2
B_NET=198.51.100
PIDS=()

log() { printf '[interop %s] %s\n' "$(date +%T)" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

remember() {  # remember <pid> <program>: signalled on cleanup only while /proc/pid/exe is <program>
  # The program is named rather than read from /proc now: right after `&` the child may still be
  # the forking shell or `ip netns exec`, and only later execs the program.
  PIDS+=("$1:$(readlink -f "$2")")
}

cleanup() {
  local entry pid exe
  for entry in "${PIDS[@]}"; do
    pid="${entry%%:*}"; exe="${entry#*:}"
    if [ -n "$exe" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ]; then
      kill -TERM "$pid" 2>/dev/null
    fi
  done
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do  # up to 1 s for a clean exit (charon and accel-iked send DELETEs)
    local alive=0
    for entry in "${PIDS[@]}"; do
      pid="${entry%%:*}"; exe="${entry#*:}"
      [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ] && alive=1
    done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for entry in "${PIDS[@]}"; do
    pid="${entry%%:*}"; exe="${entry#*:}"
    if [ -n "$exe" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ]; then
      kill -KILL "$pid" 2>/dev/null
    fi
  done
  ip netns del "$NS_A" 2>/dev/null
  ip netns del "$NS_B" 2>/dev/null
  if [ "${IT_KEEP:-0}" = 1 ]; then log "kept $IT_DIR"; else rm -rf "$IT_DIR"; fi
}

need_root_and_tools() {
  if [ "$(id -u)" -ne 0 ]; then echo "interop: needs root (network namespaces)"; exit 77; fi
  for t in ip ping /usr/lib/ipsec/charon swanctl unshare; do
    command -v "$t" >/dev/null 2>&1 || [ -x "$t" ] || { echo "interop: $t missing (make deps)"; exit 77; }
  done
  [ -c /dev/net/tun ] || { echo "interop: no /dev/net/tun"; exit 77; }
}

make_namespaces() {
  ip netns add "$NS_A" || fail "ip netns add"
  ip netns add "$NS_B" || fail "ip netns add"
  ip link add "va${IT_ID}" netns "$NS_A" type veth peer name "vb${IT_ID}" netns "$NS_B" || fail "veth"
  ip -n "$NS_A" addr add "$A_IP/24" dev "va${IT_ID}"
  ip -n "$NS_B" addr add "$B_IP/24" dev "vb${IT_ID}"
  for ns in "$NS_A" "$NS_B"; do
    ip -n "$ns" link set lo up
  done
  ip -n "$NS_A" link set "va${IT_ID}" up
  ip -n "$NS_B" link set "vb${IT_ID}" up
  # The "subnet behind" each side: one address on lo (no dummy interfaces here).
  ip -n "$NS_A" addr add "$A_NET.1/32" dev lo
  ip -n "$NS_B" addr add "$B_NET.1/32" dev lo
}

# start_charon <ns> <name> <swanctl.conf>: charon in its own mount namespace with a private /run.
start_charon() {
  local ns="$1" name="$2" conf="$3" d="$IT_DIR/$2"
  mkdir -p "$d/run" "$d/swanctl/x509" "$d/swanctl/x509ca" "$d/swanctl/private" "$d/swanctl/ecdsa" "$d/swanctl/rsa"
  cp "$conf" "$d/swanctl/swanctl.conf"
  [ -d "$IT_DIR/pki" ] && cp -r "$IT_DIR/pki/$name/." "$d/swanctl/" 2>/dev/null
  cat > "$d/strongswan.conf" <<EOC
charon {
  load_modular = no
  load = nonce openssl pem kdf kernel-libipsec kernel-netlink socket-default vici
  install_virtual_ip = no
  dos_protection = no
  cookie_threshold = 100000
  half_open_timeout = 5
  fragment_size = ${CHARON_FRAGMENT_SIZE:-1280}
  retransmit_timeout = 1.0
  retransmit_tries = 3
  plugins {
    vici { socket = unix://$d/charon.vici }
    socket-default { fwmark = 0x42 }
    kernel-netlink { fwmark = !0x42 }
    kernel-libipsec { allow_peer_ts = yes }
  }
  filelog {
    log { path = $d/charon.log
          default = 1
          ike = 2
          chd = 4
          cfg = 2
          flush_line = yes }
  }
}
swanctl { }
EOC
  STRONGSWAN_CONF="$d/strongswan.conf" ip netns exec "$ns" unshare --mount --propagation private \
    sh -c "mount --bind '$d/run' /run && exec /usr/lib/ipsec/charon" >"$d/charon.out" 2>&1 &
  remember $! /usr/lib/ipsec/charon
  local i
  for i in $(seq 1 50); do
    [ -S "$d/charon.vici" ] && break
    sleep 0.1
  done
  [ -S "$d/charon.vici" ] || { cat "$d/charon.out" >&2; fail "charon $name did not start"; }
  STRONGSWAN_CONF="$d/strongswan.conf" swanctl --load-all --file "$d/swanctl/swanctl.conf" --uri "unix://$d/charon.vici" \
    >"$d/swanctl-load.out" 2>&1 || { cat "$d/swanctl-load.out" >&2; fail "swanctl --load-all ($name)"; }
}

swanctl_of() {  # swanctl_of <name> args...
  local name="$1"; shift
  STRONGSWAN_CONF="$IT_DIR/$name/strongswan.conf" swanctl "$@" --uri "unix://$IT_DIR/$name/charon.vici"
}

# start_ours <ns> <name> <conf> [tun]: accel-iked with a TUN data path.
start_ours() {
  local ns="$1" name="$2" conf="$3" tun="${4:-acc${IT_ID}}" d="$IT_DIR/$2"
  mkdir -p "$d"
  cp "$conf" "$d/accel-iked.conf"
  [ -d "$IT_DIR/pki/$name" ] && cp -r "$IT_DIR/pki/$name/." "$d/"
  # Under ASan, keep its quarantine of freed memory small so that memory checks see our own use.
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4" \
  ip netns exec "$ns" "$ACCEL_IKED" --config "$d/accel-iked.conf" --control "$d/ctl" --tun "$tun" \
    --log-level "${IT_LOG:-info}" ${IKED_ARGS:-} \
    $(case " ${IKED_ARGS:-} " in *" --device "*) echo --metrics-file "$d/metrics.prom" ;; esac) >"$d/iked.log" 2>&1 &
  remember $! "$ACCEL_IKED"
  local i
  for i in $(seq 1 50); do
    [ -S "$d/ctl" ] && break
    sleep 0.1
  done
  [ -S "$d/ctl" ] || { cat "$d/iked.log" >&2; fail "accel-iked $name did not start"; }
}

ctl_of() {  # ctl_of <name> args...
  local name="$1"; shift
  "$ACCEL_IKECTL" --control "$IT_DIR/$name/ctl" "$@"
}

# wait_for <seconds> <command...>: polls until the command succeeds.
wait_for() {
  local t="$1"; shift
  local end=$((SECONDS + t))
  while [ $SECONDS -lt $end ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

ours_established() {  # name [n children]
  ctl_of "$1" --json list | grep -q '"state":"ESTABLISHED"' && \
  [ "$(ctl_of "$1" --json list | grep -c '"state":"INSTALLED"')" -ge "${2:-1}" ]
}
charon_established() {
  swanctl_of "$1" --list-sas 2>/dev/null | grep -q "INSTALLED"
}

# ---- configuration files for both daemons ----
PSK="interop-test-key-$(date +%s)"
short() { local s="${1#@}"; echo "${s%%.*}"; }

ours_conf() {  # ours_conf <file> <me> <peer> <my ip> <peer ip> <my net> <peer net> <ike> <esp> <auth> [extra child lines]
  local f="$1" me="$2" peer="$3" mip="$4" pip="$5" mnet="$6" pnet="$7" ike="$8" esp="$9" auth="${10}"
  local local_auth remote_auth secrets
  if [ "$auth" = psk ]; then
    local_auth="auth = psk"; remote_auth="auth = psk"
    secrets="ike-1 { id-a = $me
  id-b = $peer
  secret = \"$PSK\"
}"
  else
    local_auth="auth = pubkey
      certs = $(short "$me")-cert.pem"
    remote_auth="auth = pubkey
      cacerts = ca.pem"
    secrets="private-1 { file = $(short "$me")-key.pem
}"
  fi
  cat > "$f" <<EOC
connections {
  gw {
    local_addrs = $mip
    remote_addrs = $pip
    proposals = $ike
    encap = yes
    dpd_delay = ${DPD:-0}
    local { $local_auth
      id = $me
    }
    remote { $remote_auth
      id = $peer
    }
    children {
      net {
        local_ts = $mnet.0/24
        remote_ts = $pnet.0/24
        esp_proposals = $esp
        ${CHILD_EXTRA:-}
      }
    }
  }
}
secrets {
$secrets
}
EOC
}

charon_conf() {  # same arguments as ours_conf, in swanctl.conf for charon
  local f="$1" me="$2" peer="$3" mip="$4" pip="$5" mnet="$6" pnet="$7" ike="$8" esp="$9" auth="${10}"
  local local_auth remote_auth secrets send_cert=""
  if [ "$auth" = psk ]; then
    local_auth="auth = psk"; remote_auth="auth = psk"
    secrets="ike-1 { id-a = $me
  id-b = $peer
  secret = \"$PSK\"
}"
  else
    local_auth="auth = pubkey
      certs = $(short "$me")-cert.pem"
    remote_auth="auth = pubkey"
    secrets=""
    send_cert="send_cert = always"
  fi
  cat > "$f" <<EOC
connections {
  gw {
    local_addrs = $mip
    remote_addrs = $pip
    proposals = $ike
    encap = yes
    send_certreq = no
    ${send_cert:-}
    fragmentation = yes
    dpd_delay = ${DPD:-0}
    local { $local_auth
      id = $me
    }
    remote { $remote_auth
      id = $peer
    }
    children {
      net {
        local_ts = $mnet.0/24
        remote_ts = $pnet.0/24
        esp_proposals = $esp
      }
    }
  }
}
secrets {
$secrets
}
EOC
}

make_pki() {  # a private CA and ECDSA P-256 certificates for a.example.org (ours) and b.example.org (charon)
  local p="$IT_DIR/pki" dn="C=CH, O=ipsec-accel interop"
  mkdir -p "$p/ours/x509" "$p/ours/x509ca" "$p/ours/private" "$p/charon/x509" "$p/charon/x509ca" "$p/charon/private"
  exec 3>&2 2>/dev/null  # pki is chatty about TPM plugins
  pki --gen --type ecdsa --size 256 --outform pem >"$p/ca-key.pem" || fail "pki --gen"
  pki --self --ca --lifetime 30 --in "$p/ca-key.pem" --type ecdsa --dn "$dn, CN=interop CA" --outform pem >"$p/ca.pem"
  for side in a b; do
    pki --gen --type ecdsa --size 256 --outform pem >"$p/$side-key.pem"
    pki --pub --in "$p/$side-key.pem" --type ecdsa | pki --issue --lifetime 7 --cacert "$p/ca.pem" --cakey "$p/ca-key.pem" \
      --dn "$dn, CN=$side.example.org" --san "$side.example.org" --outform pem >"$p/$side-cert.pem" || fail "pki --issue"
  done
  exec 2>&3 3>&-
  cp "$p/ca.pem" "$p/ours/x509ca/"; cp "$p/ca.pem" "$p/charon/x509ca/"
  cp "$p/a-cert.pem" "$p/ours/x509/"; cp "$p/a-key.pem" "$p/ours/private/"
  cp "$p/b-cert.pem" "$p/charon/x509/"; cp "$p/b-key.pem" "$p/charon/private/"
}


dump_logs() {
  for f in "$IT_DIR"/*/iked.log "$IT_DIR"/*/charon.log; do
    [ -f "$f" ] && { echo "==== $f" >&2; tail -n 40 "$f" >&2; }
  done
  for f in "$IT_DIR"/spis.txt; do
    [ -f "$f" ] && tail -n 3 "$f" >&2
  done
  local c
  for c in "$IT_DIR"/*/ctl; do  # our daemons' data path counters
    [ -S "$c" ] && { echo "==== stats of $c" >&2; "$ACCEL_IKECTL" --control "$c" --json stats >&2 2>&1; }
  done
}
