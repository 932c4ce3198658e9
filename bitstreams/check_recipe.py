#!/usr/bin/env python3
"""Offline checks of the bitstream recipe (no Xilinx tools needed).

- every source in the list exists, packages come before their users, the top is last;
- kernel.xml parses, is user-managed with an interrupt, and names ports the top really has
  (s_axi_control, m_axi_gmem) with the widths the top declares (32-bit lite data, 512-bit master);
- the s_axi_control range equals the contract's BAR size (hw/card/data/ipsec_card.json);
- the argument's offset is a hole of the register map (the card never decodes it);
- every link configuration instantiates the kernel by its name and maps m_axi_gmem.
Usage: check_recipe.py <sources.f>
"""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def fail(msg):
    print(f"check_recipe: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 2:
        fail("usage: check_recipe.py <sources.f>")
    srcs = [l.strip() for l in open(sys.argv[1]) if l.strip()]
    if not srcs:
        fail("empty source list")
    for s in srcs:
        if not os.path.isfile(s):
            fail(f"missing source {s}")
    names = [os.path.basename(s) for s in srcs]
    if names[-1] != "ipsec_card_top.sv":
        fail("the top must be the last source")
    first_module = next(i for i, n in enumerate(names) if not n.endswith("_pkg.sv"))
    if any(n.endswith("_pkg.sv") for n in names[first_module:]):
        fail("packages must come before the modules (Yosys reads in order)")

    top = open(srcs[-1]).read()
    m = re.search(r"module\s+ipsec_card_top\b(.*?)\);", top, re.S)
    if not m:
        fail("no module ipsec_card_top")
    header = m.group(1)
    for port, width in [("s_axi_control_wdata", "31:0"), ("m_axi_gmem_wdata", "511:0"),
                        ("m_axi_gmem_araddr", "63:0"), ("interrupt", None), ("ap_clk", None),
                        ("ap_rst_n", None)]:
        pm = re.search(r"(input|output)\s+logic\s*(\[[^\]]*\])?\s*" + port + r"\b", header)
        if not pm:
            fail(f"ipsec_card_top has no port {port}")
        if width and (pm.group(2) or "").strip("[]").replace(" ", "") != width:
            fail(f"port {port} is {pm.group(2)}, kernel.xml assumes [{width}]")

    k = ET.parse(os.path.join(HERE, "kernel.xml")).getroot().find("kernel")
    if k is None or k.get("name") != "ipsec_card":
        fail("kernel.xml: kernel ipsec_card not found")
    if k.get("hwControlProtocol") != "user_managed" or k.get("interrupt") != "true":
        fail("kernel.xml: must be user_managed with an interrupt")
    ports = {p.get("name"): p for p in k.find("ports")}
    for p in ("s_axi_control", "m_axi_gmem"):
        if p not in ports:
            fail(f"kernel.xml: port {p} missing")
    contract = json.load(open(os.path.join(ROOT, "hw/card/data/ipsec_card.json")))
    if int(ports["s_axi_control"].get("range"), 16) != contract["bar_bytes"]:
        fail("kernel.xml: s_axi_control range differs from the contract's BAR size")
    if ports["m_axi_gmem"].get("dataWidth") != "512":
        fail("kernel.xml: m_axi_gmem must be 512 bits")
    arg = k.find("args").find("arg")
    off = int(arg.get("offset"), 16)
    for b in contract["blocks"]:
        base = int(b["offset"], 16)
        for r in b["registers"]:
            ro = base + int(r["offset"], 16)
            span = int(r.get("count", 1)) * int(str(r.get("stride", 4)), 0)
            if ro <= off < ro + span:
                fail(f"kernel.xml: argument offset {off:#x} is register {b['name']}.{r['name']}")
        for g in b.get("groups", []):
            go = base + int(str(g["offset"]), 0)
            span = int(g.get("max_count", 1)) * int(str(g.get("stride", 0)), 0)
            if go <= off < go + span:
                fail(f"kernel.xml: argument offset {off:#x} is inside group {b['name']}.{g['name']}")
        if base <= off < base + 12:
            fail(f"kernel.xml: argument offset {off:#x} is a block header")
    for cfg in ("u55c.cfg", "u250.cfg"):
        text = open(os.path.join(HERE, cfg)).read()
        if "nk=ipsec_card:1:ipsec_card_1" not in text or "ipsec_card_1.m_axi_gmem:" not in text:
            fail(f"{cfg}: kernel instance or m_axi_gmem mapping missing")
    print(f"check_recipe: ok ({len(srcs)} sources, kernel.xml and {2} link configurations consistent)")


if __name__ == "__main__":
    main()
