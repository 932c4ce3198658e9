#!/usr/bin/env bash
# Hierarchical synthesis estimate of the whole card top (ipsec_card_top) with Yosys 0.23 for
# UltraScale+, with the AES-GCM core as a black box:
#   synth_card.sh <outdir> [Param=Value ...]
# e.g. nice -n 19 scripts/synth_card.sh build/synth-card                       (contract defaults)
#      nice -n 19 scripts/synth_card.sh build/synth-card-s16 NumSa=16 RingPairs=2 AesLanes=1
#
# Why: synth_xilinx of the whole top with the two aes_gcm_core instances inside did not finish in
# 2 hours on a shared 2-core machine. Even so, expect a long run: with NumSa=16 the counts took
# 106 minutes (14.1 GB peak) and the depth 101 minutes (13.4 GB) on a busy machine, the
# memories-only run at the contract defaults 52 minutes (2.3 GB); `proc` of esp_inbound alone
# takes about 10 minutes (hw/card/doc/theory_of_operation.md, "The whole card top", has the
# results). Run counts and depth as two processes only if the memory allows both. Here each card
# module is mapped once (no -flatten) and aes_gcm_core is read with
# `read_verilog -lib`, so it is an empty box: its resources and depth come from the crypto-core
# synthesis (scripts/synth.sh, docs/performance.md "HDL crypto cores"); add them per instance.
# Sources: hw/card/card_sources.cmake (IPSEC_CARD_TOP_SOURCES), the same list as the ctest
# yosys_read_ipsec_card_top_s16 and the lint of the top.
#
# One Yosys process (run the script under nice -n 19 on a shared machine), in three parts:
#   elab    read + hierarchy, write_json (module names, parameters, instance paths), proc, saved
#   counts  synth_xilinx -family xcup -noiopad -abc9 (hierarchical), stat -top ipsec_card_top:
#           per-module cells and the whole-design total (each module multiplied by its instances)
#   depth   generic 6-LUT mapping (as scripts/synth.sh) without -flatten, after mapping memories
#           with the same UltraScale+ memory_libmap rules as synth_xilinx (so RAMs stay RAMs and
#           small ones become flops), then submodule instances and RAM cells are deleted and
#           `ltp -noff` gives the longest path in LUT levels of each module between its flops,
#           ports, RAM ports and submodule ports.
# Optional environment:
#   SYNTH_CARD_STEPS="counts depth"  which parts to run after elab (default both); "report" only
#                                    rewrites summary.txt from the files of an earlier run;
#                                    "memories" maps only the memories (block RAM/URAM/LUTRAM
#                                    counts, memstat.txt) without the gate-level logic
#   SYNTH_CARD_URAM=1                synth_xilinx -uram (URAM288 for large memories; default off,
#                                    as in synth_xilinx: large memories go to RAMB36/RAMB18)
# Output in <outdir>: summary.txt (also printed), run.log (time-stamped Yosys log), elab.json,
# mems.il, stat.txt, ltp.txt, time.txt (wall and CPU seconds of the Yosys process).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
[ $# -ge 1 ] || { sed -n '2,6p' "$0" >&2; exit 2; }
out=$1; shift
params=("$@")
steps=${SYNTH_CARD_STEPS:-counts depth}
top=ipsec_card_top
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The source list from the CMake include that every build of the top uses.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/src.cmake" <<'EOF'
include(${CARD}/card_sources.cmake)
foreach(s ${IPSEC_CARD_TOP_SOURCES})
  message("${s}")
endforeach()
EOF
mapfile -t srcs < <(cmake -DCARD="$root/hw/card" -P "$tmp/src.cmake" 2>&1)
rtl=(); lib=()
for s in "${srcs[@]}"; do
  [ -f "$s" ] || { echo "synth_card.sh: source not found: $s" >&2; exit 1; }
  case "$(basename "$s")" in
    aes_gcm_core.sv) lib+=("$s") ;;
    *) rtl+=("$s") ;;
  esac
done
[ ${#lib[@]} -eq 1 ] || { echo "synth_card.sh: aes_gcm_core.sv not in the source list" >&2; exit 1; }

read_cmd="read_verilog -sv ${rtl[*]}; read_verilog -sv -lib ${lib[*]}"
hier="hierarchy -check -top $top"
for p in "${params[@]}"; do
  case "$p" in *=*) ;; *) echo "synth_card.sh: expected Param=Value, got $p" >&2; exit 2 ;; esac
  hier+=" -chparam ${p%%=*} ${p#*=}"
done
uram=""; no_huge="-no-auto-huge"
if [ "${SYNTH_CARD_URAM:-0}" = 1 ]; then uram="-uram"; no_huge=""; fi
# synth_xilinx's map_memory step for -family xcup (Yosys 0.23), used by the depth run.
libmap="memory_libmap -lib +/xilinx/lutrams_xcu.txt -lib +/xilinx/brams_xc4v.txt -D HAS_SIZE_36 -D HAS_CASCADE -D HAS_MIXWIDTH_SDP -D HAS_ADDRCE -lib +/xilinx/urams.txt $no_huge"

# One Yosys process (proc of esp_inbound alone takes minutes, so it is done once): elaborate,
# write the module/instance list, proc, save; counts; reload; depth. `yosys -t` time-stamps the
# log, so run.log shows where the time goes.
script="$read_cmd; $hier"
script+="; design -save hier; delete */p:*; write_json $out/elab.json; design -load hier"
script+="; proc; design -save elab"
# synth_xilinx up to its memory mapping, saving the memories as Yosys sees them just before.
xil="synth_xilinx -family xcup -noiopad -abc9 $uram -top $top"
to_memory="; $xil -run begin:map_memory; select */t:\$mem_v2; write_rtlil -selected $out/mems.il; select -clear"
case " $steps " in *" counts "*)
  script+="$to_memory; $xil -run map_memory:; tee -q -o $out/stat.txt stat -top $top; design -load elab" ;;
esac
case " $steps " in *" memories "*)
  # Memories only (the contract defaults' 4096-SA tables in reach of a shorter run): through
  # synth_xilinx's map_memory step, then `stat` counts the block RAM, URAM and LUTRAM primitives
  # per module and for the whole top, without the gate-level mapping of the logic.
  case " $steps " in *" counts "*) echo "synth_card.sh: 'memories' is part of 'counts'" >&2; exit 2 ;; esac
  script+="$to_memory; $xil -run map_memory:map_ffram; tee -q -o $out/memstat.txt stat -top $top; design -load elab" ;;
esac
case " $steps " in *" depth "*)
  # `delete =* %C` removes every instance of a module of the design (submodules and the
  # aes_gcm_core box) after mapping, so paths end at their ports; RAM cells ($__XILINX_*) have
  # no known port directions and cut paths by themselves.
  script+="; synth -top $top -run begin:fine; opt -full; $libmap; memory_map; techmap; opt -fast"
  script+="; abc9 -lut 6; opt_clean; delete =* %C; tee -q -o $out/ltp.txt ltp -noff" ;;
esac
if [ "$steps" != report ]; then
rm -f "$out/stat.txt" "$out/ltp.txt" "$out/mems.il" "$out/elab.json" "$out/memstat.txt"
echo "synth_card.sh: yosys started $(date +%T), log $out/run.log" >&2
/usr/bin/time -f "wall_s=%e user_s=%U sys_s=%S maxrss_kb=%M" -o "$out/time.txt" \
  yosys -t -q -l "$out/run.log" -p "$script" >/dev/null
echo "synth_card.sh: yosys finished $(date +%T)" >&2
fi

python3 - "$out" "$top" "$(yosys -V)" "${params[*]:-(contract defaults)}" "$uram" <<'PY' | tee "$out/summary.txt"
import json, os, re, sys
from collections import defaultdict, OrderedDict
out, top, yver, params, uram = sys.argv[1:6]
def lines(name):  # a file written by `yosys -t`: drop the time stamps
    for line in open(os.path.join(out, name)):
        yield re.sub(r"^\[[0-9.]+\] ", "", line)

d = json.load(open(os.path.join(out, "elab.json")))["modules"]
def pint(v):
    try: return int(v, 2) if set(v) <= {"0", "1"} else v
    except Exception: return v
def base(name):
    m = d.get(name, {})
    hn = m.get("attributes", {}).get("hdlname")
    if hn: return hn.lstrip("\\")
    return re.sub(r".*\\", "", name) if name.startswith("$paramod") else name

# Instances: module -> list of hierarchical paths.
paths = defaultdict(list)
bbpar = {}   # black box -> parameters of (one of) its instances
def walk(mod, path):
    paths[mod].append(path)
    for cname, c in d[mod]["cells"].items():
        t = c["type"]
        if t in d and not d[t].get("attributes", {}).get("blackbox"):
            walk(t, path + "." + cname.lstrip("\\"))
        elif t in d:
            paths[t].append(path + "." + cname.lstrip("\\"))
            bbpar[t] = c.get("parameters") or {}
walk(top, top)
order = list(paths.keys())
# Short names: base name, numbered when one source module has several parameterisations.
short = {}
count = defaultdict(int)
for m in order:
    b = base(m); count[b] += 1
seen = defaultdict(int)
for m in order:
    b = base(m)
    if count[b] > 1:
        seen[b] += 1; short[m] = "%s#%d" % (b, seen[b])
    else:
        short[m] = b

def param_str(m):
    pv = bbpar.get(m) or d[m].get("parameter_default_values") or {}
    return ", ".join("%s=%s" % (k, pint(v)) for k, v in pv.items())

print("# ipsec_card_top, Yosys hierarchical estimate for UltraScale+ (xcup)")
print("# %s; parameters: %s%s" % (yver, params, "; synth_xilinx -uram" if uram else ""))
print("# aes_gcm_core is a black box (read_verilog -lib): add its own figures per instance")
try:
    for line in lines("time.txt"):
        print("# time: " + line.strip())
except FileNotFoundError:
    pass

# --- memories (from mems.il: the $mem_v2 cells just before synth_xilinx maps memories;
# the mapping chosen from memory_libmap's lines in run.log) ---
mems = []
il = os.path.join(out, "mems.il")
if os.path.exists(il):
    cur = None; cell = None
    for line in lines("mems.il"):
        t = line.split()
        if not t: continue
        if t[0] == "module":
            cur = t[1].lstrip("\\") if not t[1].startswith("$") else t[1]
        elif t[0] == "cell" and t[1] == "$mem_v2":
            cell = {"m": cur}; mems.append(cell)
        elif t[0] == "parameter" and cell is not None and len(t) >= 3:
            cell[t[1].lstrip("\\")] = t[2].strip('"').lstrip("\\")
    mems = [(c["m"], c.get("MEMID", "?"), int(c.get("SIZE", 0)), int(c.get("WIDTH", 0)),
             int(c.get("RD_PORTS", 0)), int(c.get("WR_PORTS", 0))) for c in mems if c["m"] in paths]
mapping = {}
log = os.path.join(out, "run.log")
if os.path.exists(log):
    for line in lines("run.log"):
        r = re.search(r"mapping memory ([^.\s]+)\.(\S+) via (\S+)", line)
        if r: mapping[(r.group(1), r.group(2))] = r.group(3).strip("$_").replace("XILINX_", "")
        r = re.search(r"using FF mapping for memory ([^.\s]+)\.(\S+)", line)
        if r: mapping[(r.group(1), r.group(2))] = "flops"
if mems:
    print("\n## Memories (words x bits, read/write ports -> synth_xilinx mapping), per instance")
    for m, mid, size, width, rp, wp in mems:
        tgt = mapping.get((m, mid), "?")
        print("  %-22s %-16s %6d x %-4d r%d w%d  x%d  -> %s" % (short[m], mid, size, width, rp, wp,
              len(paths[m]), tgt))

# --- memory primitives only (SYNTH_CARD_STEPS=memories) ---
ms = os.path.join(out, "memstat.txt")
if os.path.exists(ms):
    txt = "".join(lines("memstat.txt"))
    h = txt.split("=== design hierarchy ===")
    tot = defaultdict(int)
    if len(h) > 1:
        for line in h[1].splitlines():
            r = re.match(r"\s+(\S+)\s+(\d+)$", line)
            if r and re.match(r"(RAMB(36|18)|URAM288|RAM(16|32|64|128|256|512)[XM]|RAM32M16|RAM64M8)", r.group(1)):
                tot[r.group(1)] += int(r.group(2))
    print("\n## Memory primitives of the whole top after synth_xilinx map_memory (x instances)")
    for k in sorted(tot):
        print("  %-22s %7d" % (k, tot[k]))
    r36 = sum(v for k, v in tot.items() if k.startswith("RAMB36"))
    r18 = sum(v for k, v in tot.items() if k.startswith("RAMB18"))
    print("  %-22s %7.1f  (RAMB36 + RAMB18 / 2)" % ("RAMB36 equivalent", r36 + r18 / 2.0))

# --- counts ---
stat = os.path.join(out, "stat.txt")
cats = OrderedDict([("LUT", r"LUT[1-6]$"), ("FF", r"FD[RSCP]E$"), ("CARRY", r"CARRY[48]$"),
    ("LUTRAM", r"RAM(16|32|64|128|256|512)[XM].*|RAM32M16|RAM64M8"), ("SRL", r"SRL.*"),
    ("RAMB36", r"RAMB36.*"), ("RAMB18", r"RAMB18.*"), ("URAM", r"URAM288.*"), ("DSP", r"DSP48.*"),
    ("MUXF", r"MUXF[789]$")])
if os.path.exists(stat):
    per = defaultdict(lambda: defaultdict(int))
    cur = None
    for line in lines("stat.txt"):
        r = re.match(r"=== (.*) ===$", line.strip())
        if r:
            cur = r.group(1); continue
        r = re.match(r"\s+(\S+)\s+(\d+)$", line)
        if r and cur and cur != "design hierarchy":
            per[cur][r.group(1)] += int(r.group(2))
    def catcount(cells):
        res = OrderedDict((k, 0) for k in cats)
        for t, n in cells.items():
            for k, rx in cats.items():
                if re.match(rx, t): res[k] += n; break
        return res
    total = OrderedDict((k, 0) for k in cats)
    print("\n## Cells per module (one instance) and x instances in the whole top")
    print("  %-22s %4s " % ("module", "inst") + " ".join("%7s" % k for k in cats))
    for m in order:
        if m not in per:
            continue
        c = catcount(per[m])
        n = len(paths[m])
        for k in cats: total[k] += c[k] * n
        print("  %-22s %4d " % (short[m], n) + " ".join("%7d" % c[k] for k in cats))
    print("  %-22s %4s " % ("TOTAL (x instances)", "") + " ".join("%7d" % total[k] for k in cats))
    boxes = [m for m in order if d[m].get("attributes", {}).get("blackbox")]
    for b in boxes:
        print("  + %d x %s (black box, not counted): %s" % (len(paths[b]), base(b), "; ".join(paths[b])))
    # Cross-check with stat -top's own hierarchy total.
    txt = "".join(lines("stat.txt"))
    h = txt.split("=== design hierarchy ===")
    if len(h) > 1:
        tot = defaultdict(int)
        for line in h[1].splitlines():
            r = re.match(r"\s+(\S+)\s+(\d+)$", line)
            if r and not r.group(1) in d: tot[r.group(1)] += int(r.group(2))
        c = catcount(tot)
        print("  %-22s %4s " % ("stat -top total", "") + " ".join("%7d" % c[k] for k in cats))

# --- depth ---
ltp = os.path.join(out, "ltp.txt")
if os.path.exists(ltp):
    res = []
    cur = None
    for line in lines("ltp.txt"):
        r = re.match(r"Longest topological path in (\S+) \(length=(\d+)\):", line)
        if r:
            cur = [r.group(1), int(r.group(2)), []]; res.append(cur); continue
        r = re.match(r"\s+(\w+): (.*)$", line)
        if r and cur: cur[2].append((r.group(1), r.group(2)))
    def clean(s):
        s = re.sub(r" \(via .*\)$", "", s)
        return s.replace("\\", "").replace(" [", "[")
    print("\n## Logic depth per module (6-LUT levels between flops, ports, RAM and submodule ports)")
    for m, n, steps in sorted(res, key=lambda x: -x[1]):
        if m not in short: continue
        a = clean(steps[0][1]) if steps else "?"
        b = clean(steps[-1][1]) if steps else "?"
        tag = " (ends at a flop)" if steps and steps[-1][0] == "ff" else ""
        print("  %-22s %2d  %s -> %s%s" % (short[m], n, a, b, tag))

print("\n## Module legend (parameters; instances)")
for m in order:
    ps = param_str(m)
    print("  %-22s %s" % (short[m], base(m) + ("(" + ps + ")" if ps else "")))
    for p in paths[m][:6]:
        print("  %-22s   %s" % ("", p))
    if len(paths[m]) > 6:
        print("  %-22s   ... %d more" % ("", len(paths[m]) - 6))
PY
