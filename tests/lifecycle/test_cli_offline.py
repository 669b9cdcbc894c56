#!/usr/bin/env python3
"""`obatch create-input`, `validate` and `results`: the commands that work on
local files only. Each test also checks that the fake server saw nothing."""

import json
import os
import subprocess
import unittest

from cli_support import CLI, KEY_ENV, CliTestCase, chat_line, read_jsonl


def result_line(cid, status=200, body=None, error=None):
    """A line of an output or error file as OpenAI writes it."""
    response = None
    if status is not None:
        response = {"status_code": status, "request_id": "req_" + cid,
                    "body": body if body is not None else {"echo": cid}}
    return {"id": "batch_req_" + cid, "custom_id": cid, "response": response, "error": error}


class CliOfflineTest(CliTestCase):

    def setUp(self):
        super().setUp()
        self.offline = True

    def tearDown(self):
        # None of these commands may talk to the API.
        if self.offline:
            self.assertEqual(self.server.stats()["requests"], [])

    def write_bytes(self, name, data):
        path = os.path.join(self.cwd, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def run_stdin(self, data, *args):
        """`obatch ARGS` with `data` (str) on standard input and no key."""
        env = {k: v for k, v in os.environ.items() if k not in KEY_ENV}
        env["TMPDIR"] = self.tmpdir
        return subprocess.run([CLI] + list(args), cwd=self.cwd, env=env, input=data,
                              capture_output=True, text=True, timeout=40)

    # ---- create-input

    def test_create_input_file_to_file(self):
        self.write_bytes("prompts.txt", b"first prompt\n\nsecond \xc3\xa9\r\n   \nthird \"quoted\"\n")
        proc = self.run_cli("create-input", "-m", "gpt-4o-mini", "--system", "Be brief.",
                            "--max-tokens", "50", "prompts.txt", "out.jsonl", key=None)
        self.assert_exit(proc, 0)
        self.assertEqual(proc.stdout, "")
        self.assertIn("obatch: wrote 3 requests (gpt-4o-mini, /v1/chat/completions, ", proc.stderr)
        self.assertIn(" to out.jsonl", proc.stderr)
        lines = read_jsonl(os.path.join(self.cwd, "out.jsonl"))
        self.assertEqual([line["custom_id"] for line in lines], ["line-1", "line-3", "line-5"])
        prompts = ["first prompt", "second \u00e9", "third \"quoted\""]
        for line, prompt in zip(lines, prompts):
            self.assertEqual(line["method"], "POST")
            self.assertEqual(line["url"], "/v1/chat/completions")
            self.assertEqual(line["body"], {
                "model": "gpt-4o-mini", "max_tokens": 50,
                "messages": [{"role": "system", "content": "Be brief."},
                             {"role": "user", "content": prompt}]})
        self.no_temp_files(self.cwd)
        self.assertEqual(os.listdir(self.tmpdir), [], "the work dir was left behind")

    def test_create_input_stdin_to_stdout(self):
        proc = self.run_stdin("\ufeffone\ntwo\n\nthree", "create-input", "--model", "gpt-4o-mini",
                              "--id-prefix", "q", "-q", "-", "-")
        self.assert_exit(proc, 0)
        self.assertEqual(proc.stderr, "")
        lines = [json.loads(line) for line in proc.stdout.splitlines()]
        self.assertEqual([line["custom_id"] for line in lines], ["q-1", "q-2", "q-4"])
        self.assertEqual([line["body"] for line in lines], [
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": p}]}
            for p in ("one", "two", "three")])
        # The defaults are stdin and stdout too.
        proc = self.run_stdin("a\n", "create-input", "-m", "gpt-4o-mini")
        self.assert_exit(proc, 0)
        self.assertEqual(json.loads(proc.stdout)["custom_id"], "line-1")
        self.assertIn("wrote 1 request (", proc.stderr)
        self.assertIn("to standard output", proc.stderr)

    def test_create_input_embeddings(self):
        self.write_input("texts.txt", ["alpha", "beta"])
        proc = self.run_cli("create-input", "-e", "-m", "text-embedding-3-small", "-p", "openai",
                            "texts.txt", "emb.jsonl", key=None)
        self.assert_exit(proc, 0)
        self.assertIn("(text-embedding-3-small, /v1/embeddings, ", proc.stderr)
        lines = read_jsonl(os.path.join(self.cwd, "emb.jsonl"))
        self.assertEqual([line["body"] for line in lines], [
            {"model": "text-embedding-3-small", "input": "alpha"},
            {"model": "text-embedding-3-small", "input": "beta"}])
        self.assertEqual({line["url"] for line in lines}, {"/v1/embeddings"})
        proc = self.run_cli("validate", "emb.jsonl", key=None)
        self.assert_exit(proc, 0)
        self.assertRegex(proc.stdout, r"^emb\.jsonl: OK: 2 requests for /v1/embeddings "
                                      r"\(openai, model text-embedding-3-small\), \d+ B\n$")

    def test_create_input_over_limit(self):
        # Over OpenAI's 50000 requests per batch: one file all the same, which
        # obatch run sends as two batches.
        self.write_input("many.txt", ["prompt %d" % i for i in range(50001)])
        proc = self.run_cli("create-input", "-m", "gpt-4o-mini", "many.txt", "out.jsonl")
        self.assert_exit(proc, 0)
        self.assertIn("wrote 50001 requests", proc.stderr)
        self.assertIn("obatch run sends it as 2 batches", proc.stderr)
        with open(os.path.join(self.cwd, "out.jsonl"), encoding="utf-8") as f:
            self.assertEqual(sum(1 for _ in f), 50001)
        self.no_temp_files(self.cwd)
        self.assertEqual(os.listdir(self.tmpdir), [])

    def test_create_input_bad_input(self):
        self.write_bytes("bad.txt", b"fine\nnot \xff utf-8\n")
        proc = self.run_cli("create-input", "-m", "gpt-4o-mini", "bad.txt", "out.jsonl")
        self.assert_exit(proc, 3)
        self.assertIn("bad.txt line 2: invalid UTF-8", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.cwd, "out.jsonl")))
        self.write_input("blank.txt", ["", "  "])
        proc = self.run_cli("create-input", "-m", "gpt-4o-mini", "blank.txt", "out.jsonl")
        self.assert_exit(proc, 3)
        self.assertIn("no prompts", proc.stderr)
        proc = self.run_cli("create-input", "-m", "gpt-4o-mini", "no-such.txt", "out.jsonl")
        self.assert_exit(proc, 9)
        self.assertIn("no-such.txt", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.cwd, "out.jsonl")))
        self.no_temp_files(self.cwd)

    def test_create_input_provider_and_usage_errors(self):
        self.write_input("p.txt", ["hello"])
        proc = self.run_cli("create-input", "-m", "gpt-4o-mini", "-p", "nope", "p.txt")
        self.assert_exit(proc, 4)
        self.assertIn("nope", proc.stderr)
        self.assertIn("openai", proc.stderr)
        self.assert_exit(self.run_cli("create-input", "p.txt"), 2)  # no --model
        self.assert_exit(self.run_cli("create-input", "-m", "m", "-e", "--system", "x", "p.txt"), 2)
        self.assert_exit(self.run_cli("create-input", "-m", "m", "--max-tokens", "0", "p.txt"), 2)

    # ---- validate

    def test_validate_good_file_needs_no_key(self):
        self.chat_input(5)
        proc = self.run_cli("validate", "input.jsonl", key=None)
        self.assert_exit(proc, 0)
        self.assertRegex(proc.stdout, r"^input\.jsonl: OK: 5 requests for /v1/chat/completions "
                                      r"\(openai, model gpt-4o-mini\), \d+ B\n$")
        self.assert_exit(self.run_cli("validate", "-q", "input.jsonl", key=None), 0)

    def many_problems(self):
        """A file with one problem on each of lines 2..6 (line 1 and 7 good)."""
        emb = {"custom_id": "e", "method": "POST", "url": "/v1/embeddings",
               "body": {"model": "text-embedding-3-small", "input": "x"}}
        stream = chat_line("s")
        stream["body"]["stream"] = True
        return self.write_input("bad.jsonl", [
            chat_line("a"),                                 # 1 good
            '{"custom_id": "b", "method": ',                # 2 not JSON
            chat_line("a"),                                 # 3 duplicate custom_id
            emb,                                            # 4 another url
            chat_line("m", model="gpt-4o"),                 # 5 a second model
            stream,                                         # 6 stream: true
            chat_line("g"),                                 # 7 good
        ])

    def test_validate_reports_every_problem(self):
        self.many_problems()
        proc = self.run_cli("validate", "--one-batch", "bad.jsonl", key=None)
        self.assert_exit(proc, 3)
        out = proc.stdout.splitlines()
        self.assertEqual(len(out), 6, proc.stdout)
        for lineno, line in zip(range(2, 7), out):
            self.assertIn("bad.jsonl", line)
            self.assertIn("line %d" % lineno, line)
        self.assertIn("/v1/embeddings", out[2])
        self.assertIn("stream", out[4])
        self.assertEqual(out[-1], "bad.jsonl: 5 problems in 7 lines; nothing was sent")

    def test_validate_bom_and_crlf(self):
        self.write_bytes("bom.jsonl", b"\xef\xbb\xbf" + json.dumps(chat_line("a")).encode() +
                         b"\n" + json.dumps(chat_line("b")).encode() + b"\n")
        proc = self.run_cli("validate", "bom.jsonl", key=None)
        self.assert_exit(proc, 3)
        self.assertIn("line 1", proc.stdout)
        self.assertIn("1 problem in 2 lines", proc.stdout)
        self.write_bytes("crlf.jsonl", b"".join(json.dumps(chat_line(c)).encode() + b"\r\n"
                                                for c in ("a", "b", "c")))
        proc = self.run_cli("validate", "crlf.jsonl", key=None)
        self.assert_exit(proc, 3)
        out = proc.stdout.splitlines()
        for lineno in (1, 2, 3):
            self.assertIn("crlf.jsonl line %d" % lineno, out[lineno - 1])
            self.assertIn("CR LF", out[lineno - 1])
        self.assertEqual(out[3], "crlf.jsonl: 3 problems in 3 lines; nothing was sent")

    def test_validate_json(self):
        self.many_problems()
        proc = self.run_cli("validate", "--one-batch", "--json", "bad.jsonl", key=None)
        self.assert_exit(proc, 3)
        objs = [json.loads(line) for line in proc.stdout.splitlines()]
        problems, summary = objs[:-1], objs[-1]
        self.assertEqual([p["line"] for p in problems], [2, 3, 4, 5, 6])
        self.assertEqual([p["code"] for p in problems],
                         ["json", "duplicate", "request", "model", "request"])
        for p in problems:
            self.assertIn("bad.jsonl line %d" % p["line"], p["message"])
        self.assertEqual(summary["file"], "bad.jsonl")
        self.assertIs(summary["ok"], False)
        self.assertEqual(summary["problems"], 5)
        self.assertEqual(summary["lines"], 7)
        self.assertEqual(summary["provider"], "openai")
        self.assertEqual(summary["endpoint"], "/v1/chat/completions")
        self.assertEqual(summary["model"], "gpt-4o-mini")
        self.assertEqual(summary["requests"], 2)
        self.assertGreater(summary["bytes"], 0)
        self.chat_input(3, "good.jsonl")
        proc = self.run_cli("validate", "good.jsonl", "--json", key=None)
        self.assert_exit(proc, 0)
        summary = json.loads(proc.stdout)
        self.assertIs(summary["ok"], True)
        self.assertEqual((summary["problems"], summary["requests"]), (0, 3))

    def test_validate_max_problems(self):
        self.write_input("junk.jsonl", ["not json %d" % i for i in range(10)])
        proc = self.run_cli("validate", "junk.jsonl", "--max-problems", "3", key=None)
        self.assert_exit(proc, 3)
        out = proc.stdout.splitlines()
        self.assertEqual(len(out), 5, proc.stdout)
        for i in range(3):
            self.assertIn("line %d" % (i + 1), out[i])
        self.assertEqual(out[3], "... and 7 more problems")
        self.assertEqual(out[4], "junk.jsonl: 10 problems in 10 lines; nothing was sent")
        proc = self.run_cli("validate", "junk.jsonl", "--max-problems", "2", "--json", key=None)
        objs = [json.loads(line) for line in proc.stdout.splitlines()]
        self.assertEqual(len(objs), 3)
        self.assertEqual((objs[-1]["problems"], objs[-1]["shown"]), (10, 2))
        proc = self.run_cli("validate", "-q", "junk.jsonl", key=None)
        self.assert_exit(proc, 3)
        self.assertEqual(proc.stdout + proc.stderr, "")

    def test_validate_reports_a_limit_once(self):
        # As one batch (--one-batch), OpenAI's 50000 requests per batch: 50010 lines are one problem, not ten, and
        # the lines past the limit still get every other check (a duplicate of a line
        # before the limit and of one past it, bad JSON).
        lines = [json.dumps(chat_line("r%d" % i)) for i in range(1, 50011)]
        lines[50004] = json.dumps(chat_line("r10"))     # line 50005: line 10's custom_id
        lines[50006] = "{not json"                      # line 50007
        lines[50008] = json.dumps(chat_line("r50003"))  # line 50009: a line past the limit's
        self.write_input("big.jsonl", lines)
        proc = self.run_cli("validate", "--one-batch", "big.jsonl", key=None)
        self.assert_exit(proc, 3)
        out = proc.stdout.splitlines()
        self.assertEqual(len(out), 5, proc.stdout)
        self.assertEqual(out[0], "big.jsonl line 50001: the batch would have 50001 requests; "
                                 "openai allows 50000 (the file has 50007 requests)")
        self.assertEqual(out[1], 'big.jsonl line 50005: custom_id "r10" is already used by line 10')
        self.assertTrue(out[2].startswith("big.jsonl line 50007: the line is invalid JSON"), out[2])
        self.assertEqual(out[3], 'big.jsonl line 50009: custom_id "r50003" is already used by '
                                 'line 50003')
        self.assertEqual(out[4], "big.jsonl: 4 problems in 50010 lines; nothing was sent")
        # --json says the same: the count, the problems shown, the file's requests.
        proc = self.run_cli("validate", "--one-batch", "--json", "big.jsonl", key=None)
        self.assert_exit(proc, 3)
        objs = [json.loads(line) for line in proc.stdout.splitlines()]
        problems, summary = objs[:-1], objs[-1]
        self.assertEqual([(p["line"], p["code"]) for p in problems],
                         [(50001, "limit"), (50005, "duplicate"), (50007, "json"),
                          (50009, "duplicate")])
        self.assertIn("(the file has 50007 requests)", problems[0]["message"])
        self.assertEqual((summary["problems"], summary["shown"], summary["lines"],
                          summary["requests"]), (4, 4, 50010, 50007))
        # Capped, the limit still counts once.
        proc = self.run_cli("validate", "--one-batch", "--max-problems", "1", "big.jsonl",
                            key=None)
        self.assertEqual(proc.stdout.splitlines()[1:], [
            "... and 3 more problems", "big.jsonl: 4 problems in 50010 lines; nothing was sent"])

    def test_validate_says_how_many_batches(self):
        # By default a limit of one batch is where obatch run cuts the input.
        self.write_input("big.jsonl", [json.dumps(chat_line("r%d" % i)) for i in range(50001)])
        proc = self.run_cli("validate", "big.jsonl", key=None)
        self.assert_exit(proc, 0)
        self.assertIn("big.jsonl: OK: 50001 requests", proc.stdout)
        self.assertIn("obatch run sends it as 2 batches", proc.stdout)
        proc = self.run_cli("validate", "--json", "--max-requests-per-batch", "10000", "big.jsonl",
                            key=None)
        self.assert_exit(proc, 0)
        summary = json.loads(proc.stdout)
        self.assertEqual((summary["ok"], summary["batches"]), (True, 6))
        self.assertGreater(summary["tokens_estimated"], 50001)

    def test_validate_stdin(self):
        bad = json.dumps(chat_line("a")) + "\n" + json.dumps(chat_line("a")) + "\n"
        proc = self.run_stdin(bad, "validate", "-")
        self.assert_exit(proc, 3)
        self.assertIn("<stdin> line 2", proc.stdout)
        self.assertNotIn(self.tmpdir, proc.stdout)
        self.assertIn("<stdin>: 1 problem in 2 lines", proc.stdout)
        proc = self.run_stdin(json.dumps(chat_line("a")) + "\n", "validate", "-")
        self.assert_exit(proc, 0)
        self.assertTrue(proc.stdout.startswith("<stdin>: OK: 1 request for "), proc.stdout)
        self.assertEqual(os.listdir(self.tmpdir), [], "the stdin copy was left behind")

    def test_validate_unreadable_exit_9(self):
        proc = self.run_cli("validate", "missing.jsonl", key=None)
        self.assert_exit(proc, 9)
        self.assertIn("missing.jsonl", proc.stderr)
        self.assert_exit(self.run_cli("validate", key=None), 2)
        self.chat_input(1)
        proc = self.run_cli("validate", "-p", "nope", "input.jsonl", key=None)
        self.assert_exit(proc, 4)
        self.assertIn("nope", proc.stderr)
        self.assertIn("openai", proc.stderr)
        self.assert_exit(self.run_cli("validate", "-q", "--json", "input.jsonl", key=None), 2)
        self.assert_exit(self.run_cli("validate", "--max-problems", "0", "input.jsonl",
                                      key=None), 2)

    # ---- results

    def write_results(self):
        """Input a..f; output (shuffled) has a, c, f; errors has an HTTP 400
        for b and an error without response for d; e has no result."""
        ids = ["a", "b", "c", "d", "e", "f"]
        self.write_input("in.jsonl", [chat_line(cid, i) for i, cid in enumerate(ids)])
        self.write_input("out.jsonl", [result_line("f"), result_line("a"), result_line("c")])
        self.write_input("err.jsonl", [
            result_line("b", 400, {"error": {"code": "bad", "message": "no good"}}),
            result_line("d", None, error={"code": "batch_expired", "message": "too late"})])
        return ids

    def test_results_merge_in_input_order(self):
        ids = self.write_results()
        proc = self.run_cli("results", "out.jsonl", "err.jsonl", "-i", "in.jsonl", key=None)
        self.assert_exit(proc, 0)
        lines = [json.loads(line) for line in proc.stdout.splitlines()]
        self.assertEqual([line["custom_id"] for line in lines], ids)
        self.assertEqual([line["index"] for line in lines], list(range(6)))
        a, b, c, d, e, f = lines
        self.assertEqual(a["status_code"], 200)
        self.assertEqual(a["body"], {"echo": "a"})
        self.assertNotIn("error", a)
        self.assertEqual(b["status_code"], 400)
        self.assertEqual(b["error"], {"code": "bad", "message": "no good"})
        self.assertEqual(b["body"], {"error": {"code": "bad", "message": "no good"}})
        self.assertIsNone(d["status_code"])
        self.assertEqual(d["error"], {"code": "batch_expired", "message": "too late"})
        self.assertIsNone(e["status_code"])
        self.assertEqual(e["error"]["code"], "missing")
        self.assertEqual(proc.stderr,
                         "results: 6 (succeeded 3, HTTP error 1, error 1, missing 1)\n")
        # Without the input: every result line, output file first; none missing.
        proc = self.run_cli("results", "out.jsonl", "err.jsonl", "-q", key=None)
        self.assert_exit(proc, 0)
        self.assertEqual(proc.stderr, "")
        lines = [json.loads(line) for line in proc.stdout.splitlines()]
        self.assertEqual(sorted(line["custom_id"] for line in lines), ["a", "b", "c", "d", "f"])
        # Only an error file.
        proc = self.run_cli("results", "", "err.jsonl", key=None)
        self.assert_exit(proc, 0)
        self.assertEqual([json.loads(l)["custom_id"] for l in proc.stdout.splitlines()],
                         ["b", "d"])

    def test_results_to_file(self):
        ids = self.write_results()
        proc = self.run_cli("results", "out.jsonl", "err.jsonl", "--input", "in.jsonl",
                            "-o", "merged.jsonl", key=None)
        self.assert_exit(proc, 0)
        self.assertEqual(proc.stdout, "")
        self.assertIn("written to merged.jsonl", proc.stderr)
        lines = read_jsonl(os.path.join(self.cwd, "merged.jsonl"))
        self.assertEqual([line["custom_id"] for line in lines], ids)
        self.no_temp_files(self.cwd)

    def test_results_truncated_exit_9(self):
        self.write_results()
        with open(os.path.join(self.cwd, "out.jsonl"), "ab") as f:
            f.write(b'{"id": "batch_req_g", "custom_id": "g", "resp')
        proc = self.run_cli("results", "out.jsonl", "err.jsonl", "-o", "merged.jsonl", key=None)
        self.assert_exit(proc, 9)
        self.assertIn("out.jsonl", proc.stderr)
        self.assertIn("truncated", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.cwd, "merged.jsonl")))
        self.no_temp_files(self.cwd)

    def test_results_unreadable_and_usage(self):
        self.write_results()
        proc = self.run_cli("results", "nothing.jsonl", key=None)
        self.assert_exit(proc, 9)
        self.assertIn("nothing.jsonl", proc.stderr)
        proc = self.run_cli("results", "out.jsonl", "-i", "gone.jsonl", key=None)
        self.assert_exit(proc, 9)
        self.assertIn("gone.jsonl", proc.stderr)
        self.assert_exit(self.run_cli("results", key=None), 2)
        self.assert_exit(self.run_cli("results", "", key=None), 2)

    def test_results_after_expired_run(self):
        """End to end: `obatch run` on an expiring batch, then `results`."""
        self.server.config(final_status="expired", partial_fraction=0.5, fail_every=3)
        ids = self.chat_input(10)
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01",
                            "-o", "out.jsonl", "-e", "err.jsonl")
        self.assert_exit(proc, 7)
        self.offline = False
        # The run itself talked to the server; what follows must not.
        before = len(self.server.stats()["requests"])
        proc = self.run_cli("results", "out.jsonl", "err.jsonl", "-i", "input.jsonl",
                            "-o", "merged.jsonl", key=None)
        self.assert_exit(proc, 0)
        self.assertEqual(len(self.server.stats()["requests"]), before)
        lines = read_jsonl(os.path.join(self.cwd, "merged.jsonl"))
        self.assertEqual([line["custom_id"] for line in lines], ids)
        for i, line in enumerate(lines):
            if i >= 5:
                self.assertEqual(line["error"]["code"], "missing", line)
            elif (i + 1) % 3 == 0:
                self.assertEqual(line["status_code"], 400, line)
                self.assertEqual(line["error"]["code"], "fake_failure")
            else:
                self.assertEqual(line["status_code"], 200, line)
                self.assertEqual(line["body"]["choices"][0]["message"]["content"],
                                 "echo: " + line["custom_id"])
        self.assertIn("results: 10 (succeeded 4, HTTP error 1, error 0, missing 5)",
                      proc.stderr)


if __name__ == "__main__":
    unittest.main()
