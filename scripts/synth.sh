#!/usr/bin/env bash
# Synthesis estimate of one RTL top with Yosys 0.23 for UltraScale+:
#   synth.sh <top> <report.txt> "<Param=Value ...>"|- <sources...>
# Runs (1) synth_xilinx -family xcup -abc9 for LUT/FF/CARRY/DSP/BRAM counts and (2) a generic
# 6-LUT mapping with `ltp -noff` for the logic depth in LUT levels between flops (see
# ../shared/hw-tool-notes.md for why two runs). Prints a summary and writes the full report.
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
yosys -q -l "$tmp/xil.log" -p "$read_cmd; $hier; synth_xilinx -family xcup -flatten -noiopad -abc9 -top $top; tee -o $tmp/stat.txt stat" >/dev/null
yosys -q -l "$tmp/ltp.log" -p "$read_cmd; $hier; synth -flatten -top $top -run begin:fine; opt -full; memory_map; techmap; opt -fast; abc9 -lut 6; opt_clean; tee -o $tmp/ltp.txt ltp -noff" >/dev/null

{
  echo "# Yosys $(yosys -V | awk '{print $2}') synth_xilinx -family xcup -abc9: $top ${params}"
  grep -E '^\s+(LUT[1-6]|FDRE|FDSE|FDCE|FDPE|CARRY4|CARRY8|DSP48E2|RAMB18E2|RAMB36E2|URAM288|SRL16E|SRLC32E|RAM[0-9A-Z]+|MUXF[78])\s' "$tmp/stat.txt" || true
  luts=$(awk '$1 ~ /^LUT[1-6]$/ {s+=$2} END {print s+0}' "$tmp/stat.txt")
  ffs=$(awk '$1 ~ /^FD[RSCP]E$/ {s+=$2} END {print s+0}' "$tmp/stat.txt")
  echo "LUT total: $luts"
  echo "FF total: $ffs"
  depth=$(grep -oE 'Longest topological path in [^ ]+ \(length=[0-9]+\)' "$tmp/ltp.txt" | grep -oE '[0-9]+\)$' | tr -d ')')
  echo "logic depth (6-LUT levels, longest path between flops/ports): ${depth:-?}"
} | tee "$out"
