#!/usr/bin/env bash
# Installs the Debian packages ipsec-accel needs. Idempotent: packages already present are skipped,
# and apt is not touched at all when nothing is missing. Needs root (or sudo) only when something
# has to be installed.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build ccache pkg-config
  python3                           # scripts/gen_regmap.py (card register map generator)
  python3-matplotlib                # scripts/perf_charts.py (make charts: docs/perf/*.png)
  clang libclang-rt-14-dev          # libFuzzer and sanitizer runtimes
  libssl-dev                        # OpenSSL 3: reference crypto
  libipsec-mb-dev                   # intel-ipsec-mb: fast-path crypto
  libgtest-dev libgmock-dev libbenchmark-dev
  libpcap-dev                       # capture files for the ESP tool
  libboost-dev
  libxrt-dev uuid-dev               # XRT 2.13: the xrt device backend (driver/xrt) builds and links in CI
  verilator yosys                   # RTL simulation and synthesis estimates
  nlohmann-json3-dev                # reading Wycheproof JSON vectors in tests
  # strongSwan 5.9 as the IKEv2 interop peer (tests/interop), and the tools those tests drive
  strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins
  libstrongswan-extra-plugins
  strongswan-pki iproute2 iputils-ping iperf3
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "setup-deps: missing packages (${missing[*]}) and not root; install them or re-run as root" >&2
    exit 1
  fi
fi
echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
