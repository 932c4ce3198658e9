#!/usr/bin/env bash
# Runs the benchmarks that exist in a build directory, saves their raw output, and renders the
# charts of docs/performance.md from it (scripts/perf_charts.py -> docs/perf/*.png).
# `make charts` runs this on the default build directory.
#
# Usage: scripts/perf_run.sh [BUILD_DIR (default: build)] [RESULTS_DIR (default: BUILD_DIR/perf-results)]
#
# Each bench runs only if its binary is there (nothing is built here), one after the other (they
# measure the machine, so never in parallel), with a timeout:
#   bench/esp_bench             full run (~1-2 min), --json esp_bench.json
#   bench/runtime_bench         full run (1 M SAs in the host database)
#   bench/crypto_service_bench  full run
#   hw/ip/aes_gcm/aes_gcm_bench full run (Verilator; seconds)
#   bench/card_bench            --quick (64 and 1500 B, 8 SAs): the full sweep of 4 sizes x 3 SA counts
#                               x 2 directions takes many minutes of Verilator; PERF_FULL=1 runs it
#   tests/interop/tunnel_bench.sh  only as root (it builds network namespaces) and with accel-iked,
#                               accel-ikectl, strongSwan and iperf3 present; TUNNEL_SECS per run (5)
# Environment overrides for the binaries: ESP_BENCH, RUNTIME_BENCH, CRYPTO_SERVICE_BENCH,
# AES_GCM_BENCH, CARD_BENCH, ACCEL_IKED, ACCEL_IKECTL; PERF_TIMEOUT (seconds per bench, 1200).
# A bench that is missing or fails leaves no output behind from an earlier run, so its chart is
# skipped (the PNG of an earlier run stays in docs/perf/ with that run's date in its footnote).
set -u
REPO="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-build}"
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
RESULTS="${2:-$BUILD/perf-results}"
OUT="$REPO/docs/perf"
TIMEOUT="${PERF_TIMEOUT:-1200}"

if [ ! -d "$BUILD" ]; then
  echo "perf_run: no build directory $BUILD (make build, or pass one)" >&2
  exit 1
fi
mkdir -p "$RESULTS"
INFO="$RESULTS/run-info.txt"

note() { echo "perf_run: $*"; }
info() { echo "$1=$2" >>"$INFO"; }

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)"
git_rev="$(GIT_OPTIONAL_LOCKS=0 git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(GIT_OPTIONAL_LOCKS=0 git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  git_rev="$git_rev + uncommitted changes"
fi
: >"$INFO"
touch "$RESULTS/.started"
info date "$(date -u '+%Y-%m-%d %H:%M UTC')"
info host "$(hostname 2>/dev/null || uname -n)"
info cpu "${cpu:-$(uname -m)}"
info cores "$(nproc)"
info load "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
info build "$BUILD"
info git "$git_rev"

# run <name> <mode text> <command...>: stdout to RESULTS/<name>.txt, stderr to <name>.err.
run() {
  local name="$1" mode="$2"
  shift 2
  note "$name ($mode): $*"
  local t0=$SECONDS rc
  timeout "$TIMEOUT" "$@" >"$RESULTS/$name.txt" 2>"$RESULTS/$name.err"
  rc=$?
  info "$name.mode" "$mode"
  info "$name.cmd" "$*"
  info "$name.rc" "$rc"
  info "$name.seconds" "$((SECONDS - t0))"
  if [ "$rc" -ne 0 ]; then
    note "$name exited with status $rc (output kept in $RESULTS/$name.txt, errors in $name.err)"
    tail -5 "$RESULTS/$name.err" | sed 's/^/    /'
  fi
  return 0
}

skip() {  # skip <name> <why>
  note "skipped $1: $2"
  info "$1.mode" "skipped: $2"
}

# Clear the outputs of an earlier run, so a bench that does not run now cannot be charted from them.
rm -f "$RESULTS"/{esp_bench,runtime_bench,crypto_service_bench,aes_gcm_bench,card_bench,tunnel_bench}.{txt,err,json,log,values}

bin() {  # bin <override> <path under BUILD>...: the first executable
  if [ -n "$1" ]; then
    [ -x "$1" ] && echo "$1"
    return
  fi
  shift
  local p
  for p in "$@"; do
    if [ -x "$BUILD/$p" ]; then
      echo "$BUILD/$p"
      return
    fi
  done
}

ESP="$(bin "${ESP_BENCH:-}" bench/esp_bench)"
if [ -n "$ESP" ]; then
  run esp_bench "full" "$ESP" --json "$RESULTS/esp_bench.json"
else
  skip esp_bench "no bench/esp_bench in $BUILD"
fi

RT="$(bin "${RUNTIME_BENCH:-}" bench/runtime_bench)"
if [ -n "$RT" ]; then
  run runtime_bench "full" "$RT"
else
  skip runtime_bench "no bench/runtime_bench in $BUILD"
fi

CS="$(bin "${CRYPTO_SERVICE_BENCH:-}" bench/crypto_service_bench)"
if [ -n "$CS" ]; then
  run crypto_service_bench "full" "$CS"
else
  skip crypto_service_bench "no bench/crypto_service_bench in $BUILD"
fi

GCM="$(bin "${AES_GCM_BENCH:-}" hw/ip/aes_gcm/aes_gcm_bench)"
if [ -n "$GCM" ]; then
  run aes_gcm_bench "full" "$GCM"
else
  skip aes_gcm_bench "no hw/ip/aes_gcm/aes_gcm_bench in $BUILD (needs IPSEC_HW=ON)"
fi

CARD="$(bin "${CARD_BENCH:-}" bench/card_bench)"
if [ -n "$CARD" ]; then
  if [ "${PERF_FULL:-0}" = 1 ]; then
    run card_bench "full" "$CARD"
  else
    run card_bench "quick (64/1500 B, 8 SAs; PERF_FULL=1 for the full sweep)" "$CARD" --quick
  fi
else
  skip card_bench "no bench/card_bench in $BUILD (needs IPSEC_HW=ON and the Verilated card)"
fi

IKED="$(bin "${ACCEL_IKED:-}" host/ike/daemon/accel-iked)"
IKECTL="$(bin "${ACCEL_IKECTL:-}" host/ike/daemon/accel-ikectl)"
if [ "$(id -u)" -ne 0 ]; then
  skip tunnel_bench "not root (it needs network namespaces): run as root for the tunnel chart"
elif [ -z "$IKED" ] || [ -z "$IKECTL" ]; then
  skip tunnel_bench "no accel-iked / accel-ikectl in $BUILD/host/ike/daemon"
elif [ ! -f "$REPO/tests/interop/tunnel_bench.sh" ]; then
  skip tunnel_bench "no tests/interop/tunnel_bench.sh"
else
  # The script's progress log (stdout) goes to tunnel_bench.log; its "tunnel_bench <name> <value>
  # <unit>" lines (TUNNEL_BENCH_OUT) become tunnel_bench.txt, the chart's input.
  export TUNNEL_BENCH_OUT="$RESULTS/tunnel_bench.values"
  run tunnel_bench "${TUNNEL_SECS:-5} s per run" \
    bash "$REPO/tests/interop/tunnel_bench.sh" "$IKED" "$IKECTL" "${TUNNEL_SECS:-5}"
  unset TUNNEL_BENCH_OUT
  mv -f "$RESULTS/tunnel_bench.txt" "$RESULTS/tunnel_bench.log"
  if [ -s "$RESULTS/tunnel_bench.values" ]; then
    mv -f "$RESULTS/tunnel_bench.values" "$RESULTS/tunnel_bench.txt"
  else
    rm -f "$RESULTS/tunnel_bench.values"
    note "tunnel_bench recorded no figures (exit 77 means it skipped itself: strongSwan or iperf3 missing)"
  fi
fi

PY=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import matplotlib' 2>/dev/null; then
    PY="$p"
    break
  fi
done
if [ -z "$PY" ]; then
  echo "perf_run: matplotlib missing (apt-get install python3-matplotlib, or make deps); raw results in $RESULTS" >&2
  exit 1
fi
"$PY" "$REPO/scripts/perf_charts.py" --results "$RESULTS" --out "$OUT"
rc=$?
note "raw outputs: $RESULTS"
note "charts in $OUT:"
for f in "$OUT"/*.png; do
  [ -e "$f" ] || continue
  if [ "$f" -nt "$RESULTS/.started" ]; then
    echo "    $f  (this run)"
  else
    echo "    $f  (left from an earlier run: see its footnote)"
  fi
done
exit $rc
