#!/usr/bin/env python3
"""The corpus of bad input files (tests/data/bad/cases.json), end to end: for
every case `obatch run FILE` exits with the case's code, names the line and
the reason on stderr, writes nothing under the output names, and the fake
server sees no request at all; `obatch validate FILE` lists the same problem
with its line. Cases too big to check in are generated here, in the test's
own directory, and deleted after use."""

import json
import os
import re
import shutil
import unittest

from cli_support import KEY, CliTestCase

DATA = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "data", "bad"))
MANIFEST = os.path.join(DATA, "cases.json")
# Each group is one test method (one CTest entry, TIMEOUT 60; the generated
# big files get 300 s: see tests/lifecycle/CMakeLists.txt).
# One command on a generated 100 MB file, under AddressSanitizer.
BIG_TIMEOUT = 240
GROUPS = ("json", "encoding", "custom_id", "fields", "batch", "limits", "long_lines")
GENERATORS = ("many_lines", "fixed_size_lines", "embedding_inputs", "long_line", "deep_nesting")
MAX_CHECKED_IN = 64 * 1024  # bigger inputs are generated, never committed
MAX_MESSAGE = 4000  # no error may echo a 10 MB value


def load_cases():
    with open(MANIFEST, encoding="utf-8") as f:
        return json.load(f)["cases"]


def minified(obj):
    return json.dumps(obj, separators=(",", ":"))


def chat(cid, content="hi", model="gpt-4o-mini", url="/v1/chat/completions"):
    # Key order and spacing as obatch writes a line: its size is known.
    return {"custom_id": cid, "method": "POST", "url": url,
            "body": {"model": model, "messages": [{"role": "user", "content": content}]}}


def generate(spec, path):
    """Writes the input `spec` describes to `path`."""
    kind = spec["kind"]
    with open(path, "wb") as f:
        if kind == "many_lines":
            for i in range(1, spec["lines"] + 1):
                f.write(minified(chat("r%d" % i)).encode() + b"\n")
        elif kind == "fixed_size_lines":
            # Lines of exactly line_bytes bytes, written as obatch rewrites
            # them, so the byte limit is crossed on a known line.
            size = spec["line_bytes"]
            for i in range(1, spec["lines"] + 1):
                line = minified(chat("r%d" % i, "", spec["model"]))
                pad = size - len(line) - 1
                f.write(minified(chat("r%d" % i, "x" * pad, spec["model"])).encode() + b"\n")
        elif kind == "embedding_inputs":
            for i, n in enumerate(spec["inputs"], 1):
                f.write(minified({"custom_id": "e%d" % i, "method": "POST", "url": "/v1/embeddings",
                                  "body": {"model": "text-embedding-3-small",
                                           "input": ["x"] * n}}).encode() + b"\n")
        elif kind == "long_line":
            n, defect = spec["bytes"], spec["defect"]
            big = "x" * n
            if defect == "cut_short":  # one 10 MB line, its download cut off
                f.write(minified(chat("a", big)).encode()[:n])
                return
            line = chat("b")
            if defect == "custom_id":
                line["custom_id"] = big
            elif defect == "field_name":
                line[big] = 1
            elif defect == "url":
                line["url"] = "/v1/" + big
            elif defect == "model":
                line["body"]["model"] = "gpt-" + big
            else:
                raise ValueError("unknown defect " + defect)
            for obj in (chat("a"), line, chat("c")):
                f.write(minified(obj).encode() + b"\n")
        elif kind == "deep_nesting":
            levels = spec["levels"]
            deep = minified(chat("b")).replace('"hi"', "[" * levels + "]" * levels)
            for text in (minified(chat("a")), deep, minified(chat("c"))):
                f.write(text.encode() + b"\n")
        else:
            raise ValueError("unknown generator " + kind)


class CliBadInputsTest(CliTestCase):

    def message_problems(self, text, name, line, reasons):
        """What `text` (one error message) lacks; [] if it names the file,
        the line and every reason."""
        problems = []
        if line is None:
            if not re.search(re.escape(name) + r": ", text):
                problems.append("does not start with %r" % (name + ": "))
            if re.search(r"\bline \d", text):
                problems.append("names a line, though the problem is the whole file")
        elif (name + " line %d: " % line) not in text:
            problems.append("does not name %r" % (name + " line %d" % line))
        for reason in reasons:
            if reason not in text:
                problems.append("lacks the reason %r" % reason)
        return problems

    def check_case(self, case, path):
        name = os.path.basename(path)
        args = case.get("args", [])
        line, reasons = case["line"], case["reason"]
        # A Parasail case must not reach the real host either.
        env = {"PARASAIL_API_KEY": KEY, "PARASAIL_BASE_URL": self.server.base_url}
        before = sorted(os.listdir(self.cwd))
        out, err = name + ".output.jsonl", name + ".errors.jsonl"

        proc = self.run_cli("run", *args, name, "-o", out, "-e", err, env=env, timeout=BIG_TIMEOUT)
        self.assert_exit(proc, case["exit"])
        self.assertLess(len(proc.stderr), MAX_MESSAGE, "the error floods stderr")
        problems = self.message_problems(proc.stderr, name, line, reasons)
        if case.get("known_gap"):
            self.assertNotEqual(problems, [], "known gap fixed: drop known_gap from cases.json "
                                              "(stderr: %s)" % proc.stderr)
        else:
            self.assertEqual(problems, [], "stderr: " + proc.stderr)
        self.assertIn("nothing was sent", proc.stderr)
        self.assertEqual(sorted(os.listdir(self.cwd)), before, "run left files behind")
        self.assertEqual(os.listdir(self.tmpdir), [], "run left its work dir behind")
        stats = self.server.stats()
        self.assertEqual(stats["requests"], [], "the server was called")
        self.assertEqual((stats["uploads"], stats["batches_created"]), (0, 0))

        # validate lists the same problem (exit 3: problems found).
        proc = self.run_cli("validate", *args, name, key=None, env=env, timeout=BIG_TIMEOUT)
        self.assert_exit(proc, 3)
        lines = proc.stdout.splitlines()
        self.assertTrue(any(self.message_problems(text, name, line, reasons) == []
                            for text in lines), "validate: " + proc.stdout[:MAX_MESSAGE])
        self.assertTrue(all(len(text) < MAX_MESSAGE for text in lines))
        proc = self.run_cli("validate", "--json", "--max-problems", "1", *args, name,
                            key=None, env=env, timeout=BIG_TIMEOUT)
        self.assert_exit(proc, 3)
        first = json.loads(proc.stdout.splitlines()[0])
        self.assertEqual(first["line"], line or 0, proc.stdout[:MAX_MESSAGE])
        self.assertEqual(self.server.stats()["requests"], [])

    def check_group(self, group):
        cases = [c for c in load_cases() if c["group"] == group]
        self.assertTrue(cases)
        for case in cases:
            with self.subTest(case=case["name"]):
                if "generate" in case:
                    path = os.path.join(self.cwd, case["name"] + ".jsonl")
                    generate(case["generate"], path)
                else:
                    path = os.path.join(self.cwd, case["file"])
                    shutil.copyfile(os.path.join(DATA, case["file"]), path)
                try:
                    self.check_case(case, path)
                finally:
                    os.remove(path)  # big ones must not pile up

    # ---- the corpus itself

    def test_corpus_has_at_least_40_cases(self):
        cases = load_cases()
        self.assertGreaterEqual(len(cases), 40)
        names = [c["name"] for c in cases]
        self.assertEqual(len(names), len(set(names)), "case names repeat")
        files = [c["file"] for c in cases if "file" in c]
        self.assertEqual(len(files), len(set(files)), "a file is listed twice")
        on_disk = sorted(n for n in os.listdir(DATA) if n != "cases.json")
        self.assertEqual(on_disk, sorted(files), "tests/data/bad and cases.json differ")
        for name in files:
            self.assertLessEqual(os.path.getsize(os.path.join(DATA, name)), MAX_CHECKED_IN,
                                 "%s: generate big inputs instead" % name)
        for c in cases:
            self.assertIn(c["group"], GROUPS, c["name"])
            self.assertNotEqual(c["exit"], 0, c["name"])
            self.assertTrue(c["line"] is None or c["line"] >= 1, c["name"])
            self.assertTrue(c["reason"] and all(isinstance(r, str) and r for r in c["reason"]),
                            c["name"])
            self.assertNotEqual("file" in c, "generate" in c, c["name"])
            if "generate" in c:
                self.assertIn(c["generate"]["kind"], GENERATORS, c["name"])
        self.assertEqual(sorted({c["group"] for c in cases}), sorted(GROUPS))

    # ---- one method per group

    def test_malformed_json(self):
        self.check_group("json")

    def test_framing_and_encoding(self):
        self.check_group("encoding")

    def test_custom_ids(self):
        self.check_group("custom_id")

    def test_fields_and_body(self):
        self.check_group("fields")

    def test_batch_rules(self):
        self.check_group("batch")

    def test_generated_limits(self):
        self.check_group("limits")

    def test_generated_long_lines(self):
        self.check_group("long_lines")


if __name__ == "__main__":
    unittest.main()
