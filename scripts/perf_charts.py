#!/usr/bin/env python3
"""Renders the benchmark results saved by scripts/perf_run.sh as PNG charts (docs/perf/).

Usage: perf_charts.py [--results DIR] [--out DIR] [--only NAME,...]
  --results  folder with the raw outputs (default: build/perf-results)
  --out      where the PNGs go (default: docs/perf next to this script's repository)
  --only     a comma-separated subset of: esp, runtime, crypto_service, aes_gcm, card, tunnel

Inputs (each optional; a missing or unreadable one skips its chart with a message):
  esp_bench.json (esp_bench --json) or esp_bench.txt (its stdout)   -> esp_bench.png
  runtime_bench.txt                                                 -> runtime_bench.png
  crypto_service_bench.txt                                          -> crypto_service_bench.png
  aes_gcm_bench.txt                                                 -> aes_gcm_bench.png
  card_bench.txt                                                    -> card_bench.png
  tunnel_bench.txt ("tunnel_bench <name> <value> <unit>" lines)      -> tunnel_bench.png
  run-info.txt (key=value lines written by perf_run.sh: date, machine, build, mode of each bench)

None of the project's benchmarks uses Google Benchmark (each times itself and prints one table),
so the parsers read those tables; esp_bench's own JSON is preferred over its text when present.
Every figure drawn is a number the benchmark printed; nothing is computed here except ratios the
benchmark's own columns define (and those are labelled as such).
"""
import argparse
import datetime
import json
import os
import platform
import re
import sys

try:
    import matplotlib
except ImportError:
    # The Debian package (python3-matplotlib, scripts/setup-deps.sh) lives in the system
    # interpreter; a pyenv or venv python3 earlier in PATH does not see it.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("perf_charts: matplotlib missing: apt-get install python3-matplotlib (make deps)")

matplotlib.use("Agg")  # no display
import matplotlib.pyplot as plt  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLORS = {"ours": "#1f77b4", "anchor": "#7f7f7f", "anchor2": "#bcbd22", "extra": "#aec7e8",
          "l1": "#9ecae1", "l2": "#4292c6", "l4": "#08519c", "target": "#d62728"}
WHITE = {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1}


def log(msg):
    print("perf_charts: " + msg)


class Skip(Exception):
    """A chart that cannot be drawn from this results folder (missing or unparsable input)."""


# ----------------------------------------------------------------------------------------------
# Run information and the footnote.

def read_info(results):
    info = {}
    path = os.path.join(results, "run-info.txt")
    try:
        with open(path) as f:
            for line in f:
                k, sep, v = line.rstrip("\n").partition("=")
                if sep:
                    info[k.strip()] = v.strip()
    except OSError:
        pass
    return info


def footnote(info, bench, path, extra=""):
    """Date, machine, build and mode of the run that produced `path`."""
    when = info.get("date")
    if not when:
        try:
            when = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc).strftime(
                "%Y-%m-%d %H:%M UTC") + " (file time)"
        except OSError:
            when = "unknown date"
    machine = info.get("cpu") or platform.processor() or platform.machine()
    cores = info.get("cores") or str(os.cpu_count())
    host = info.get("host") or platform.node()
    parts = [f"Run {when} on {host}: {machine}, {cores} logical cores"]
    if info.get("load"):
        parts[0] += f", load average {info['load']} at the start"
    build = info.get("build")
    if build:
        b = f"build {build}"
        if info.get("git"):
            b += f" @ {info['git']}"
        parts.append(b)
    cmd = info.get(bench + ".cmd")
    if cmd and build and build not in cmd.split()[0]:
        parts.append("ran: " + cmd)  # a binary from outside the build directory (perf_run.sh overrides)
    mode = info.get(bench + ".mode")
    if mode:
        parts.append(f"mode: {mode}")
    rc = info.get(bench + ".rc")
    if rc not in (None, "", "0"):
        parts.append(f"EXIT STATUS {rc}: partial output")
    parts.append("raw: " + os.path.relpath(path, REPO) if path.startswith(REPO) else "raw: " + path)
    text = " | ".join(parts)
    if extra:
        text += "\n" + extra
    return text


def finish(fig, out_dir, name, note):
    fig.text(0.01, 0.005, note, fontsize=7.5, color="#444444", ha="left", va="bottom", wrap=True)
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, name)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    log("wrote " + out)
    return out


def read_text(results, name):
    path = os.path.join(results, name)
    try:
        with open(path, errors="replace") as f:
            return path, f.read()
    except OSError:
        raise Skip(f"no {name} in {results}")


def bar_labels(ax, bars, labels, fontsize=7, color="black", rotation=0):
    for b, t in zip(bars, labels):
        if t:
            ax.annotate(t, (b.get_x() + b.get_width() / 2, b.get_height()), xytext=(0, 2),
                        textcoords="offset points", ha="center", va="bottom", fontsize=fontsize, color=color,
                        rotation=rotation)


# ----------------------------------------------------------------------------------------------
# esp_bench: ESP vs raw ipsec-mb / OpenSSL per packet size.

def parse_esp(results):
    jpath = os.path.join(results, "esp_bench.json")
    if os.path.exists(jpath):
        try:
            with open(jpath) as f:
                j = json.load(f)
            rows = []
            for r in j["rows"]:
                rows.append({"suite": r["suite"], "provider": r["provider"], "size": int(r["size"]), "dir": r["dir"],
                             "esp_gbps": float(r["esp_gbps"]), "imb_kind": r["raw_imb_kind"],
                             "imb_gbps": float(r["raw_imb_gbps"]), "ossl_gbps": r.get("raw_ossl_gbps"),
                             "esp_imb": float(r["esp_over_raw_imb"]), "esp_ossl": r.get("esp_over_raw_ossl")})
            if rows:
                return jpath, rows, j.get("targets", []), bool(j.get("quick"))
        except (OSError, ValueError, KeyError, TypeError) as e:
            log(f"esp_bench.json unreadable ({e}); trying esp_bench.txt")
    path, text = read_text(results, "esp_bench.txt")
    rows = []
    for line in text.splitlines():
        cols = line.split("|")
        if len(cols) != 5:
            continue
        left = cols[0].split()
        if len(left) != 5 or not left[2].isdigit():
            continue
        try:
            esp_gbps = float(cols[1].split()[2])
            kind, imb_g, ossl_g = cols[3].strip().rsplit(None, 2)
            ratios = cols[4].replace("%", " ").split()
            rows.append({"suite": left[0], "provider": left[1], "size": int(left[2]), "dir": left[3],
                         "esp_gbps": esp_gbps, "imb_kind": kind, "imb_gbps": float(imb_g),
                         "ossl_gbps": None if ossl_g == "-" else float(ossl_g),
                         "esp_imb": float(ratios[0]) / 100,
                         "esp_ossl": None if len(ratios) < 2 or ratios[1] == "-" else float(ratios[1]) / 100})
        except (ValueError, IndexError):
            continue
    if not rows:
        raise Skip("esp_bench.txt has no table rows")
    targets = []
    for m in re.finditer(r"^\s+(PASS|FAIL)\s+(\d+) B (\w+)\s+ESP/raw =\s+([\d.]+) %\s+\(target >= (\d+) %\)", text,
                         re.M):
        targets.append({"size": int(m.group(2)), "dir": m.group(3), "ratio": float(m.group(4)) / 100,
                        "min_ratio": float(m.group(5)) / 100, "pass": m.group(1) == "PASS"})
    return path, rows, targets, "quick run" in text


def chart_esp(results, out_dir, info):
    path, rows, targets, quick = parse_esp(results)
    sizes = sorted({r["size"] for r in rows})
    fig, axes = plt.subplots(len(sizes), 1, figsize=(15, 3.9 * len(sizes) + 1.2), squeeze=False)
    for ax, size in zip(axes[:, 0], sizes):
        rs = [r for r in rows if r["size"] == size]
        x = range(len(rs))
        w = 0.27
        esp = ax.bar([i - w for i in x], [r["esp_gbps"] for r in rs], w, color=COLORS["ours"], label="ESP (ours)")
        imb = ax.bar(list(x), [r["imb_gbps"] for r in rs], w, color=COLORS["anchor"],
                     label="raw intel-ipsec-mb (anchor)")
        ox = [i + w for i, r in zip(x, rs) if r["ossl_gbps"] is not None]
        ov = [float(r["ossl_gbps"]) for r in rs if r["ossl_gbps"] is not None]
        if ox:
            ax.bar(ox, ov, w, color=COLORS["anchor2"], label="raw OpenSSL EVP (anchor)")
        # The ratio to the row's anchor: raw OpenSSL for the openssl provider, raw ipsec-mb otherwise.
        labels = []
        for r in rs:
            if r["provider"] == "openssl" and r["esp_ossl"] is not None:
                labels.append(f"{100 * float(r['esp_ossl']):.0f}%\nvs ossl")
            else:
                labels.append(f"{100 * r['esp_imb']:.0f}%")
        bar_labels(ax, esp, labels, fontsize=7, color=COLORS["ours"])
        ax.set_xticks(list(x))
        ax.set_xticklabels([r["suite"].replace("+", "+\n") + f"\n{r['provider']} {r['dir']}" for r in rs], fontsize=7)
        ax.set_ylabel("Gbit/s (inner bytes)")
        ax.set_title(f"{size}-byte inner packets (label: ESP / raw anchor of the row)", fontsize=10)
        ax.set_ylim(0, max(max(r["imb_gbps"] for r in rs), max(r["esp_gbps"] for r in rs), max(ov or [0])) * 1.25)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="upper left")
    fig.suptitle("bench/esp_bench: ESP encap/decap on one core vs the raw crypto underneath, same run, same buffers" +
                 (" [QUICK RUN: ratios are noise]" if quick else ""), fontsize=12)
    if quick:
        tline = "Targets not graded: --quick run (a few ms per row; the ratios are noise)."
    elif targets:
        tline = "Targets (ESP AES-256-GCM ipsec-mb / raw ipsec-mb AES-256-GCM): " + "; ".join(
            f"{t['size']} {t['dir']} {100 * float(t['ratio']):.1f}% (>= {100 * float(t['min_ratio']):.0f}%)"
            f" {'PASS' if t.get('pass') else 'FAIL' if t.get('pass') is False else 'not graded'}" for t in targets)
    else:
        tline = ""
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return finish(fig, out_dir, "esp_bench.png", footnote(info, "esp_bench", path, tline))


# ----------------------------------------------------------------------------------------------
# runtime_bench: ring layer and SA installs.

def parse_runtime(results):
    path, text = read_text(results, "runtime_bench.txt")
    ring = []
    for m in re.finditer(r"^\s+(.+?)\s+([\d.]+) M desc/s per core \(wall\s+([\d.]+)\)", text, re.M):
        ring.append((m.group(1).strip(), float(m.group(2))))
    installs = [(m.group(1).strip(), float(m.group(2)))
                for m in re.finditer(r"^\s+(Runtime::AddSa.+?)\s+(\d+) installs/s", text, re.M)]
    if not ring and not installs:
        raise Skip("runtime_bench.txt has no figures")
    mem = re.search(r"memory: (\d+) bytes/SA", text)
    db = re.search(r"Host SA database: (\d+) SAs", text)
    mode = re.search(r"runtime_bench \((\w+)\)", text)
    return path, ring, installs, mem.group(1) if mem else None, db.group(1) if db else None, \
        mode.group(1) if mode else None


def chart_runtime(results, out_dir, info):
    path, ring, installs, mem, db, mode = parse_runtime(results)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(14, 5.6), gridspec_kw={"width_ratios": [3, 2]})
    if ring:
        names = [n.replace("runtime Submit/Poll, ", "runtime, ").replace("SPD lookup (9 rules) per packet",
                                                                            "SPD lookup (9 rules)") for n, _ in ring]
        colors = [COLORS["extra"] if "soft" in n else COLORS["ours"] for n, _ in ring]
        bars = a1.bar(range(len(ring)), [v for _, v in ring], color=colors)
        bar_labels(a1, bars, [f"{v:.2f}\n({v / 20:.2f}x target)" if "soft" not in n else f"{v:.2f}\n(with crypto)"
                              for n, v in ring], fontsize=8)
        a1.axhline(20, color=COLORS["target"], ls="--", lw=1)
        a1.text(0.01, 20, "target 20 M/s", color=COLORS["target"], ha="left", va="bottom", fontsize=8,
                transform=a1.get_yaxis_transform(), bbox=WHITE)
        a1.set_xticks(range(len(ring)))
        a1.set_xticklabels([n.replace(", ", ",\n").replace("` ", "`\n") for n in names], fontsize=7.5)
        a1.set_ylim(0, max(22, max(v for _, v in ring) * 1.3))
        a1.set_ylabel("M descriptors/s per core (thread CPU time)")
        a1.set_title("Ring layer, no crypto, 64-byte packets, bursts of 32", fontsize=10)
        a1.grid(axis="y", alpha=0.3)
    else:
        a1.set_axis_off()
    if installs:
        labels = ["on `soft`\n(SoftCard builds an EspSa)" if "soft" in n else "commands answered at once\n(host side only)"
                  for n, _ in installs]
        bars = a2.bar(range(len(installs)), [v / 1e3 for _, v in installs], color=COLORS["ours"])
        bar_labels(a2, bars, [f"{v / 1e3:.0f}k\n({v / 1e5:.2f}x target)" for _, v in installs], fontsize=8)
        a2.axhline(100, color=COLORS["target"], ls="--", lw=1)
        a2.text(0.01, 100, "target 100k/s", color=COLORS["target"], ha="left", va="bottom", fontsize=8,
                transform=a2.get_yaxis_transform(), bbox=WHITE)
        a2.set_xticks(range(len(installs)))
        a2.set_xticklabels(labels, fontsize=8)
        a2.set_ylim(0, max(110, max(v for _, v in installs) / 1e3 * 1.3))
        a2.set_ylabel("thousand SA installs/s")
        a2.set_title(f"Runtime::AddSa through the command path\n({int(db):,} SAs in the host database)" if db else
                     "Runtime::AddSa through the command path", fontsize=10)
        a2.grid(axis="y", alpha=0.3)
    else:
        a2.set_axis_off()
    fig.suptitle("bench/runtime_bench: ring layer and SA installs against the issue's targets" +
                 (f" ({mode} run)" if mode else ""), fontsize=12)
    extra = f"Host SA database: {mem} bytes/SA at {int(db):,} SAs." if mem and db else ""
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    return finish(fig, out_dir, "runtime_bench.png", footnote(info, "runtime_bench", path, extra))


# ----------------------------------------------------------------------------------------------
# crypto_service_bench: the service vs direct intel-ipsec-mb.

def parse_crypto_service(results):
    path, text = read_text(results, "crypto_service_bench.txt")
    rows = []
    for m in re.finditer(r"^(.+?)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(\d+)\s+([\d.]+)( \*)?\s*$", text, re.M):
        rows.append({"op": m.group(1).strip(), "len": int(m.group(2)), "direct_mbs": float(m.group(5)),
                     "svc_mbs": float(m.group(6)), "ratio": float(m.group(7)), "graded": bool(m.group(8))})
    if not rows:
        raise Skip("crypto_service_bench.txt has no table rows")
    verdict = re.search(r"^target .*: (.+)$", text, re.M)
    return path, rows, verdict.group(1).strip() if verdict else None, "--quick" in text


def chart_crypto_service(results, out_dir, info):
    path, rows, verdict, quick = parse_crypto_service(results)
    ops = list(dict.fromkeys(r["op"] for r in rows))
    fig, axes = plt.subplots(1, len(ops), figsize=(5 * len(ops), 5.2), squeeze=False)
    for ax, op in zip(axes[0], ops):
        rs = [r for r in rows if r["op"] == op]
        x = range(len(rs))
        w = 0.38
        d = ax.bar([i - w / 2 for i in x], [r["direct_mbs"] for r in rs], w, color=COLORS["anchor"],
                   label="direct intel-ipsec-mb (anchor)")
        s = ax.bar([i + w / 2 for i in x], [r["svc_mbs"] for r in rs], w, color=COLORS["ours"],
                   label="crypto service (ours)")
        del d
        bar_labels(ax, s, [f"{r['ratio']:.2f}x" + ("*" if r["graded"] else "") for r in rs], fontsize=8,
                   color=COLORS["ours"])
        ax.set_xticks(list(x))
        ax.set_xticklabels([f"{r['len']} B" for r in rs])
        ax.set_ylabel("MB/s (one core)")
        ax.set_ylim(0, max(max(r["direct_mbs"], r["svc_mbs"]) for r in rs) * 1.2)
        ax.set_title(op, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="upper left")
    fig.suptitle("bench/crypto_service_bench: crypto service vs direct intel-ipsec-mb, same run, bursts of 32 "
                 "(label: service / direct)" + (" [QUICK RUN: ratios are noise]" if quick else ""), fontsize=12)
    extra = "* graded rows: target service >= 0.80 x direct at 1420 B" + (f": {verdict}" if verdict else "")
    fig.tight_layout(rect=(0, 0.07, 1, 0.94))
    return finish(fig, out_dir, "crypto_service_bench.png", footnote(info, "crypto_service_bench", path, extra))


# ----------------------------------------------------------------------------------------------
# aes_gcm_bench: the Verilated core's bytes per clock per lane count.

def parse_md_rows(text, ncols):
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|") or "---" in line:
            continue
        cols = [c.strip() for c in line.strip("|").split("|")]
        if len(cols) == ncols:
            rows.append(cols)
    return rows


def parse_aes_gcm(results):
    path, text = read_text(results, "aes_gcm_bench.txt")
    rows = []
    for c in parse_md_rows(text, 9):
        try:
            rows.append({"lanes": int(c[0]), "payload": c[1], "bpc": float(c[2]), "ppc": float(c[3]),
                         "idle": float(c[4])})
        except ValueError:
            continue  # the header
    if not rows:
        raise Skip("aes_gcm_bench.txt has no table rows")
    return path, rows, "[quick]" in text


def chart_aes_gcm(results, out_dir, info):
    path, rows, quick = parse_aes_gcm(results)
    lanes = sorted({r["lanes"] for r in rows})
    payloads = list(dict.fromkeys(r["payload"] for r in rows))
    fig, ax = plt.subplots(figsize=(12, 5.8))
    w = 0.8 / len(lanes)
    for k, ln in enumerate(lanes):
        col = COLORS.get(f"l{ln}", None)
        xs, vs, labels = [], [], []
        for i, p in enumerate(payloads):
            r = next((r for r in rows if r["lanes"] == ln and r["payload"] == p), None)
            if r is None:
                continue
            xs.append(i - 0.4 + w * (k + 0.5))
            vs.append(r["bpc"])
            labels.append(f"{r['bpc']:.1f}\n{100 * r['bpc'] / (16 * ln):.0f}%")
        bars = ax.bar(xs, vs, w, color=col, label=f"Lanes={ln} (datapath {16 * ln} B/clk)")
        bar_labels(ax, bars, labels, fontsize=7)
        ax.axhline(16 * ln, color=col, ls=":", lw=1)
    # The targets at Lanes=4: >= 60 B/clk at 1500 B, >= 0.45 packets/clk at 64 B (28.8 B/clk).
    if 4 in lanes:
        for p, t, txt in (("1500", 60.0, ">= 60 B/clk"), ("64", 0.45 * 64, ">= 0.45 pkt/clk")):
            if p in payloads:
                i = payloads.index(p)
                x0 = i - 0.4 + w * (lanes.index(4))
                ax.hlines(t, x0, x0 + w, color=COLORS["target"], lw=2)
                ax.annotate("target " + txt, (x0 + w, t), xytext=(3, -3), textcoords="offset points",
                            color=COLORS["target"], fontsize=7, va="top")
    ax.set_xticks(range(len(payloads)))
    ax.set_xticklabels([p if "IMIX" in p else p + " B" for p in payloads])
    ax.set_xlabel("payload (GCM text length)")
    ax.set_ylabel("payload bytes per clock (steady state)")
    ax.set_ylim(0, 16 * max(lanes) * 1.25)
    sec = ax.secondary_yaxis("right", functions=(lambda b: b * 8 * 0.3, lambda g: g / (8 * 0.3)))
    sec.set_ylabel("Gbit/s at 300 MHz")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("hw/ip/aes_gcm/bench/aes_gcm_bench: aes_gcm_core (Verilator, cycle counts), AAD 8 B, new key every "
                 "packet\nlabel: B/clk and its share of the datapath width (16 B x Lanes, dotted)" +
                 (" [quick run]" if quick else ""), fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return finish(fig, out_dir, "aes_gcm_bench.png", footnote(info, "aes_gcm_bench", path))


# ----------------------------------------------------------------------------------------------
# card_bench: the whole card ring to ring vs the bare core.

def parse_card(results):
    path, text = read_text(results, "card_bench.txt")
    rows = []
    for c in parse_md_rows(text, 10):
        try:
            rows.append({"dir": c[0], "mix": c[1], "sas": int(c[2]), "card_bpc": float(c[4]),
                         "core_bpc": float(c[6]), "ratio": float(c[7])})
        except ValueError:
            continue
    if not rows:
        raise Skip("card_bench.txt has no table rows (bench absent, failed or still running)")
    verdict = re.search(r"^Target: .*$", text, re.M)
    return path, rows, verdict.group(0) if verdict else None, "[quick]" in text


def chart_card(results, out_dir, info):
    path, rows, verdict, quick = parse_card(results)
    mixes = list(dict.fromkeys(r["mix"] for r in rows))
    series = list(dict.fromkeys((r["dir"], r["sas"]) for r in rows))
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(13, 9))
    n = len(series) + 1
    w = 0.85 / n
    blues = plt.get_cmap("Blues")
    oranges = plt.get_cmap("Oranges")

    def color(s):
        same = [t for t in series if t[0] == s[0]]
        shade = 0.45 + 0.45 * (same.index(s) + 1) / (len(same) + 1)
        return (blues if s[0] == "outbound" else oranges)(shade)

    core = [next(r["core_bpc"] for r in rows if r["mix"] == m) for m in mixes]
    a1.bar([i - 0.425 + w / 2 for i in range(len(mixes))], core, w, color=COLORS["anchor"],
           label="bare aes_gcm_core, Lanes 4 (anchor)")
    for k, s in enumerate(series, start=1):
        xs, vs, rs_ = [], [], []
        for i, m in enumerate(mixes):
            r = next((r for r in rows if (r["dir"], r["sas"]) == s and r["mix"] == m), None)
            if r:
                xs.append(i - 0.425 + w * (k + 0.5))
                vs.append(r["card_bpc"])
                rs_.append(r["ratio"])
        a1.bar(xs, vs, w, color=color(s), label=f"card {s[0]}, {s[1]} SA{'s' if s[1] > 1 else ''}")
        bars = a2.bar(xs, rs_, w, color=color(s))
        bar_labels(a2, bars, [f"{v:.2f}" for v in rs_], fontsize=6.5)
    for ax in (a1, a2):
        ax.set_xticks(range(len(mixes)))
        ax.set_xticklabels([m if "IMIX" in m else m + " B" for m in mixes])
        ax.grid(axis="y", alpha=0.3)
    a1.set_ylabel("packet bytes per clock")
    a1.legend(fontsize=7.5, ncol=2, loc="upper left")
    a1.set_ylim(0, max(max(core), max(r["card_bpc"] for r in rows)) * 1.35)
    a2.axhline(0.90, color=COLORS["target"], ls="--", lw=1)
    a2.text(0.99, 0.90, "target 0.90 at 1500 B", color=COLORS["target"], ha="right", va="bottom", fontsize=8,
            transform=a2.get_yaxis_transform(), bbox=WHITE)
    a2.axhline(1.0, color="black", lw=0.5)
    a2.set_ylim(0, max(1.15, max(r["ratio"] for r in rows) * 1.15))
    a2.set_ylabel("card / bare core (B/clk)")
    fig.suptitle("bench/card_bench: the whole card ring to ring (Verilator, real driver on the sim backend) vs the "
                 "bare AES-GCM core, same run" + (" [quick run]" if quick else ""), fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    return finish(fig, out_dir, "card_bench.png", footnote(info, "card_bench", path, verdict or ""))


# ----------------------------------------------------------------------------------------------
# tunnel_bench.sh: iperf3 through the tunnels.

def parse_tunnel(results):
    path, text = read_text(results, "tunnel_bench.txt")
    vals = {}
    for m in re.finditer(r"^tunnel_bench (\S+) (\S+) (\S+)\s*$", text, re.M):
        try:
            vals[m.group(1)] = (float(m.group(2)), m.group(3))
        except ValueError:
            pass
    if not vals:
        raise Skip("tunnel_bench.txt has no 'tunnel_bench <name> <value> <unit>' lines")
    # The targets as the script states them in its closing log line (stderr, tunnel_bench.err):
    # "ours (soft model) / strongSwan userspace: 1.25x (target >= 10); ours / bare veth: 0.097 (target >= 0.40)".
    targets = {}
    try:
        with open(os.path.join(results, "tunnel_bench.err"), errors="replace") as f:
            log_text = f.read()
        m = re.search(r"strongSwan[^:]*:\s*\S+\s*\(target >= ([\d.]+)\);.*bare[^:]*:\s*\S+\s*\(target >= ([\d.]+)\)",
                      log_text)
        if m:
            targets = {"strongswan": m.group(1), "bare": m.group(2)}
    except OSError:
        pass
    return path, vals, targets


def chart_tunnel(results, out_dir, info):
    path, vals, targets = parse_tunnel(results)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 5.4), gridspec_kw={"width_ratios": [3, 2]})
    tcp = [(k, n, c) for k, n, c in (("bare_tcp", "bare veth\n(no IPsec)", COLORS["anchor2"]),
                                     ("strongswan_tcp", "strongSwan <-> strongSwan\n(kernel-libipsec)",
                                      COLORS["anchor"]),
                                     ("ours_soft_tcp", "accel-iked <-> accel-iked\n(ESP on --device soft)",
                                      COLORS["ours"])) if k in vals]
    if tcp:
        bars = a1.bar(range(len(tcp)), [vals[k][0] for k, _, _ in tcp], color=[c for _, _, c in tcp])
        labels = [f"{vals[k][0]:.0f}" for k, _, _ in tcp]
        if "ours_soft_tcp" in vals:
            i = [k for k, _, _ in tcp].index("ours_soft_tcp")
            extra = []
            # The script's ratios (the median of per-round ratios) when it recorded them.
            if "strongswan_tcp" in vals:
                t = f" (target >= {targets['strongswan']})" if "strongswan" in targets else ""
                r = vals.get("ratio_ours_soft_vs_strongswan", (vals['ours_soft_tcp'][0] / vals['strongswan_tcp'][0],))[0]
                extra.append(f"{r:.2f}x strongSwan{t}")
            if "bare_tcp" in vals:
                t = f" (target >= {targets['bare']})" if "bare" in targets else ""
                r = vals.get("ratio_ours_soft_vs_bare", (vals['ours_soft_tcp'][0] / vals['bare_tcp'][0],))[0]
                extra.append(f"{r:.3f} of bare{t}")
            labels[i] += "\n" + "\n".join(extra)
        bar_labels(a1, bars, labels, fontsize=8)
        a1.set_xticks(range(len(tcp)))
        a1.set_xticklabels([n for _, n, _ in tcp], fontsize=8)
        a1.set_ylabel("iperf3 TCP, Mbit/s received")
        a1.set_ylim(0, max(vals[k][0] for k, _, _ in tcp) * 1.35)
        a1.set_title("TCP through the tunnel (ESP AES-GCM-128)", fontsize=10)
        a1.grid(axis="y", alpha=0.3)
    else:
        a1.set_axis_off()
    pps = [(k, n) for k, n in (("ours_soft_udp200_pps", "ours, --device soft"),
                               ("ours_sim_udp200_pps", "ours, --device sim\n(Verilator card)")) if k in vals]
    if pps:
        bars = a2.bar(range(len(pps)), [vals[k][0] for k, _ in pps], color=[COLORS["ours"], COLORS["extra"]][:len(pps)])
        bar_labels(a2, bars, [f"{vals[k][0]:.0f}" for k, _ in pps], fontsize=8)
        a2.set_yscale("log")
        a2.set_ylim(max(1.0, min(vals[k][0] for k, _ in pps) / 10), max(vals[k][0] for k, _ in pps) * 3)
        a2.set_xticks(range(len(pps)))
        a2.set_xticklabels([n for _, n in pps], fontsize=8)
        a2.set_ylabel("UDP 200-byte datagrams/s received (log)")
        a2.set_title("Packet rate, UDP (sim: bounded by the Verilator card's speed\nand the offered rate, see the script)",
                     fontsize=10)
        a2.grid(axis="y", alpha=0.3)
    else:
        a2.set_axis_off()
    rounds = len([k for k in vals if re.fullmatch(r"ours_soft_tcp_r\d+", k)])
    how = f"medians of {rounds} rounds" if rounds > 1 else "one run"
    fig.suptitle(f"tests/interop/tunnel_bench.sh: two namespaces over veth, {how}", fontsize=12)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    return finish(fig, out_dir, "tunnel_bench.png", footnote(info, "tunnel_bench", path))


CHARTS = {"esp": chart_esp, "runtime": chart_runtime, "crypto_service": chart_crypto_service,
          "aes_gcm": chart_aes_gcm, "card": chart_card, "tunnel": chart_tunnel}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default=os.path.join(REPO, "build", "perf-results"))
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "perf"))
    ap.add_argument("--only", default="", help="comma-separated subset of " + ", ".join(CHARTS))
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n] or list(CHARTS)
    unknown = [n for n in names if n not in CHARTS]
    if unknown:
        ap.error("unknown chart(s): " + ", ".join(unknown))
    if not os.path.isdir(args.results):
        log(f"no results folder {args.results}: nothing to chart (run scripts/perf_run.sh first)")
        return 0
    info = read_info(args.results)
    written, skipped = [], []
    for n in names:
        try:
            written.append(CHARTS[n](args.results, args.out, info))
        except Skip as e:
            skipped.append(n)
            log(f"skipped {n}: {e}")
        except Exception as e:  # an unexpected format: skip the chart, never stop the others
            skipped.append(n)
            log(f"skipped {n}: could not parse or draw ({type(e).__name__}: {e})")
    for n in skipped:
        stale = {"esp": "esp_bench", "runtime": "runtime_bench", "crypto_service": "crypto_service_bench",
                 "aes_gcm": "aes_gcm_bench", "card": "card_bench", "tunnel": "tunnel_bench"}[n] + ".png"
        if os.path.exists(os.path.join(args.out, stale)):
            log(f"note: {os.path.join(args.out, stale)} is from an earlier run (its footnote has that run's date)")
    log(f"{len(written)} chart(s) in {args.out}" + (f"; skipped: {', '.join(skipped)}" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
