#!/usr/bin/env python3
"""Generates the card's register map and record layouts from their one source.

    scripts/gen_regmap.py            rewrite the generated files (only those that changed)
    scripts/gen_regmap.py --check    exit 1 and print a diff if any generated file is stale
    scripts/gen_regmap.py --out-dir D  write the outputs under D (same relative paths) instead

Source: hw/card/data/ipsec_card.json (format described in docs/device-interface.md, "The source
file"). Outputs, all checked in:
  hw/card/rtl/ipsec_card_pkg.sv            SystemVerilog package (Yosys 0.23 subset)
  driver/include/ipsec_accel/card_regs.h   C++20 header: offsets, fields, enums, record codecs
  docs/device-interface.md                 the tables between BEGIN/END GENERATED markers

Python 3 standard library only. The output depends on nothing but the source file, so the
staleness test (tests/card_contract) can compare byte for byte.
"""

import argparse
import difflib
import json
import os
import re
import textwrap
import sys

SOURCE = "hw/card/data/ipsec_card.json"
SV_OUT = "hw/card/rtl/ipsec_card_pkg.sv"
CPP_OUT = "driver/include/ipsec_accel/card_regs.h"
DOC_OUT = "docs/device-interface.md"
GENERATOR = "scripts/gen_regmap.py"

ACCESS = ("RO", "RW", "WO", "W1C", "W1S")
REG_BYTES = 4


class SpecError(Exception):
    pass


def num(v, what):
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        try:
            return int(v, 0)
        except ValueError:
            pass
    raise SpecError(f"{what}: not a number: {v!r}")


def camel(name):
    return "".join(p[:1].upper() + p[1:] for p in name.split("_"))


def upper(name):
    return name.upper()


# --------------------------------------------------------------------------------------------
# Model: the JSON, checked and with every offset and reset value resolved.
# --------------------------------------------------------------------------------------------

class Model:
    def __init__(self, spec):
        self.spec = spec
        self.name = spec["name"]
        lv = spec["layout_version"]
        self.version_major = num(lv["major"], "layout_version.major")
        self.version_minor = num(lv["minor"], "layout_version.minor")
        self.bar_bytes = num(spec["bar_bytes"], "bar_bytes")
        self.params = []
        self.param_default = {}
        for p in spec["params"]:
            d, lo, hi = num(p["default"], p["name"]), num(p["min"], p["name"]), num(p["max"], p["name"])
            if not lo <= d <= hi:
                raise SpecError(f"param {p['name']}: default {d} outside [{lo}, {hi}]")
            self.params.append(dict(p, default=d, min=lo, max=hi))
            self.param_default[p["name"]] = d
        self.enums = {}
        for e in spec["enums"]:
            w = num(e["width"], e["name"])
            seen = set()
            for v in e["values"]:
                val = num(v["value"], f"{e['name']}.{v['name']}")
                if val >= (1 << w) or val in seen:
                    raise SpecError(f"enum {e['name']}: value {v['name']} = {val} out of range or repeated")
                seen.add(val)
            self.enums[e["name"]] = dict(e, width=w)
        self.records = [self._record(r) for r in spec["records"]]
        self.record_size = {r["name"]: r["size"] for r in self.records}
        self.blocks = self._blocks(spec["blocks"], spec["block_header"])

    # A reset value: an integer, "param:<name>" (its default), "record:<name>" (its size) or
    # "group:<name>:stride|offset". Returns (value, symbol or None).
    def reset_value(self, v, what, groups=None):
        if isinstance(v, str) and v.startswith("param:"):
            p = v[6:]
            if p not in self.param_default:
                raise SpecError(f"{what}: unknown param {p}")
            return self.param_default[p], p
        if isinstance(v, str) and v.startswith("record:"):
            r = v[7:]
            if r not in self.record_size:
                raise SpecError(f"{what}: unknown record {r}")
            return self.record_size[r], None
        if isinstance(v, str) and v.startswith("group:"):
            _, g, attr = v.split(":")
            for grp in groups or []:
                if grp["name"] == g:
                    return grp[attr], None
            raise SpecError(f"{what}: unknown group {g}")
        return num(v, what), None

    def _fields(self, reg, what, groups):
        access = reg.get("access")
        raw = reg.get("fields")
        if raw is None:
            raw = [{"name": "", "bits": "31:0", "reset": reg.get("reset", 0), "desc": ""}]
        # A register-level reset on a register with fields gives each field without its own reset
        # its bits of that value.
        reg_reset, _ = self.reset_value(reg.get("reset", 0), what, groups)
        fields, used = [], 0
        for f in raw:
            fw = f"{what}.{f['name']}"
            m = re.fullmatch(r"(\d+)(?::(\d+))?", f["bits"])
            if not m:
                raise SpecError(f"{fw}: bad bits {f['bits']!r}")
            hi = int(m.group(1))
            lo = int(m.group(2)) if m.group(2) is not None else hi
            if not 0 <= lo <= hi < 32:
                raise SpecError(f"{fw}: bits {f['bits']} outside 31:0")
            width = hi - lo + 1
            mask = ((1 << width) - 1) << lo
            if used & mask:
                raise SpecError(f"{fw}: overlaps another field")
            used |= mask
            facc = f.get("access", access)
            if facc not in ACCESS:
                raise SpecError(f"{fw}: access {facc!r} not one of {ACCESS}")
            if "reset" in f:
                rv, rsym = self.reset_value(f["reset"], fw, groups)
            else:
                rv, rsym = (reg_reset >> lo) & ((1 << (hi - lo + 1)) - 1), None
            if rv >= (1 << width):
                raise SpecError(f"{fw}: reset {rv:#x} does not fit {width} bits")
            if facc in ("WO", "W1S") and rv != 0:
                raise SpecError(f"{fw}: write-only fields read 0, so their reset must be 0")
            enum = f.get("enum")
            if enum is not None and (enum not in self.enums or self.enums[enum]["width"] > width):
                raise SpecError(f"{fw}: enum {enum} unknown or wider than the field")
            fields.append(dict(name=f["name"], lo=lo, hi=hi, width=width, access=facc, reset=rv,
                               reset_sym=rsym, enum=enum, desc=f.get("desc", "")))
        reset = 0
        for f in fields:
            reset |= f["reset"] << f["lo"]
        accs = {f["access"] for f in fields}
        if access is None:
            access = accs.pop() if len(accs) == 1 else "RW"
        return fields, reset, access

    def _reg(self, r, prefix, block_what, groups):
        what = f"{block_what}.{r['name']}"
        fields, reset, access = self._fields(r, what, groups)
        count = num(r.get("count", 1), what)
        stride = num(r.get("stride", REG_BYTES), what)
        off = num(r["offset"], what)
        if off % REG_BYTES or stride % REG_BYTES:
            raise SpecError(f"{what}: offset/stride not 32-bit aligned")
        explicit = r.get("fields") is not None
        return dict(name=r["name"], full=f"{prefix}_{r['name']}", offset=off, count=count, stride=stride,
                    access=access, reset=reset, fields=fields, explicit_fields=explicit, desc=r.get("desc", ""),
                    reset_sym=fields[0]["reset_sym"] if not explicit else self.reset_value(r.get("reset", 0), what, groups)[1])

    def _blocks(self, raw_blocks, header):
        blocks = []
        for i, b in enumerate(raw_blocks):
            off = num(b["offset"], b["name"])
            nxt = num(raw_blocks[i + 1]["offset"], "next") if i + 1 < len(raw_blocks) else 0
            end = nxt if nxt else self.bar_bytes
            if nxt and nxt <= off:
                raise SpecError(f"block {b['name']}: blocks must be in ascending offset order")
            hdr_vals = {"type": num(b["type"], b["name"]), "version": num(b["version"], b["name"]), "next": nxt}
            groups = []
            for g in b.get("groups", []):
                gw = f"{b['name']}.{g['name']}"
                gcount, gsym = self.reset_value(g["count"], gw)
                gd = dict(name=g["name"], offset=num(g["offset"], gw), stride=num(g["stride"], gw),
                          count=gcount, count_sym=gsym, max_count=num(g["max_count"], gw), desc=g.get("desc", ""))
                if gsym:
                    pmax = next(p["max"] for p in self.params if p["name"] == gsym)
                    if pmax > gd["max_count"]:
                        raise SpecError(f"{gw}: param {gsym} may exceed max_count")
                groups.append(gd)
            regs = []
            for h in header:
                regs.append(self._reg(dict(name=h["name"], offset=len(regs) * REG_BYTES, access="RO",
                                           reset=hdr_vals[h["name"]], desc=h["desc"]), b["name"], b["name"], groups))
            for r in b.get("registers", []):
                regs.append(self._reg(r, b["name"], b["name"], groups))
            for gd, g in zip(groups, b.get("groups", [])):
                gd["registers"] = [self._reg(r, g["name"], f"{b['name']}.{g['name']}", groups)
                                   for r in g["registers"]]
                for r in gd["registers"]:
                    if r["count"] != 1:
                        raise SpecError(f"group {g['name']}: arrays inside groups are not supported")
                    if r["offset"] + REG_BYTES > gd["stride"]:
                        raise SpecError(f"group {g['name']}.{r['name']}: beyond the stride")
            # Every byte of the block is claimed at most once and lies before the next block.
            claims = []
            for r in regs:
                for k in range(r["count"]):
                    claims.append((r["offset"] + k * r["stride"], r["full"]))
            for gd in groups:
                for n in range(gd["max_count"]):
                    for r in gd["registers"]:
                        claims.append((gd["offset"] + n * gd["stride"] + r["offset"], f"{gd['name']}{n}.{r['name']}"))
            seen = {}
            for o, who in claims:
                if o in seen:
                    raise SpecError(f"block {b['name']}: {who} and {seen[o]} both at +{o:#x}")
                if off + o + REG_BYTES > end:
                    raise SpecError(f"block {b['name']}: {who} at +{o:#x} runs into the next block")
                seen[o] = who
            blocks.append(dict(name=b["name"], offset=off, type=hdr_vals["type"], version=hdr_vals["version"],
                               next=nxt, desc=b.get("desc", ""), registers=regs, groups=groups))
        if blocks[0]["offset"] != 0:
            raise SpecError("the ID block must be the first block, at offset 0")
        return blocks

    def _record(self, r):
        size = num(r["size"], r["name"])
        if size % 4:
            raise SpecError(f"record {r['name']}: size must be a multiple of 4")
        used = [0] * size
        fields = []
        for f in r["fields"]:
            what = f"{r['name']}.{f['name']}"
            byte, lsb, width = num(f["byte"], what), num(f.get("lsb", 0), what), num(f["width"], what)
            bit = byte * 8 + lsb
            kind = f.get("type", "uint")
            if kind == "bytes":
                if lsb or width % 8:
                    raise SpecError(f"{what}: byte strings are byte-aligned and whole bytes")
            elif kind != "uint" or width > 64:
                raise SpecError(f"{what}: uint fields are at most 64 bits")
            if bit + width > size * 8:
                raise SpecError(f"{what}: beyond the record")
            for b in range(bit, bit + width):
                if used[b // 8] & (1 << (b % 8)):
                    raise SpecError(f"{what}: overlaps another field")
                used[b // 8] |= 1 << (b % 8)
            enum = f.get("enum")
            if enum is not None and (enum not in self.enums or self.enums[enum]["width"] != width):
                raise SpecError(f"{what}: enum {enum} unknown or of another width")
            fields.append(dict(name=f["name"], bit=bit, byte=byte, lsb=lsb, width=width, kind=kind, enum=enum,
                               desc=f.get("desc", "")))
        return dict(name=r["name"], size=size, desc=r.get("desc", ""), fields=fields, used=used)


# --------------------------------------------------------------------------------------------
# SystemVerilog package
# --------------------------------------------------------------------------------------------

def sv_hex(v, w):
    return f"{w}'h{v:0{(w + 3) // 4}x}"


def gen_sv(m):
    o = []
    w = o.append
    w(f"// Generated by {GENERATOR} from {SOURCE}; do not edit.")
    w("// SPDX-License-Identifier: Apache-2.0")
    w("//")
    w("// The card's contract as seen by the RTL: register offsets (byte addresses in the AXI4-Lite")
    w("// BAR), field positions, reset values at the default parameters, enumerations, and the DMA")
    w("// record layouts as packed structs. Records are little-endian byte strings: record bit b is")
    w("// bit b % 8 of byte b / 8, so the struct's bit 0 is bit 0 of byte 0 and a 512-bit DMA beat")
    w("// holds record byte k in bits [8k+7:8k]. Byte-string fields (addresses) keep network order:")
    w("// their byte 0 is the field's lowest byte. Human-readable tables: docs/device-interface.md.")
    w("//")
    w("// Yosys 0.23 subset (shared/hw-tool-notes.md): no packed multi-dimensional arrays, no")
    w("// `return`; modules use ipsec_card_pkg::Name rather than importing the package.")
    w("`default_nettype none")
    w("")
    w(f"package {m.name}_pkg;")
    w("")
    w("  // Layout version (ID block VERSION): major [31:16], minor [15:0].")
    w(f"  localparam int unsigned LayoutVersionMajor = {m.version_major};")
    w(f"  localparam int unsigned LayoutVersionMinor = {m.version_minor};")
    w(f"  localparam int unsigned BarBytes = {m.bar_bytes};")
    w(f"  localparam int unsigned BlockHeaderRegs = {len(m.spec['block_header'])};  // TYPE, VERSION, NEXT")
    w("")
    w("  ////////////////////////////////////////////////////////")
    w("  // Parameter defaults (the RTL top's parameters)      //")
    w("  ////////////////////////////////////////////////////////")
    for p in m.params:
        w(cpp_comment(f"{p['desc']} Range {p['min']} .. {p['max']}.", "  "))
        w(f"  localparam int unsigned {camel(p['name'])}Default = {p['default']};")
    w("")
    w("  ////////////////////////////////////////////////////////")
    w("  // Enumerations                                       //")
    w("  ////////////////////////////////////////////////////////")
    for e in m.enums.values():
        ew = e["width"]
        w(cpp_comment(e["desc"], "  "))
        dim = "" if ew == 1 else f" [{ew - 1}:0]"
        w(f"  typedef enum logic{dim} {{")
        vals = e["values"]
        for i, v in enumerate(vals):
            comma = "," if i + 1 < len(vals) else ""
            w(cpp_comment(v["desc"], "    "))
            w(f"    {camel(e['name'])}{camel(v['name'])} = {ew}'d{num(v['value'], '')}{comma}")
        w(f"  }} {e['name']}_e;")
        w("")
    w("  ////////////////////////////////////////////////////////")
    w("  // Register map: <Block><Reg>Offset is the byte address //")
    w("  ////////////////////////////////////////////////////////")

    def sv_reg(r, base, rel, prefix):
        n = camel(prefix)
        kind = "relative to the group base" if rel else "byte address"
        w(cpp_comment(f"{upper(r['full'])} ({r['access']}): {r['desc']}", "  "))
        w(f"  localparam logic [15:0] {n}Offset = {sv_hex(base + r['offset'], 16)};  // {kind}")
        if r["count"] > 1:
            w(f"  localparam int unsigned {n}Count = {r['count']};")
            w(f"  localparam int unsigned {n}Stride = {r['stride']};")
        w(f"  localparam logic [31:0] {n}Reset = {sv_hex(r['reset'], 32)};")
        if r["explicit_fields"]:
            for f in r["fields"]:
                fn = n + camel(f["name"])
                w(f"  localparam int unsigned {fn}Lsb = {f['lo']};")
                w(f"  localparam int unsigned {fn}Width = {f['width']};")

    for b in m.blocks:
        w("")
        w(cpp_comment(f"Block {upper(b['name'])} at {b['offset']:#06x}: {b['desc']}", "  "))
        w(f"  localparam logic [15:0] {camel(b['name'])}Base = {sv_hex(b['offset'], 16)};")
        for r in b["registers"]:
            sv_reg(r, b["offset"], False, r["full"])
        for g in b["groups"]:
            gn = camel(g["name"])
            w(cpp_comment(f"Group {upper(g['name'])}: {g['desc']}", "  "))
            w(f"  localparam logic [15:0] {gn}Base = {sv_hex(b['offset'] + g['offset'], 16)};  // instance 0")
            w(f"  localparam int unsigned {gn}Stride = {g['stride']};")
            w(f"  localparam int unsigned {gn}MaxCount = {g['max_count']};")
            for r in g["registers"]:
                sv_reg(r, 0, True, r["full"])
    w("")
    w("  ////////////////////////////////////////////////////////")
    w("  // DMA records (little-endian byte strings)          //")
    w("  ////////////////////////////////////////////////////////")
    for r in m.records:
        rn = camel(r["name"])
        w("")
        w(cpp_comment(r["desc"], "  "))
        w(f"  localparam int unsigned {rn}Bytes = {r['size']};")
        for f in r["fields"]:
            w(f"  localparam int unsigned {rn}{camel(f['name'])}Lsb = {f['bit']};")
            w(f"  localparam int unsigned {rn}{camel(f['name'])}Width = {f['width']};")
        # Packed struct, most significant member first: the last byte of the record comes first.
        members = []
        pos = r["size"] * 8
        for f in sorted(r["fields"], key=lambda f: -f["bit"]):
            top = f["bit"] + f["width"]
            if top < pos:
                members.append((f"rsvd_{top}", f"logic [{pos - top - 1}:0]", "reserved, zero"))
            t = f"{f['enum']}_e" if f["enum"] else ("logic" if f["width"] == 1 else f"logic [{f['width'] - 1}:0]")
            members.append((f["name"], t, f"bits [{top - 1}:{f['bit']}]"))
            pos = f["bit"]
        if pos > 0:
            members.append(("rsvd_0", f"logic [{pos - 1}:0]", "reserved, zero"))
        w("  typedef struct packed {")
        for name, t, c in members:
            w(f"    {t:<20} {name};  // {c}")
        w(f"  }} {r['name']}_t;")
    w("")
    w("  // The phase rule (docs/device-interface.md): the card writes PHASE = 1 on its first pass")
    w("  // through a ring, 0 on the second, and so on: the inverse of bit size_log2 of the")
    w("  // free-running 16-bit producer index.")
    w("  function automatic logic ring_phase(input logic [15:0] index, input logic [3:0] size_log2);")
    w("    ring_phase = ~index[size_log2];")
    w("  endfunction")
    w("")
    w("endpackage")
    w("")
    # RTL sources stay ASCII (lowRISC style): spell out the section sign of RFC references.
    return "\n".join(o).replace("§", "section ")


# --------------------------------------------------------------------------------------------
# C++ header
# --------------------------------------------------------------------------------------------

def cpp_uint(width):
    for t, n in ((8, "uint8_t"), (16, "uint16_t"), (32, "uint32_t"), (64, "uint64_t")):
        if width <= t:
            return n
    raise SpecError("too wide")


def cpp_comment(text, indent=""):
    return "\n".join(textwrap.wrap(text, 100 - len(indent), initial_indent=indent + "// ",
                                    subsequent_indent=indent + "// "))


# The record's 64-bit words (a record of 4k + 4 bytes ends with a 32-bit word) and, in each, the
# uint fields that lie wholly inside it, with their shift. Other uint fields (crossing a word
# boundary) and byte strings are coded field by field; f["word"] says which word a field is in.
def record_words(r):
    words = []
    for at in range(0, r["size"], 8):
        words.append(dict(byte=at, bytes=min(8, r["size"] - at), pieces=[]))
    for wd in words:
        wd["string_bytes"] = set()
    for f in r["fields"]:
        f["word"] = None
        if f["kind"] != "uint":
            for b in range(f["byte"], f["byte"] + f["width"] // 8):
                words[b // 8]["string_bytes"].add(b)
            continue
        wd = words[f["bit"] // 64]
        if f["bit"] + f["width"] <= wd["byte"] * 8 + wd["bytes"] * 8:
            f["word"] = wd["byte"]
            wd["pieces"].append((f, f["bit"] - wd["byte"] * 8))
    return words


def encode_value(f):
    if f["enum"]:
        return f"static_cast<uint64_t>({f['name']})"
    return f"uint64_t{{{f['name']}}}"


# `field` as the bits of its word: masked to its width (the generic path's truncation) and shifted.
def encode_term(f, shift):
    v = encode_value(f)
    if f["type_bits"] > f["width"]:
        v = f"({v} & {(1 << f['width']) - 1:#x})"
    return v if shift == 0 else f"{v} << {shift}"


def decode_term(f, word, shift):
    v = word if shift == 0 else f"{word} >> {shift}"
    if shift + f["width"] < 64:
        v = f"({v}) & {(1 << f['width']) - 1:#x}" if shift else f"{v} & {(1 << f['width']) - 1:#x}"
    if f["width"] == 1 and not f["enum"]:
        return f"({v}) != 0"
    return f"static_cast<{f['cpp_type']}>({v})"


def decode_generic(f, k):
    if f["width"] == 1 and not f["enum"]:
        return f"detail::Get(in, {k}) != 0"
    return f"static_cast<{f['cpp_type']}>(detail::Get(in, {k}))"


# A constexpr self-check after each record: on pseudo-random records (every field filled from the
# whole of its C++ type, so truncation is covered) and random byte strings (reserved bits set),
# Encode (over a garbage-filled buffer), Decode and ReservedClear agree with the reference codec.
def emit_reference_check(w, r, rn):
    ns = r["name"]
    w(f"namespace {ns} {{")
    w(f"constexpr bool CodecMatchesReference(uint64_t seed, int rounds) {{")
    w("  for (int round = 0; round < rounds; ++round) {")
    w(f"    {rn} v;")
    for f in r["fields"]:
        if f["kind"] == "bytes":
            w(f"    for (auto& b : v.{f['name']}) b = static_cast<uint8_t>(detail::NextRandom(seed));")
        elif f["cpp_type"] == "bool":
            w(f"    v.{f['name']} = (detail::NextRandom(seed) & 1) != 0;")
        elif f["enum"]:
            w(f"    v.{f['name']} = static_cast<{f['cpp_type']}>("
              f"static_cast<std::underlying_type_t<{f['cpp_type']}>>(detail::NextRandom(seed)));")
        else:
            w(f"    v.{f['name']} = static_cast<{f['cpp_type']}>(detail::NextRandom(seed));")
    w(f"    {rn}::Bytes fast{{}}, ref{{}}, raw{{}};")
    w("    for (size_t i = 0; i < kBytes; ++i) {")
    w("      fast[i] = static_cast<std::byte>(detail::NextRandom(seed));  // Encode must write every byte")
    w("      raw[i] = static_cast<std::byte>(detail::NextRandom(seed));")
    w("    }")
    w("    v.Encode(fast);")
    w("    v.EncodeReference(ref);")
    w("    if (fast != ref) return false;")
    w(f"    if ({rn}::Decode(raw) != {rn}::DecodeReference(raw)) return false;")
    w(f"    if ({rn}::ReservedClear(raw) != {rn}::ReservedClearReference(raw)) return false;")
    w("    for (size_t i = 0; i < kBytes; ++i) raw[i] &= static_cast<std::byte>(kUsedMask[i]);")
    w(f"    if (!{rn}::ReservedClear(raw) || {rn}::Decode(raw).Encode() != raw) return false;")
    w("  }")
    w("  return true;")
    w("}")
    w(f"}}  // namespace {ns}")
    w(f"static_assert({ns}::CodecMatchesReference({record_seed(ns)}, 4));")


def record_seed(name):
    h = 0xcbf29ce484222325  # FNV-1a, so that the seed depends on nothing but the record's name
    for c in name.encode():
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:#x}ull"


def gen_cpp(m):
    o = []
    w = o.append
    w(f"// Generated by {GENERATOR} from {SOURCE}; do not edit.")
    w("//")
    w("// The card's contract for host software: BAR register offsets, field masks, enumerations and")
    w("// the DMA records with little-endian encode/decode (docs/device-interface.md has the prose).")
    w("// Records are byte arrays, never structs laid over DMA memory: Encode() writes every byte,")
    w("// reserved bits as zero, and Decode() reads each field with shifts, so nothing depends on")
    w("// host endianness, padding or #pragma pack. Reset values are those at the default parameters.")
    w("// The codecs work on the record's 64-bit little-endian words (one load or store each, a single")
    w("// move on little-endian hosts); fields that cross a word boundary take the generic bit path,")
    w("// and EncodeReference()/DecodeReference() are the field-by-field bit codec they are checked")
    w("// against: here at compile time on a few random records; <record>::CodecMatchesReference()")
    w("// runs the same check at run time, on the memcpy path, for tests.")
    w("#pragma once")
    w("")
    w("#include <array>")
    w("#include <bit>")
    w("#include <cstddef>")
    w("#include <cstdint>")
    w("#include <cstring>")
    w("#include <span>")
    w("#include <string_view>")
    w("#include <type_traits>")
    w("")
    w("namespace ipsec::card {")
    w("")
    w(f"inline constexpr uint32_t kLayoutVersionMajor = {m.version_major};")
    w(f"inline constexpr uint32_t kLayoutVersionMinor = {m.version_minor};")
    w(f"inline constexpr uint32_t kBarBytes = {m.bar_bytes};")
    w("")
    w("enum class Access : uint8_t { kRO, kRW, kWO, kW1C, kW1S };")
    w("")
    w("// A field of a 32-bit register.")
    w("struct Field {")
    w("  uint32_t lsb;")
    w("  uint32_t width;")
    w("  constexpr uint32_t Mask() const { return (width >= 32 ? 0xFFFFFFFFu : ((1u << width) - 1u)) << lsb; }")
    w("  constexpr uint32_t Get(uint32_t reg) const { return (reg & Mask()) >> lsb; }")
    w("  // `reg` with this field replaced by `value` (truncated to the field).")
    w("  constexpr uint32_t Put(uint32_t reg, uint32_t value) const { return (reg & ~Mask()) | ((value << lsb) & Mask()); }")
    w("};")
    w("")
    w("// A field of a DMA record: bit `bit` of the record is bit bit % 8 of byte bit / 8.")
    w("struct RecordField {")
    w("  uint32_t bit;")
    w("  uint32_t width;")
    w("  constexpr uint32_t Byte() const { return bit / 8; }")
    w("};")
    w("")
    w("// One register, for tables (mock devices, dump tools, tests). Arrays and ring-pair registers")
    w("// are listed once, at the offset of element 0 / ring pair 0.")
    w("struct RegisterInfo {")
    w("  std::string_view name;")
    w("  uint32_t offset;")
    w("  Access access;")
    w("  uint32_t reset;")
    w("  uint32_t count;   // array elements (or ring-pair max count)")
    w("  uint32_t stride;  // bytes between elements")
    w("};")
    w("")
    w("// ---- Parameter defaults (what CAP_* registers report for a default build) ----")
    for p in m.params:
        w(cpp_comment(f"{p['desc']} Range {p['min']} .. {p['max']}."))
        w(f"inline constexpr uint32_t kDefault{camel(p['name'])} = {p['default']}u;")
    w("")
    w("// ---- Enumerations ----")
    for e in m.enums.values():
        en = camel(e["name"])
        w("")
        w(cpp_comment(e["desc"]))
        w(f"enum class {en} : {cpp_uint(e['width']) if e['width'] > 1 else 'uint8_t'} {{")
        for v in e["values"]:
            w(cpp_comment(v["desc"], "  "))
            w(f"  k{camel(v['name'])} = {num(v['value'], '')},")
        w("};")
        w(f"constexpr std::string_view {en}Name({en} v) {{")
        w("  switch (v) {")
        for v in e["values"]:
            w(f"    case {en}::k{camel(v['name'])}: return \"{v['name'].replace('_', '-')}\";")
        w("  }")
        w("  return \"unknown\";")
        w("}")
    w("")
    w("// ---- Register map: byte offsets in the BAR ----")
    w("namespace reg {")

    def cpp_reg(r, base, prefix, rel):
        n = camel(prefix)
        w(cpp_comment(f"{upper(r['full'])} ({r['access']}, reset {r['reset']:#010x}): {r['desc']}"))
        w(f"inline constexpr uint32_t k{n} = {base + r['offset']:#06x};{'  // relative to the ring pair' if rel else ''}")
        if r["count"] > 1:
            w(f"inline constexpr uint32_t k{n}Count = {r['count']};")
            w(f"inline constexpr uint32_t k{n}Stride = {r['stride']};")
            w(f"constexpr uint32_t {n}(uint32_t i) {{ return k{n} + i * k{n}Stride; }}")

    for b in m.blocks:
        w("")
        w(cpp_comment(f"Block {upper(b['name'])}: {b['desc']}"))
        w(f"inline constexpr uint32_t k{camel(b['name'])}Base = {b['offset']:#06x};")
        w(f"inline constexpr uint32_t k{camel(b['name'])}BlockType = {b['type']:#010x};")
        w(f"inline constexpr uint32_t k{camel(b['name'])}BlockVersion = {b['version']:#010x};")
        for r in b["registers"]:
            cpp_reg(r, b["offset"], r["full"], False)
        for g in b["groups"]:
            gn = camel(g["name"])
            w(cpp_comment(f"Group {upper(g['name'])}: {g['desc']}"))
            w(f"inline constexpr uint32_t k{gn}Base = {b['offset'] + g['offset']:#06x};")
            w(f"inline constexpr uint32_t k{gn}Stride = {g['stride']:#x};")
            w(f"inline constexpr uint32_t k{gn}MaxCount = {g['max_count']};")
            w(f"// Offset of register `reg` (a k{gn}* constant) of instance `n`.")
            w(f"constexpr uint32_t {gn}(uint32_t n, uint32_t reg) {{ return k{gn}Base + n * k{gn}Stride + reg; }}")
            for r in g["registers"]:
                cpp_reg(r, 0, r["full"], True)
    w("")
    w("}  // namespace reg")
    w("")
    w("// ---- Register fields ----")
    w("namespace field {")
    allregs = []
    for b in m.blocks:
        allregs += [(r, b["offset"], 1, REG_BYTES) for r in b["registers"]]
        for g in b["groups"]:
            allregs += [(r, b["offset"] + g["offset"], g["max_count"], g["stride"]) for r in g["registers"]]
    for r, _, _, _ in allregs:
        if not r["explicit_fields"]:
            continue
        for f in r["fields"]:
            en = f" ({camel(f['enum'])})" if f["enum"] else ""
            w(f"inline constexpr Field k{camel(r['full'])}{camel(f['name'])}{{{f['lo']}, {f['width']}}};"
              f"  // {f['access']}{en}")
    w("}  // namespace field")
    w("")
    w("// Every register, in address order within each block.")
    w(f"inline constexpr std::array<RegisterInfo, {len(allregs)}> kRegisters = {{{{")
    for r, base, gcount, gstride in allregs:
        count, stride = (r["count"], r["stride"]) if r["count"] > 1 else (gcount, gstride)
        w(f"    {{\"{upper(r['full'])}\", {base + r['offset']:#06x}, Access::k{r['access']}, {r['reset']:#010x}, "
          f"{count}, {stride:#x}}},")
    w("}};")
    w("")
    w("// ---- DMA records ----")
    w("namespace detail {")
    w("// Reads `width` (<= 64) bits starting at record bit `bit`, little-endian.")
    w("constexpr uint64_t GetBits(std::span<const std::byte> rec, uint32_t bit, uint32_t width) {")
    w("  uint64_t v = 0;")
    w("  const uint32_t first = bit / 8, shift = bit % 8, nbytes = (shift + width + 7) / 8;")
    w("  for (uint32_t i = 0; i < nbytes; ++i) {")
    w("    const uint64_t b = std::to_integer<uint64_t>(rec[first + i]);")
    w("    if (i == 0) {")
    w("      v |= b >> shift;")
    w("    } else if (i * 8 - shift < 64) {")
    w("      v |= b << (i * 8 - shift);")
    w("    }")
    w("  }")
    w("  return width >= 64 ? v : v & ((uint64_t{1} << width) - 1);")
    w("}")
    w("// Writes the low `width` (<= 64) bits of `value` at record bit `bit`; other bits unchanged.")
    w("constexpr void PutBits(std::span<std::byte> rec, uint32_t bit, uint32_t width, uint64_t value) {")
    w("  for (uint32_t done = 0; done < width;) {")
    w("    const uint32_t pos = bit + done, sh = pos % 8, n = (8 - sh) < (width - done) ? (8 - sh) : (width - done);")
    w("    const uint32_t mask = ((1u << n) - 1u) << sh;")
    w("    const uint32_t part = static_cast<uint32_t>((value >> done) & ((1u << n) - 1u)) << sh;")
    w("    const uint32_t old = std::to_integer<uint32_t>(rec[pos / 8]);")
    w("    rec[pos / 8] = static_cast<std::byte>((old & ~mask) | part);")
    w("    done += n;")
    w("  }")
    w("}")
    w("constexpr uint64_t Get(std::span<const std::byte> rec, RecordField f) { return GetBits(rec, f.bit, f.width); }")
    w("constexpr void Put(std::span<std::byte> rec, RecordField f, uint64_t v) { PutBits(rec, f.bit, f.width, v); }")
    w("template <size_t N>")
    w("constexpr bool ReservedClear(std::span<const std::byte> rec, const std::array<uint8_t, N>& used) {")
    w("  for (size_t i = 0; i < N; ++i) {")
    w("    if ((std::to_integer<uint8_t>(rec[i]) & static_cast<uint8_t>(~used[i])) != 0) return false;")
    w("  }")
    w("  return true;")
    w("}")
    w("// The N (4 or 8) bytes at record byte `at` as a little-endian integer: one load on a")
    w("// little-endian host (memcpy of a constant size), bytes and shifts in constant evaluation.")
    w("template <size_t N>")
    w("constexpr uint64_t LoadLe(std::span<const std::byte> rec, size_t at) {")
    w("  static_assert(N == 4 || N == 8);")
    w("  if (!std::is_constant_evaluated() && std::endian::native == std::endian::little) {")
    w("    std::conditional_t<N == 8, uint64_t, uint32_t> v;")
    w("    std::memcpy(&v, rec.data() + at, N);")
    w("    return v;")
    w("  }")
    w("  uint64_t v = 0;")
    w("  for (size_t i = 0; i < N; ++i) v |= std::to_integer<uint64_t>(rec[at + i]) << (8 * i);")
    w("  return v;")
    w("}")
    w("// Stores the low N (4 or 8) bytes of `v` at record byte `at`, little-endian; as LoadLe.")
    w("template <size_t N>")
    w("constexpr void StoreLe(std::span<std::byte> rec, size_t at, uint64_t v) {")
    w("  static_assert(N == 4 || N == 8);")
    w("  if (!std::is_constant_evaluated() && std::endian::native == std::endian::little) {")
    w("    const std::conditional_t<N == 8, uint64_t, uint32_t> n = static_cast<decltype(n)>(v);")
    w("    std::memcpy(rec.data() + at, &n, N);")
    w("    return;")
    w("  }")
    w("  for (size_t i = 0; i < N; ++i) rec[at + i] = static_cast<std::byte>(v >> (8 * i));")
    w("}")
    w("// A small deterministic generator for the compile-time codec checks (splitmix64).")
    w("constexpr uint64_t NextRandom(uint64_t& state) {")
    w("  uint64_t z = (state += 0x9e3779b97f4a7c15ull);")
    w("  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;")
    w("  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;")
    w("  return z ^ (z >> 31);")
    w("}")
    w("}  // namespace detail")
    for r in m.records:
        rn = camel(r["name"])
        w("")
        w(cpp_comment(r["desc"]))
        w(f"namespace {r['name']} {{")
        w(f"inline constexpr uint32_t kBytes = {r['size']};")
        for f in r["fields"]:
            w(f"inline constexpr RecordField k{camel(f['name'])}{{{f['bit']}, {f['width']}}};  // byte {f['byte']}"
              + (f" bit {f['lsb']}" if f["lsb"] or f["width"] < 8 else ""))
        w("// Bits some field uses, per byte; everything else is reserved and must be zero.")
        w("inline constexpr std::array<uint8_t, kBytes> kUsedMask = {")
        for i in range(0, r["size"], 16):
            w("    " + ", ".join(f"{u:#04x}" for u in r["used"][i:i + 16]) + ",")
        w("};")
        w(f"}}  // namespace {r['name']}")
        w("")
        w(f"struct {rn} {{")
        w(f"  static constexpr size_t kBytes = {r['name']}::kBytes;")
        w("  using Bytes = std::array<std::byte, kBytes>;")
        w("")
        for f in r["fields"]:
            if f["kind"] == "bytes":
                t, init = f"std::array<uint8_t, {f['width'] // 8}>", "{}"
            elif f["enum"]:
                e = m.enums[f["enum"]]
                t, init = camel(f["enum"]), f"{camel(f['enum'])}::k{camel(e['values'][0]['name'])}"
            elif f["width"] == 1:
                t, init = "bool", "false"
            else:
                t, init = cpp_uint(f["width"]), "0"
            f["cpp_type"] = t
            # Bits the member can hold (enums: their underlying type, as in the enum declaration).
            ut = cpp_uint(m.enums[f["enum"]]["width"]) if f["enum"] and m.enums[f["enum"]]["width"] > 1 else (
                "uint8_t" if f["enum"] else t)
            f["type_bits"] = 1 if t == "bool" else (f["width"] if f["kind"] == "bytes" else int(ut[4:-2]))
            w(cpp_comment(f["desc"], "  "))
            w(f"  {t} {f['name']} = {init};")
        w("")
        words = record_words(r)
        w("  // Writes all kBytes bytes: fields, and zeros in reserved bits.")
        w("  constexpr void Encode(std::span<std::byte, kBytes> out) const {")
        for wd in words:
            at, n = wd["byte"], wd["bytes"]
            if not wd["pieces"] and all(b in wd["string_bytes"] for b in range(at, at + n)):
                continue  # byte strings only: written below
            w(f"    {{  // bytes {at}..{at + n - 1}")
            if not wd["pieces"]:
                w(f"      detail::StoreLe<{n}>(out, {at}, 0);")
            else:
                for i, (f, shift) in enumerate(wd["pieces"]):
                    term = encode_term(f, shift)
                    w(f"      {'uint64_t word = ' if i == 0 else 'word |= '}{term};")
                w(f"      detail::StoreLe<{n}>(out, {at}, word);")
            w("    }")
        for f in r["fields"]:
            if f["word"] is not None:
                continue
            k = f"{r['name']}::k{camel(f['name'])}"
            if f["kind"] == "bytes":
                w(f"    for (size_t i = 0; i < {f['name']}.size(); ++i) out[{k}.Byte() + i] = std::byte{{{f['name']}[i]}};")
            else:  # crosses a word boundary: the generic bit path (after the word stores)
                w(f"    detail::Put(out, {k}, {encode_value(f)});")
        w("  }")
        w(f"  constexpr Bytes Encode() const {{")
        w("    Bytes b{};")
        w("    Encode(b);")
        w("    return b;")
        w("  }")
        w("  // Reads every field; reserved bits are ignored (see ReservedClear).")
        w(f"  static constexpr {rn} Decode(std::span<const std::byte, kBytes> in) {{")
        w(f"    {rn} r;")
        for wd in words:
            if not wd["pieces"]:
                continue
            at, n = wd["byte"], wd["bytes"]
            w(f"    const uint64_t w{at} = detail::LoadLe<{n}>(in, {at});")
            for f, shift in wd["pieces"]:
                w(f"    r.{f['name']} = {decode_term(f, f'w{at}', shift)};")
        for f in r["fields"]:
            if f["word"] is not None:
                continue
            k = f"{r['name']}::k{camel(f['name'])}"
            if f["kind"] == "bytes":
                w(f"    for (size_t i = 0; i < r.{f['name']}.size(); ++i) {{")
                w(f"      r.{f['name']}[i] = std::to_integer<uint8_t>(in[{k}.Byte() + i]);")
                w("    }")
            else:
                w(f"    r.{f['name']} = {decode_generic(f, k)};")
        w("    return r;")
        w("  }")
        w("  // True when every reserved bit of `in` is zero.")
        w("  static constexpr bool ReservedClear(std::span<const std::byte, kBytes> in) {")
        checks = []
        for wd in words:
            at, n = wd["byte"], wd["bytes"]
            used = 0
            for i in range(n):
                used |= r["used"][at + i] << (8 * i)
            if used != (1 << (8 * n)) - 1:
                checks.append(f"(detail::LoadLe<{n}>(in, {at}) & {((1 << (8 * n)) - 1) & ~used:#x}ull) == 0")
        w("    return " + (" &&\n           ".join(checks) if checks else "true") + ";")
        w("  }")
        w("  // The reference codec: each field through the generic bit loop (detail::Put / detail::Get).")
        w("  // Encode, Decode and ReservedClear must agree with it bit for bit; not for the data path.")
        w("  constexpr void EncodeReference(std::span<std::byte, kBytes> out) const {")
        w("    for (auto& b : out) b = std::byte{0};")
        for f in r["fields"]:
            k = f"{r['name']}::k{camel(f['name'])}"
            if f["kind"] == "bytes":
                w(f"    for (size_t i = 0; i < {f['name']}.size(); ++i) out[{k}.Byte() + i] = std::byte{{{f['name']}[i]}};")
            elif f["enum"]:
                w(f"    detail::Put(out, {k}, static_cast<uint64_t>({f['name']}));")
            else:
                w(f"    detail::Put(out, {k}, {f['name']});")
        w("  }")
        w(f"  static constexpr {rn} DecodeReference(std::span<const std::byte, kBytes> in) {{")
        w(f"    {rn} r;")
        for f in r["fields"]:
            k = f"{r['name']}::k{camel(f['name'])}"
            if f["kind"] == "bytes":
                w(f"    for (size_t i = 0; i < r.{f['name']}.size(); ++i) {{")
                w(f"      r.{f['name']}[i] = std::to_integer<uint8_t>(in[{k}.Byte() + i]);")
                w("    }")
            else:
                w(f"    r.{f['name']} = {decode_generic(f, k)};")
        w("    return r;")
        w("  }")
        w("  static constexpr bool ReservedClearReference(std::span<const std::byte, kBytes> in) {")
        w(f"    return detail::ReservedClear(in, {r['name']}::kUsedMask);")
        w("  }")
        if any(f["name"] == "phase" for f in r["fields"]):
            ph = next(f for f in r["fields"] if f["name"] == "phase")
            w("  // The phase bit alone, read from a ring slot (the poll of the phase rule).")
            w("  static constexpr bool Phase(std::span<const std::byte, kBytes> in) {")
            w(f"    return ((std::to_integer<uint32_t>(in[{ph['bit'] // 8}]) >> {ph['bit'] % 8}) & 1u) != 0;")
            w("  }")
        w(f"  friend constexpr bool operator==(const {rn}&, const {rn}&) = default;")
        w("};")
        w(f"static_assert(sizeof({rn}::Bytes) == {r['size']});")
        w(f"static_assert({rn}::Decode({rn}{{}}.Encode()) == {rn}{{}});  // the codec is constexpr")
        for f in r["fields"]:
            k = f"{r['name']}::k{camel(f['name'])}"
            w(f"static_assert({k}.bit + {k}.width <= {rn}::kBytes * 8);")
        emit_reference_check(w, r, rn)
    w("")
    w("// ---- Rings ----")
    w("// Ring indices are free-running 16-bit counters; a ring of 2^size_log2 entries uses slot")
    w("// index & (2^size_log2 - 1). The phase rule: the card writes PHASE = 1 on its first pass")
    w("// through a ring, 0 on the second, and so on. The host expects, at its consumer index, the")
    w("// phase ExpectedPhase(cons, size_log2) and never reads a producer index on the fast path.")
    w("inline constexpr uint32_t kRingIndexMask = 0xFFFF;")
    w("constexpr uint32_t RingSlot(uint32_t index, uint32_t size_log2) { return index & ((1u << size_log2) - 1u); }")
    w("constexpr bool ExpectedPhase(uint32_t index, uint32_t size_log2) { return ((index >> size_log2) & 1u) == 0; }")
    w("// Entries between a consumer and a producer index, modulo 2^16.")
    w("constexpr uint32_t RingDistance(uint32_t prod, uint32_t cons) { return (prod - cons) & kRingIndexMask; }")
    w("")
    w("}  // namespace ipsec::card")
    w("")
    return "\n".join(o)


# --------------------------------------------------------------------------------------------
# Markdown tables
# --------------------------------------------------------------------------------------------

def md(text):
    return text.replace("|", "\\|")


def reset_text(v, sym, width=32):
    if sym:
        return f"{upper(sym)} ({v})"
    if width <= 4:
        return str(v)
    return f"{v:#010x}" if width >= 32 else f"{v:#x}"


def doc_sections(m):
    s = {}
    # params
    o = ["| Parameter | Default | Range | Meaning |", "| --- | --- | --- | --- |"]
    for p in m.params:
        rng = f"{p['min']} .. {p['max']}" if p["max"] < (1 << 32) - 1 else "any"
        o.append(f"| `{upper(p['name'])}` | {p['default']} | {rng} | {md(p['desc'])} |")
    s["params"] = o
    # blocks
    o = ["| Offset | Block | TYPE | VERSION | Contents |", "| --- | --- | --- | --- | --- |"]
    for b in m.blocks:
        o.append(f"| {b['offset']:#06x} | {upper(b['name'])} | {b['type']:#010x} | "
                 f"{b['version'] >> 16}.{b['version'] & 0xFFFF} | {md(b['desc'])} |")
    s["blocks"] = o
    # registers
    o = []

    def reg_rows(r, addr):
        name = upper(r["full"])
        if r["count"] > 1:
            name += f"_0..{r['count'] - 1}"
            addr = f"{addr} + 4k" if r["stride"] == 4 else f"{addr} + {r['stride']}k"
        if not r["explicit_fields"]:
            o.append(f"| {addr} | {name} | 31:0 | | {r['access']} | {reset_text(r['reset'], r['reset_sym'])} | "
                     f"{md(r['desc'])} |")
            return
        o.append(f"| {addr} | {name} | | | {r['access']} | {r['reset']:#010x} | {md(r['desc'])} |")
        for f in sorted(r["fields"], key=lambda f: -f["lo"]):
            bits = f"{f['hi']}:{f['lo']}" if f["width"] > 1 else str(f["lo"])
            en = f" (enum `{f['enum']}`)" if f["enum"] else ""
            o.append(f"| | | {bits} | {upper(f['name'])} | {f['access']} | "
                     f"{reset_text(f['reset'], f['reset_sym'], f['width'])} | {md(f['desc'])}{en} |")

    hdr = ["| Offset | Register | Bits | Field | Access | Reset | Description |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for b in m.blocks:
        o.append(f"#### {upper(b['name'])} block, {b['offset']:#06x}")
        o.append("")
        o.append(md(b["desc"]))
        o.append("")
        o += hdr
        for r in b["registers"]:
            reg_rows(r, f"{b['offset'] + r['offset']:#06x}")
        o.append("")
        for g in b["groups"]:
            base = b["offset"] + g["offset"]
            cnt = upper(g["count_sym"]) if g["count_sym"] else str(g["count"])
            o.append(f"#### {upper(g['name'])} registers: ring pair n at {base:#06x} + n * {g['stride']:#x} "
                     f"(n < {cnt}, at most {g['max_count']})")
            o.append("")
            o.append(md(g["desc"]))
            o.append("")
            o += hdr
            for r in g["registers"]:
                reg_rows(r, f"+{r['offset']:#04x}")
            o.append("")
    s["registers"] = o[:-1]
    # records
    o = []
    for r in m.records:
        o.append(f"#### `{r['name']}`: {r['size']} bytes")
        o.append("")
        o.append(md(r["desc"]))
        o.append("")
        o.append("| Byte | Bits | Field | Width | Description |")
        o.append("| --- | --- | --- | --- | --- |")
        for f in r["fields"]:
            if f["width"] % 8 == 0 and f["lsb"] == 0:
                byte = f"{f['byte']}..{f['byte'] + f['width'] // 8 - 1}" if f["width"] > 8 else str(f["byte"])
                bits = "" if f["width"] > 8 else "7:0"
            else:
                byte = str(f["byte"])
                hi = f["lsb"] + f["width"] - 1
                bits = f"{hi}:{f['lsb']}" if f["width"] > 1 else str(f["lsb"])
            kind = " (byte string)" if f["kind"] == "bytes" else (f" (enum `{f['enum']}`)" if f["enum"] else "")
            o.append(f"| {byte} | {bits} | {upper(f['name'])} | {f['width']} | {md(f['desc'])}{kind} |")
        o.append("")
    s["records"] = o[:-1]
    # enums
    o = []
    for e in m.enums.values():
        o.append(f"#### `{e['name']}` ({e['width']} bit{'s' if e['width'] > 1 else ''})")
        o.append("")
        o.append(md(e["desc"]))
        o.append("")
        o.append("| Value | Name | Meaning |")
        o.append("| --- | --- | --- |")
        for v in e["values"]:
            val = num(v["value"], "")
            vt = f"{val:#04x}" if e["width"] >= 8 else str(val)
            o.append(f"| {vt} | `{v['name']}` | {md(v['desc'])} |")
        o.append("")
    s["enums"] = o[:-1]
    return s


MARKER = re.compile(r"(<!-- BEGIN GENERATED (\w+)[^>]*-->\n)(.*?)(<!-- END GENERATED \2 -->)", re.S)


def fill_doc(template, m):
    sections = doc_sections(m)
    found = set()

    def repl(mo):
        name = mo.group(2)
        if name not in sections:
            raise SpecError(f"{DOC_OUT}: unknown generated section {name!r}")
        found.add(name)
        begin = (f"<!-- BEGIN GENERATED {name} by {GENERATOR} from {SOURCE}; "
                 f"do not edit between these markers -->\n")
        return begin + "\n".join(sections[name]) + "\n" + mo.group(4)

    out = MARKER.sub(repl, template)
    missing = set(sections) - found
    if missing:
        raise SpecError(f"{DOC_OUT}: missing markers for {sorted(missing)}")
    return out


# --------------------------------------------------------------------------------------------

def outputs(root):
    with open(os.path.join(root, SOURCE), encoding="utf-8") as f:
        m = Model(json.load(f))
    with open(os.path.join(root, DOC_OUT), encoding="utf-8") as f:
        doc = f.read()
    return {SV_OUT: gen_sv(m), CPP_OUT: gen_cpp(m), DOC_OUT: fill_doc(doc, m)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="repository root (default: this script's parent folder)")
    ap.add_argument("--check", action="store_true", help="fail with a diff if a generated file is stale")
    ap.add_argument("--out-dir", help="write outputs under this folder instead of the repository")
    args = ap.parse_args()
    try:
        outs = outputs(args.root)
    except (SpecError, KeyError, OSError, json.JSONDecodeError) as e:
        print(f"gen_regmap: {e}", file=sys.stderr)
        return 2
    stale = 0
    for rel, text in outs.items():
        path = os.path.join(args.root, rel)
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                old = f.read()
        if args.check:
            if old != text:
                stale += 1
                print(f"gen_regmap: {rel} is stale; run {GENERATOR}", file=sys.stderr)
                sys.stderr.writelines(difflib.unified_diff((old or "").splitlines(True), text.splitlines(True),
                                                           f"{rel} (checked in)", f"{rel} (generated)", n=1))
            continue
        if args.out_dir:
            path = os.path.join(args.out_dir, rel)
        elif old == text:
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"gen_regmap: wrote {path}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
