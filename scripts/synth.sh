#!/usr/bin/env bash
# Synthesis estimate of one RTL top with Yosys 0.23 for UltraScale+:
#   synth.sh <top> <report.txt> "<Param=Value ...>"|- <sources...>
# Runs (1) synth_xilinx -family xcup -abc9 for LUT/FF/CARRY/DSP/BRAM counts and (2) a generic
# 6-LUT mapping with `ltp -noff` for the logic depth in LUT levels between flops (see
# ../shared/hw-tool-notes.md for why two runs). Prints a summary and writes the full report.
# Optional environment:
#   SYNTH_DEPTH_CUT="mod ..."  hierarchical depth: in the depth run these modules are black boxes
#                              whose instances are removed after mapping, so a path ends at their
#                              inputs and starts at their outputs (use for blocks that sit between
#                              registers and have their own synthesis target, e.g. the AES rounds).
#                              The cell counts always cover the whole design.
#   SYNTH_COUNTS=0             depth run only (skip synth_xilinx; the counts read "not run").
set -euo pipefail
top=$1; out=$2; params=$3; shift 3
[ "$params" = "-" ] && params=""
srcs=("$@")
mkdir -p "$(dirname "$out")"
read_cmd="read_verilog -sv ${srcs[*]}"
# chparam syntax: hierarchy -chparam name value (repeatable).
hier="hierarchy -top $top"
for p in $params; do hier+=" -chparam ${p%%=*} ${p#*=}"; done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cut=${SYNTH_DEPTH_CUT:-}
counts=${SYNTH_COUNTS:-1}
bb=""; del=""
for m in $cut; do
  # Parameterised modules are named $paramod\<module>\<params> after hierarchy.
  bb+=" $m \$paramod\\$m\\*"
  del+=" t:$m t:\$paramod\\$m\\*"
done
if [ "$counts" != 0 ]; then
  yosys -q -l "$tmp/xil.log" -p "$read_cmd; $hier; synth_xilinx -family xcup -flatten -noiopad -abc9 -top $top; tee -o $tmp/stat.txt stat" >/dev/null
else
  : > "$tmp/stat.txt"
fi
if [ -n "$cut" ]; then
  # (a module is either plain or parameterised: the other pattern warns, filtered here)
  yosys -q -l "$tmp/ltp.log" -p "$read_cmd; $hier; blackbox$bb; synth -flatten -top $top -run begin:fine; opt -full; memory_map; techmap; opt -fast; abc9 -lut 6; opt_clean; delete$del; tee -o $tmp/ltp.txt ltp -noff" >/dev/null 2>"$tmp/ltp.err" \
    || { cat "$tmp/ltp.err" >&2; exit 1; }
  grep -v 'did not match any module' "$tmp/ltp.err" >&2 || true
else
  yosys -q -l "$tmp/ltp.log" -p "$read_cmd; $hier; synth -flatten -top $top -run begin:fine; opt -full; memory_map; techmap; opt -fast; abc9 -lut 6; opt_clean; tee -o $tmp/ltp.txt ltp -noff" >/dev/null
fi

{
  if [ "$counts" = 0 ]; then
    echo "# Yosys $(yosys -V | awk '{print $2}') depth run only (abc9 -lut 6; ltp -noff): $top ${params}"
    echo "cell counts: not run (SYNTH_COUNTS=0)"
  else
    echo "# Yosys $(yosys -V | awk '{print $2}') synth_xilinx -family xcup -abc9: $top ${params}"
  fi
  grep -E '^\s+(LUT[1-6]|FDRE|FDSE|FDCE|FDPE|CARRY4|CARRY8|DSP48E2|RAMB18E2|RAMB36E2|URAM288|SRL16E|SRLC32E|RAM[0-9A-Z]+|MUXF[78])\s' "$tmp/stat.txt" || true
  luts=$(awk '$1 ~ /^LUT[1-6]$/ {s+=$2} END {print s+0}' "$tmp/stat.txt")
  ffs=$(awk '$1 ~ /^FD[RSCP]E$/ {s+=$2} END {print s+0}' "$tmp/stat.txt")
  if [ "$counts" = 0 ]; then luts="not run"; ffs="not run"; fi
  echo "LUT total: $luts"
  echo "FF total: $ffs"
  depth=$(grep -oE 'Longest topological path in [^ ]+ \(length=[0-9]+\)' "$tmp/ltp.txt" | grep -oE '[0-9]+\)$' | tr -d ')')
  [ -n "$cut" ] && echo "depth run with these modules cut out (measured on their own): $cut"
  echo "logic depth (6-LUT levels, longest path between flops/ports): ${depth:-?}"
} | tee "$out"
