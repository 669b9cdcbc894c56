#!/usr/bin/env python3
"""`obatch status | cancel | download | list` against the fake Batch API server."""

import json
import os
import unittest

from cli_support import KEY, CliTestCase, FakeServer, read_jsonl


class CliCommandsTest(CliTestCase):

    def finish(self, bid):
        """Moves a remote batch to its end (the fake server advances on reads)."""
        for _ in range(20):
            status, batch = self.server.call("GET", "/v1/batches/" + bid, auth=KEY)
            self.assertEqual(status, 200, batch)
            if batch["status"] in ("completed", "failed", "expired", "cancelled"):
                return batch
        self.fail("batch %s did not end" % bid)

    # ---- status

    def test_status_shows_counts_timestamps_usage(self):
        bid = self.remote_batch(["a", "b", "c"])
        self.finish(bid)
        proc = self.run_cli("status", bid, "-p", "openai")
        self.assert_exit(proc, 0)
        out = proc.stdout
        self.assertIn(bid, out)
        self.assertIn("completed", out)
        self.assertIn("3 total, 3 completed, 0 failed", out)
        self.assertIn("/v1/chat/completions", out)
        self.assertRegex(out, r"created\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
        self.assertRegex(out, r"usage\s+\d+ input \+ \d+ output = \d+ tokens")
        self.assertIn("obatch download " + bid, out)

    def test_status_json_is_the_batch_object(self):
        bid = self.remote_batch(["a"])
        proc = self.run_cli("status", bid, "-p", "openai", "--json")
        self.assert_exit(proc, 0)
        obj = json.loads(proc.stdout)
        self.assertEqual(obj["id"], bid)
        self.assertEqual(obj["object"], "batch")
        self.assertIn("request_counts", obj)

    def test_status_finds_the_provider_by_asking(self):
        # The batch lives at the "parasail" server; openai's server has never heard of it.
        other = FakeServer()
        self.addCleanup(other.stop)
        bid = self.remote_batch(["a", "b"], model="meta-llama/Llama-3-8b", server=other)
        proc = self.run_cli("status", bid, env={"PARASAIL_API_KEY": KEY,
                                                "PARASAIL_BASE_URL": other.base_url})
        self.assert_exit(proc, 0)
        self.assertIn("(parasail)", proc.stdout)
        # openai was asked too, and answered 404.
        asked = [(r["method"], r["path"], r["status"]) for r in self.server.stats()["requests"]]
        self.assertEqual(asked, [("GET", "/v1/batches/" + bid, 404)])
        # The answer that found it is the one shown: parasail is asked once.
        asked = [(r["method"], r["path"], r["status"]) for r in other.stats()["requests"]
                 if r["path"].startswith("/v1/batches/")]
        self.assertEqual(asked, [("GET", "/v1/batches/" + bid, 200)])

    def test_status_unknown_batch_says_so(self):
        proc = self.run_cli("status", "batch_nope", "-p", "openai")
        self.assert_exit(proc, 5)
        self.assertIn("batch_nope", proc.stderr)
        proc = self.run_cli("status", "batch_nope")
        self.assert_exit(proc, 5)
        self.assertIn("no provider knows batch batch_nope", proc.stderr)
        self.assertIn("--provider", proc.stderr)

    def test_status_base_url_without_provider_is_refused(self):
        proc = self.run_cli("status", "batch_x", "--base-url", self.server.base_url,
                            base_url=False)
        self.assert_exit(proc, 2)
        self.assertIn("--base-url needs --provider", proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])

    # ---- cancel

    def test_cancel_running_batch(self):
        self.server.config(steps=1000)
        bid = self.remote_batch(["a", "b", "c", "d"])
        proc = self.run_cli("cancel", bid, "-p", "openai")
        self.assert_exit(proc, 0)
        self.assertIn("cancelling", proc.stdout)
        self.assertIn("obatch download " + bid, proc.stdout)
        cancels = [r for r in self.server.stats()["requests"]
                   if r["method"] == "POST" and r["path"].endswith("/cancel")]
        self.assertEqual(len(cancels), 1)

    def test_cancel_ended_batch_says_nothing_to_cancel(self):
        bid = self.remote_batch(["a"])
        self.finish(bid)
        proc = self.run_cli("cancel", bid, "-p", "openai")
        self.assert_exit(proc, 0)
        self.assertIn("already ended (completed)", proc.stdout)

    # ---- download

    def test_download_ended_batch(self):
        self.server.config(fail_custom_ids=["b"])
        bid = self.remote_batch(["a", "b", "c"])
        self.finish(bid)
        proc = self.run_cli("download", bid, "-p", "openai")
        self.assert_exit(proc, 0)
        self.check_output(os.path.join(self.cwd, bid + "-output.jsonl"), ["a", "c"])
        self.check_errors(os.path.join(self.cwd, bid + "-errors.jsonl"), ["b"])
        self.assertEqual(self.server.stats()["batches_created"], 1)

    def test_download_to_stdout_and_named_error_file(self):
        self.server.config(fail_custom_ids=["b"])
        bid = self.remote_batch(["a", "b", "c"])
        self.finish(bid)
        proc = self.run_cli("download", bid, "-p", "openai", "-o", "-", "-e", "errs.jsonl", "-q")
        self.assert_exit(proc, 0)
        lines = [json.loads(l) for l in proc.stdout.splitlines() if l.strip().startswith("{")]
        self.assertEqual(sorted(l["custom_id"] for l in lines), ["a", "c"])
        self.check_errors(os.path.join(self.cwd, "errs.jsonl"), ["b"])
        self.assertFalse(os.path.exists(os.path.join(self.cwd, bid + "-output.jsonl")))
        self.assertEqual(os.listdir(self.tmpdir), [], "a temporary directory was left behind")

    def test_download_running_batch_exit_10_unless_wait(self):
        self.server.config(steps=3)
        bid = self.remote_batch(["a", "b"])
        proc = self.run_cli("download", bid, "-p", "openai")
        self.assert_exit(proc, 10)
        self.assertIn("--wait", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.cwd, bid + "-output.jsonl")))
        proc = self.run_cli("download", bid, "-p", "openai", "--wait", "--json")
        self.assert_exit(proc, 0)
        events = [json.loads(l) for l in proc.stdout.splitlines()]
        self.assertEqual(events[-1]["event"], "done")
        self.assertEqual(events[-1]["status"], "completed")
        self.check_output(os.path.join(self.cwd, events[-1]["output_file"]), ["a", "b"])

    # ---- list

    def test_list_pages_past_100(self):
        # 105 batches: two pages of the API's at most 100.
        ids = [self.remote_batch(["x"]) for _ in range(105)]
        proc = self.run_cli("list", "-p", "openai", "--all")
        self.assert_exit(proc, 0)
        rows = proc.stdout.splitlines()[1:]
        self.assertEqual(len(rows), 105)
        self.assertEqual([r.split()[0] for r in rows], list(reversed(ids)))
        lists = [r for r in self.server.stats()["requests"]
                 if r["method"] == "GET" and r["path"] == "/v1/batches"]
        self.assertEqual(len(lists), 2)
        self.assertNotIn("after", str(lists[0]["query"]))
        self.assertIn(ids[5], str(lists[1]["query"]))  # after= the first page's last id

    def test_list_limit_and_json(self):
        ids = [self.remote_batch(["x"]) for _ in range(5)]
        proc = self.run_cli("list", "-p", "openai", "--limit", "3", "--json")
        self.assert_exit(proc, 0)
        objs = [json.loads(l) for l in proc.stdout.splitlines()]
        self.assertEqual([o["id"] for o in objs], list(reversed(ids))[:3])

    def test_list_without_provider_asks_those_with_keys(self):
        bid = self.remote_batch(["x"])
        proc = self.run_cli("list")  # only OPENAI_API_KEY is set
        self.assert_exit(proc, 0)
        self.assertIn(bid, proc.stdout)
        self.assertIn("openai", proc.stdout)


if __name__ == "__main__":
    unittest.main()
