#!/usr/bin/env python3
"""Tests of scripts/gen_regmap.py: it refuses inconsistent sources, and --check catches stale outputs.

Run by ctest (card_contract.gen_regmap_test) as `python3 gen_regmap_test.py <repo root>`.
"""

import copy
import importlib.util
import io
import json
import os
import shutil
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

ROOT = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../.."))
spec = importlib.util.spec_from_file_location("gen_regmap", os.path.join(ROOT, "scripts/gen_regmap.py"))
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)


def load():
    with open(os.path.join(ROOT, gen.SOURCE), encoding="utf-8") as f:
        return json.load(f)


def block(s, name):
    return next(b for b in s["blocks"] if b["name"] == name)


def record(s, name):
    return next(r for r in s["records"] if r["name"] == name)


class GenRegmapTest(unittest.TestCase):
    def assertRejected(self, s, text):
        with self.assertRaises(gen.SpecError) as cm:
            gen.Model(s)
        self.assertIn(text, str(cm.exception))

    def test_source_is_consistent(self):
        m = gen.Model(load())
        self.assertEqual(m.blocks[0]["offset"], 0)
        self.assertEqual([r["size"] for r in m.records], [32, 32, 16, 96])

    def test_rejects_overlapping_registers(self):
        s = load()
        block(s, "ctrl")["registers"][1]["offset"] = "0x00c"
        self.assertRejected(s, "both at")

    def test_rejects_register_array_running_into_next_block(self):
        s = load()
        next(r for r in block(s, "sa")["registers"] if r["name"] == "param")["count"] = 800
        self.assertRejected(s, "runs into the next block")

    def test_rejects_overlapping_fields(self):
        s = load()
        block(s, "ctrl")["registers"][0]["fields"][1]["bits"] = "1:0"
        self.assertRejected(s, "overlaps another field")

    def test_rejects_readable_reset_on_write_only_key(self):
        s = load()
        next(r for r in block(s, "sa")["registers"] if r["name"] == "key")["reset"] = "0x1"
        self.assertRejected(s, "write-only fields read 0")

    def test_rejects_overlapping_record_fields(self):
        s = load()
        record(s, "cpl")["fields"][1]["byte"] = 4
        self.assertRejected(s, "overlaps another field")

    def test_rejects_field_beyond_record(self):
        s = load()
        record(s, "event")["fields"][0]["byte"] = 12
        self.assertRejected(s, "beyond the record")

    def test_rejects_enum_wider_than_field(self):
        s = load()
        f = next(f for f in record(s, "cpl")["fields"] if f["name"] == "status")
        f["width"] = 4
        self.assertRejected(s, "enum cpl_status")

    def test_rejects_ring_pairs_beyond_register_space(self):
        s = load()
        next(p for p in s["params"] if p["name"] == "ring_pairs")["max"] = 64
        self.assertRejected(s, "may exceed max_count")

    def test_check_reports_stale_outputs(self):
        with tempfile.TemporaryDirectory() as tmp:
            for rel in (gen.SOURCE, gen.SV_OUT, gen.CPP_OUT, gen.DOC_OUT):
                os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
                shutil.copy(os.path.join(ROOT, rel), os.path.join(tmp, rel))
            argv = sys.argv
            try:
                sys.argv = ["gen_regmap.py", "--root", tmp, "--check"]
                err = io.StringIO()
                with redirect_stderr(err), redirect_stdout(io.StringIO()):
                    self.assertEqual(gen.main(), 0, err.getvalue())
                s = load()
                block(s, "ctrl")["registers"][5]["desc"] = "Changed without regenerating."
                with open(os.path.join(tmp, gen.SOURCE), "w", encoding="utf-8") as f:
                    json.dump(s, f)
                with redirect_stderr(err), redirect_stdout(io.StringIO()):
                    self.assertEqual(gen.main(), 1)
                self.assertIn("is stale", err.getvalue())
                # Regenerating fixes it, and a hand edit to a generated file is caught again.
                sys.argv = ["gen_regmap.py", "--root", tmp]
                with redirect_stdout(io.StringIO()):
                    self.assertEqual(gen.main(), 0)
                with open(os.path.join(tmp, gen.CPP_OUT), "a", encoding="utf-8") as f:
                    f.write("// hand edit\n")
                sys.argv = ["gen_regmap.py", "--root", tmp, "--check"]
                with redirect_stderr(io.StringIO()), redirect_stdout(io.StringIO()):
                    self.assertEqual(gen.main(), 1)
            finally:
                sys.argv = argv

    def test_doc_without_markers_is_refused(self):
        m = gen.Model(load())
        with self.assertRaises(gen.SpecError):
            gen.fill_doc("# no markers\n", m)


if __name__ == "__main__":
    unittest.main(verbosity=1)
