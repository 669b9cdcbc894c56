#!/usr/bin/env python3
"""`obatch run` end to end against the fake Batch API server."""

import json
import os
import unittest

from cli_support import KEY, CliTestCase, chat_line, read_jsonl


class CliRunTest(CliTestCase):

    def test_success_writes_results_in_cwd(self):
        self.server.config(fail_every=4)
        ids = self.chat_input(12)
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01")
        self.assert_exit(proc, 0)
        bid = self.only_batch_id()
        out_name, err_name = bid + "-output.jsonl", bid + "-errors.jsonl"
        self.assertIn(out_name, proc.stdout)
        self.assertIn(err_name, proc.stdout)
        failing = [cid for i, cid in enumerate(ids, 1) if i % 4 == 0]
        self.check_output(os.path.join(self.cwd, out_name),
                          [cid for cid in ids if cid not in failing])
        self.check_errors(os.path.join(self.cwd, err_name), failing)
        self.assertIn("--resume " + bid, proc.stderr)
        self.no_temp_files(self.cwd)
        self.assertEqual(os.listdir(self.tmpdir), [], "the work dir was left behind")
        stats = self.server.stats()
        self.assertEqual(stats["uploads"], 1)
        self.assertEqual(stats["batches_created"], 1)

    def test_output_and_error_paths(self):
        self.server.config(fail_every=3)
        ids = self.chat_input(6)
        os.mkdir(os.path.join(self.cwd, "res"))
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01",
                            "-o", "res/out.jsonl", "--error-file", "res/err.jsonl")
        self.assert_exit(proc, 0)
        self.assertIn("res/out.jsonl", proc.stdout)
        self.assertIn("res/err.jsonl", proc.stdout)
        self.check_output(os.path.join(self.cwd, "res", "out.jsonl"),
                          [ids[0], ids[1], ids[3], ids[4]])
        self.check_errors(os.path.join(self.cwd, "res", "err.jsonl"), [ids[2], ids[5]])
        bid = self.only_batch_id()
        self.assertFalse(os.path.exists(os.path.join(self.cwd, bid + "-output.jsonl")))
        self.assertFalse(os.path.exists(os.path.join(self.cwd, bid + "-errors.jsonl")))
        self.no_temp_files(os.path.join(self.cwd, "res"))

    def test_bad_input_sends_nothing(self):
        self.write_input("input.jsonl", [chat_line("a"), '{"custom_id": "b", "method": ',
                                         chat_line("c")])
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01")
        self.assert_exit(proc, 3)
        self.assertIn("line 2", proc.stderr)
        self.assertIn("input.jsonl", proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_failed_batch_exit_6(self):
        self.server.config(final_status="failed")
        self.chat_input(4)
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01")
        self.assert_exit(proc, 6)
        self.assertIn("fake validation failure", proc.stderr)

    def test_expired_exit_7_keeps_partial_output(self):
        self.server.config(final_status="expired", partial_fraction=0.5)
        ids = self.chat_input(10)
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01")
        self.assert_exit(proc, 7)
        bid = self.only_batch_id()
        self.assertIn(bid + "-output.jsonl", proc.stdout)
        self.check_output(os.path.join(self.cwd, bid + "-output.jsonl"), ids[:5])
        self.assertIn("expired", proc.stderr)

    def test_cancelled_exit_8_keeps_partial_output(self):
        self.server.config(final_status="cancelled", partial_fraction=0.5)
        ids = self.chat_input(10)
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01")
        self.assert_exit(proc, 8)
        bid = self.only_batch_id()
        self.check_output(os.path.join(self.cwd, bid + "-output.jsonl"), ids[:5])
        self.assertIn("cancelled", proc.stderr)

    def test_resume_downloads_existing_batch(self):
        ids = ["r-%d" % i for i in range(8)]
        bid = self.remote_batch(ids)
        # --base-url instead of OPENAI_BASE_URL.
        proc = self.run_cli("run", "--resume", bid, "-p", "openai", "--poll-interval", "0.01",
                            "--base-url", self.server.base_url, base_url=False)
        self.assert_exit(proc, 0)
        self.assertIn(bid + "-output.jsonl", proc.stdout)
        self.check_output(os.path.join(self.cwd, bid + "-output.jsonl"), ids)
        stats = self.server.stats()
        self.assertEqual(stats["uploads"], 1)
        self.assertEqual(stats["batches_created"], 1)

    def test_resume_finds_the_provider_by_asking(self):
        ids = ["r-%d" % i for i in range(3)]
        bid = self.remote_batch(ids)
        proc = self.run_cli("run", "--resume", bid, "--poll-interval", "0.01",
                            env={"PARASAIL_API_KEY": "other-key"})
        self.assert_exit(proc, 0)
        self.check_output(os.path.join(self.cwd, bid + "-output.jsonl"), ids)

    def test_create_only_prints_the_id_and_leaves_it_running(self):
        self.server.config(steps=1000)
        self.chat_input(3)
        proc = self.run_cli("run", "input.jsonl", "-c")
        self.assert_exit(proc, 0)
        bid = self.only_batch_id()
        self.assertEqual(proc.stdout.strip(), bid)
        self.assertIn("--resume " + bid, proc.stderr)
        status, batch = self.server.call("GET", "/v1/batches/" + bid, auth=KEY)
        self.assertIn(batch["status"], ("validating", "in_progress"))
        downloads = [r for r in self.server.stats()["requests"] if r["path"].endswith("/content")]
        self.assertEqual(downloads, [])

    def test_dry_run_sends_nothing_and_says_what_would_go(self):
        self.chat_input(7)
        proc = self.run_cli("run", "input.jsonl", "-n", "--metadata", "team=evals")
        self.assert_exit(proc, 0)
        out = proc.stdout
        self.assertIn("nothing was sent", out)
        self.assertRegex(out, r"provider\s+openai")
        self.assertRegex(out, r"endpoint\s+/v1/chat/completions")
        self.assertRegex(out, r"model\s+gpt-4o-mini")
        self.assertRegex(out, r"requests\s+7")
        # The bytes obatch would upload: each line as it is sent (minified).
        sent = sum(len(json.dumps(chat_line("req-%d" % i, i - 1), separators=(",", ":"))) + 1
                   for i in range(1, 8))
        self.assertRegex(out, r"bytes\s+%d " % sent)
        self.assertIn("team=evals", out)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_dry_run_lists_every_problem(self):
        self.write_input("input.jsonl", [chat_line("a"), "{oops", chat_line("a"),
                                         chat_line("d", model="gpt-4o")])
        proc = self.run_cli("run", "input.jsonl", "--dry-run", "--one-batch")
        self.assert_exit(proc, 3)
        for n in (2, 3, 4):
            self.assertIn("line %d" % n, proc.stderr)
        self.assertIn("3 problem", proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_metadata_and_completion_window_reach_the_batch(self):
        self.chat_input(2)
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01",
                            "--metadata", "team=evals", "--metadata", "run=7",
                            "--completion-window", "24h")
        self.assert_exit(proc, 0)
        batch = self.server.batches()[0]
        self.assertEqual(batch["metadata"]["team"], "evals")
        self.assertEqual(batch["metadata"]["run"], "7")
        self.assertEqual(batch["completion_window"], "24h")

    def test_metadata_limits_are_usage_errors(self):
        self.chat_input(2)
        for bad in ("novalue", "=x", "k" * 65 + "=v", "k=" + "v" * 513):
            proc = self.run_cli("run", "input.jsonl", "--metadata", bad)
            self.assert_exit(proc, 2)
            self.assertIn("metadata", proc.stderr)
        many = []
        for i in range(16):
            many += ["--metadata", "k%d=v" % i]
        proc = self.run_cli("run", "input.jsonl", *many)
        self.assert_exit(proc, 2)
        self.assertIn("15", proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_stdin_in_stdout_out(self):
        ids = ["s-%d" % i for i in range(4)]
        data = "".join(json.dumps(chat_line(cid, i)) + "\n" for i, cid in enumerate(ids))
        proc = self.run_cli("run", "-", "-o", "-", "--poll-interval", "0.01", "-q",
                            stdin=data)
        self.assert_exit(proc, 0)
        lines = [json.loads(l) for l in proc.stdout.splitlines()]
        self.assertEqual(sorted(l["custom_id"] for l in lines), ids)
        self.assertEqual([n for n in os.listdir(self.cwd) if n.endswith("-output.jsonl")], [])
        self.assertEqual(os.listdir(self.tmpdir), [], "a temporary file was left behind")

    def test_stdin_errors_name_stdin(self):
        proc = self.run_cli("run", "-", stdin=json.dumps(chat_line("a")) + "\n{bad\n")
        self.assert_exit(proc, 3)
        self.assertIn("<stdin> line 2", proc.stderr)
        self.assertNotIn(self.tmpdir, proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_errors_to_stderr(self):
        self.server.config(fail_every=2)
        ids = self.chat_input(4)
        proc = self.run_cli("run", "input.jsonl", "-e", "-", "--poll-interval", "0.01", "-q")
        self.assert_exit(proc, 0)
        err_lines = [json.loads(l) for l in proc.stderr.splitlines() if l.startswith("{")]
        self.assertEqual(sorted(l["custom_id"] for l in err_lines), [ids[1], ids[3]])

    def test_json_progress_objects(self):
        self.server.config(steps=2, fail_every=3)
        self.chat_input(6)
        proc = self.run_cli("run", "input.jsonl", "--json", "--poll-interval", "0.01")
        self.assert_exit(proc, 0)
        events = [json.loads(l) for l in proc.stdout.splitlines()]
        kinds = [e["event"] for e in events]
        self.assertIn("created", kinds)
        self.assertIn("progress", kinds)
        self.assertEqual(kinds[-1], "done")
        bid = self.only_batch_id()
        done = events[-1]
        self.assertEqual(done["batch_id"], bid)
        self.assertEqual(done["status"], "completed")
        self.assertEqual(done["exit_code"], 0)
        self.assertEqual(done["requests_total"], 6)
        self.assertTrue(os.path.isfile(os.path.join(self.cwd, done["output_file"])))
        statuses = [e["status"] for e in events if e["event"] == "progress"]
        self.assertIn("in_progress", statuses)
        self.assertEqual(proc.stderr, "")

    def test_quiet_prints_only_paths(self):
        self.chat_input(2)
        proc = self.run_cli("run", "input.jsonl", "-q", "--poll-interval", "0.01")
        self.assert_exit(proc, 0)
        bid = self.only_batch_id()
        self.assertEqual(proc.stdout.strip(), "output: ./%s-output.jsonl" % bid)
        self.assertEqual(proc.stderr, "")

    def test_plain_progress_when_not_a_terminal(self):
        self.server.config(steps=2)
        self.chat_input(2)
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01")
        self.assert_exit(proc, 0)
        self.assertNotIn("\r", proc.stderr)
        self.assertNotIn("\033[", proc.stderr)
        self.assertIn("uploading 2 requests", proc.stderr)
        self.assertIn("in_progress", proc.stderr)

    def test_embeddings_endpoint(self):
        ids = ["e-%d" % i for i in range(5)]
        self.write_input("emb.jsonl", [
            {"custom_id": cid, "method": "POST", "url": "/v1/embeddings",
             "body": {"model": "text-embedding-3-small", "input": "text %d" % i}}
            for i, cid in enumerate(ids)])
        proc = self.run_cli("run", "emb.jsonl", "--poll-interval", "0.01")
        self.assert_exit(proc, 0)
        batches = self.server.batches()
        self.assertEqual(len(batches), 1)
        self.assertEqual(batches[0]["endpoint"], "/v1/embeddings")
        lines = read_jsonl(os.path.join(self.cwd, batches[0]["id"] + "-output.jsonl"))
        self.assertEqual(sorted(line["custom_id"] for line in lines), ids)
        for line in lines:
            self.assertEqual(line["response"]["body"]["object"], "list")

    def test_missing_key_exit_4(self):
        self.chat_input(2)
        proc = self.run_cli("run", "input.jsonl", key=None)
        self.assert_exit(proc, 4)
        self.assertIn("OPENAI_API_KEY", proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_wrong_key_exit_4_never_printed(self):
        wrong = "sk-wrong-key-0123456789abcdef"
        self.secrets.append(wrong)
        self.chat_input(2)
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01", key=wrong)
        self.assert_exit(proc, 4)
        self.assertIn("OPENAI_API_KEY", proc.stderr)
        # The first call (the look for a batch of this input made through
        # another journal) is refused, and nothing is tried after it.
        requests = self.server.stats()["requests"]
        self.assertEqual([(r["method"], r["path"], r["status"]) for r in requests],
                         [("GET", "/v1/batches", 401)])

    def test_insecure_url_exit_4(self):
        self.chat_input(2)
        proc = self.run_cli("run", "input.jsonl", "--base-url", "http://example.com/v1")
        self.assert_exit(proc, 4)
        self.assertIn("example.com", proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_usage_errors_exit_2(self):
        self.chat_input(1)
        self.assert_exit(self.run_cli("run"), 2)
        self.assert_exit(self.run_cli("run", "input.jsonl", "--resume", "batch_x", "-p",
                                      "openai"), 2)
        self.assert_exit(self.run_cli("run", "input.jsonl", "--no-such-flag"), 2)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_help_lists_exit_codes(self):
        proc = self.run_cli("--help")
        self.assert_exit(proc, 0)
        text = proc.stdout
        self.assertIn("Exit codes", text)
        for phrase in ("0 completed", "2 usage", "3 bad input", "4 key", "5 network",
                       "6 batch failed", "7 batch expired", "8 batch cancelled",
                       "9 local file"):
            self.assertIn(phrase, text)
        self.assertIn("run", text)
        self.assertIn("OPENAI_API_KEY", text)

    def test_version(self):
        proc = self.run_cli("--version")
        self.assert_exit(proc, 0)
        self.assertRegex(proc.stdout.strip(), r"^obatch \d+\.\d+\.\d+$")


if __name__ == "__main__":
    unittest.main()
