#!/usr/bin/env python3
"""`obatch run -p anthropic` against the fake server's Message Batches API: the
common scenario with the user's own custom_ids (mapped where Anthropic's
alphabet refuses them), the result and status mapping, strict headers, a
results_url on another host refused, and a create whose answer was lost (in
the process, and with the process killed) found again without a second batch.
"""

import json
import os
import unittest
import urllib.request

from cli_support import KEY, read_jsonl
from fault_support import POLL, CliTestCase

IDS = ["req-1", "has space", "dotted.id", "x" * 70, "req_5", "ünï"]
FAILING = "req_5"


def messages_line(cid, n=0):
    return {"custom_id": cid, "method": "POST", "url": "/v1/messages",
            "body": {"model": "claude-sonnet-4-5", "max_tokens": 32,
                     "messages": [{"role": "user", "content": "hi %d" % n}]}}


class CliAnthropicTest(CliTestCase):

    def setUp(self):
        super().setUp()
        self.write_input("input.jsonl", [messages_line(cid, i) for i, cid in enumerate(IDS)])
        self.output = os.path.join(self.cwd, "out", "output.jsonl")
        self.errors = os.path.join(self.cwd, "out", "errors.jsonl")
        self.run_args = ("run", "input.jsonl", "-p", "anthropic", "-o", self.output,
                         "-e", self.errors) + POLL

    def anthropic_env(self, **extra):
        # No OpenAI key at all: the Anthropic key goes in x-api-key, nowhere else.
        env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": self.server.root,
               "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
        env.update(extra)
        return env

    def run_anthropic(self, *extra, env=None):
        return self.run_cli(*(self.run_args + extra), key=None, base_url=False,
                            env=self.anthropic_env(**(env or {})))

    def anthropic_batches(self):
        status, page = self.server.call("GET", "/_control/stats")
        self.assertEqual(status, 200)
        return [b for b in page["batches"] if b["id"].startswith("msgbatch_")]

    def assert_messages_output(self, ids):
        lines = read_jsonl(self.output)
        self.assertEqual(sorted(line["custom_id"] for line in lines), sorted(ids))
        for line in lines:
            self.assertEqual(line["response"]["status_code"], 200)
            self.assertEqual(line["response"]["body"]["type"], "message")
            self.assertTrue(line["response"]["body"]["content"][0]["text"].startswith("echo: "))

    def test_common_scenario_keeps_the_users_ids(self):
        self.server.config(fail_custom_ids=[FAILING])
        proc = self.run_anthropic()
        self.assert_exit(proc, 0)
        ok = [cid for cid in IDS if cid != FAILING]
        self.assert_messages_output(ok)
        errors = read_jsonl(self.errors)
        self.assertEqual([line["custom_id"] for line in errors], [FAILING])
        self.assertEqual(errors[0]["response"]["status_code"], 400)
        self.assertEqual(errors[0]["response"]["body"]["error"]["type"], "invalid_request_error")
        # Ids Anthropic refuses were sent as mapped ones, and the map is journaled.
        stats = self.server.stats()
        self.assertEqual(stats["batches_created"], 1)
        job = self.jobs()[0]
        id_map = json.loads(job["id_map"])
        self.assertEqual(sorted(id_map), sorted(["has space", "dotted.id", "x" * 70, "ünï"]))
        texts = {line["custom_id"]: line["response"]["body"]["content"][0]["text"]
                 for line in read_jsonl(self.output)}
        self.assertEqual(texts["has space"], "echo: " + id_map["has space"])
        self.assertEqual(texts["req-1"], "echo: req-1")
        # Strict headers: the key only ever went in x-api-key, with the version.
        for request in stats["requests"]:
            self.assertIsNone(request["authorization"], request)
            self.assertEqual(request["x_api_key"], KEY)
            self.assertEqual(request["status"], 200, request)
        # `obatch results` reads the files like any other provider's.
        results = self.run_cli("results", self.output, self.errors, "--input", "input.jsonl",
                               key=None, base_url=False)
        self.assert_exit(results, 0)
        self.assertIn("has space", results.stdout)

    def test_expired_requests_are_missing(self):
        self.server.config(final_status="expired", partial_fraction=0.5)
        proc = self.run_anthropic()
        self.assert_exit(proc, 7)
        self.assert_messages_output(IDS[:3])
        self.assertFalse(os.path.exists(self.errors))
        self.assertIn("expired", proc.stderr)

    def test_cancelled_requests_are_missing(self):
        self.server.config(final_status="cancelled", partial_fraction=0.5)
        proc = self.run_anthropic()
        self.assert_exit(proc, 8)
        self.assert_messages_output(IDS[:3])

    def test_results_url_on_another_host_is_refused(self):
        # The same server under another name: were the key sent, it would show.
        port = self.server.root.rsplit(":", 1)[1]
        self.server.config(anthropic_results_base="http://localhost:%s" % port)
        proc = self.run_anthropic()
        self.assertEqual(proc.returncode, 4, proc.stderr)
        self.assertIn("another host", proc.stderr)
        downloads = [r for r in self.server.stats()["requests"] if r["path"].endswith("/results")]
        self.assertEqual(downloads, [])

    def test_cut_results_download_is_fetched_again(self):
        # Full Content-Length, half the body: the cut last line is caught while
        # converting, and the results are fetched again.
        self.server.config(faults=[{"method": "GET", "path_suffix": "/results",
                                    "kind": "truncate"}])
        proc = self.run_anthropic()
        self.assert_exit(proc, 0)
        self.assert_messages_output(IDS)
        fetched = [r for r in self.server.stats()["requests"] if r["path"].endswith("/results")]
        self.assertEqual(len(fetched), 2)
        self.no_temp_files(os.path.join(self.cwd, "out"))

    def test_direct_mode_is_not_offered(self):
        proc = self.run_anthropic("--mode", "direct")
        self.assertEqual(proc.returncode, 4, proc.stderr)
        self.assertIn("batch API only", proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])
        # auto would pick direct for so few requests: Anthropic's batch API it is.
        proc = self.run_anthropic("--mode", "auto")
        self.assert_exit(proc, 0)
        self.assert_messages_output(IDS)
        self.assertEqual(self.server.stats()["batches_created"], 1)
        self.assertEqual(self.server.stats()["direct_requests"], 0)

    def test_key_missing_names_the_variable(self):
        proc = self.run_anthropic(env={"ANTHROPIC_API_KEY": ""})
        self.assertEqual(proc.returncode, 4, proc.stderr)
        self.assertIn("ANTHROPIC_API_KEY", proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_max_tokens_is_checked_before_anything_is_sent(self):
        line = messages_line("a")
        del line["body"]["max_tokens"]
        self.write_input("input.jsonl", [line])
        proc = self.run_anthropic()
        self.assert_exit(proc, 3)
        self.assertIn("max_tokens", proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_lost_create_answer_is_found_not_created_again(self):
        # The server creates the batch, then resets the connection: the retry must
        # find it by its request count and time (Anthropic keeps no metadata).
        self.server.config(faults=[{"method": "POST", "path": "/v1/messages/batches",
                                    "kind": "reset_after"}])
        proc = self.run_anthropic()
        self.assert_exit(proc, 0)
        self.assert_messages_output(IDS)
        stats = self.server.stats()
        self.assertEqual(stats["batches_created"], 1)
        self.assertEqual(stats["create_attempts"], 1)

    def test_lost_create_answer_with_a_lookalike_is_not_guessed(self):
        # Another batch of the same size, made a moment before by someone else: two
        # batches could be ours, so obatch stops rather than guess or pay twice.
        body = {"requests": [{"custom_id": "o-%d" % i,
                              "params": messages_line("o", i)["body"]} for i in range(len(IDS))]}
        req = urllib.request.Request(self.server.root + "/v1/messages/batches",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"x-api-key": KEY, "anthropic-version": "2023-06-01",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            self.assertEqual(resp.status, 200)
        self.server.config(faults=[{"method": "POST", "path": "/v1/messages/batches",
                                    "kind": "reset_after"}])
        proc = self.run_anthropic()
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("keeps no metadata", proc.stderr)
        self.assertEqual(self.server.stats()["batches_created"], 2)  # the other one and ours

    def test_killed_after_create_then_rerun_finds_the_batch(self):
        self.server.config(faults=[{"method": "POST", "path": "/v1/messages/batches",
                                    "kind": "hang_after"}])
        proc = self.start_cli(*self.run_args, env=self.anthropic_env(OPENAI_API_KEY=""))
        self.wait_held(proc, "POST", "/v1/messages/batches", "after_action")
        self.sigkill(proc)
        self.wait_no_holds()
        self.assertEqual(self.server.stats()["batches_created"], 1)
        rerun = self.run_anthropic()
        self.assert_exit(rerun, 0)
        self.assert_messages_output(IDS)
        stats = self.server.stats()
        self.assertEqual(stats["batches_created"], 1, "a second batch was created")
        self.assertEqual(stats["create_attempts"], 1)
        self.assertIn(self.jobs()[0]["id"], rerun.stderr)

    def test_killed_while_waiting_then_rerun_resumes(self):
        self.server.config(steps=100000)
        proc = self.start_cli(*self.run_args, env=self.anthropic_env())
        batch_id = self.wait_until(
            lambda: [r["path"].rsplit("/", 1)[1] for r in self.server.stats()["requests"]
                     if r["method"] == "GET" and "/v1/messages/batches/msgbatch_" in r["path"]],
            "the batch to be polled", proc)[0]
        self.sigkill(proc)
        self.server.config(steps=1)
        rerun = self.run_anthropic()
        self.assert_exit(rerun, 0)
        self.assertIn(batch_id, rerun.stderr)
        self.assert_messages_output(IDS)
        self.assertEqual(self.server.stats()["batches_created"], 1)

    def test_resume_by_id_gives_the_users_ids_through_the_journal(self):
        created = self.run_anthropic("-c")
        self.assert_exit(created, 0)
        batch_id = created.stdout.strip()
        self.assertTrue(batch_id.startswith("msgbatch_"), created.stdout)
        resumed = self.run_cli("run", "--resume", batch_id, "-p", "anthropic", "-o", "r.jsonl",
                               *POLL, key=None, base_url=False, env=self.anthropic_env())
        self.assert_exit(resumed, 0)
        got = sorted(line["custom_id"] for line in read_jsonl(os.path.join(self.cwd, "r.jsonl")))
        self.assertEqual(got, sorted(IDS))
        # Without the journal there is no map: the ids come back as they were sent.
        bare = self.run_cli("run", "--resume", batch_id, "-p", "anthropic", "-o", "s.jsonl",
                            "--state", "off", *POLL, key=None, base_url=False,
                            env=self.anthropic_env())
        self.assert_exit(bare, 0)
        sent = [line["custom_id"] for line in read_jsonl(os.path.join(self.cwd, "s.jsonl"))]
        self.assertIn("req-1", sent)
        self.assertEqual(len([cid for cid in sent if cid.startswith("obm-")]), 4)

    def test_translate_sends_chat_lines_as_messages(self):
        chat = [{"custom_id": "c-%d" % i, "method": "POST", "url": "/v1/chat/completions",
                 "body": {"model": "claude-sonnet-4-5", "max_completion_tokens": 20,
                          "messages": [{"role": "system", "content": "Be brief."},
                                       {"role": "user", "content": "q%d" % i}]}}
                for i in range(3)]
        self.write_input("input.jsonl", chat)
        without = self.run_anthropic()
        self.assert_exit(without, 3)
        self.assertIn("is not a batch endpoint of anthropic", without.stderr)
        proc = self.run_anthropic("--translate")
        self.assert_exit(proc, 0)
        self.assert_messages_output(["c-0", "c-1", "c-2"])

    def test_translate_refuses_with_the_reason_before_sending(self):
        line = {"custom_id": "c", "method": "POST", "url": "/v1/chat/completions",
                "body": {"model": "claude-sonnet-4-5", "max_tokens": 20, "n": 2,
                         "messages": [{"role": "user", "content": "q"}]}}
        self.write_input("input.jsonl", [line])
        proc = self.run_anthropic("--translate")
        self.assert_exit(proc, 3)
        self.assertIn("line 1", proc.stderr)
        self.assertIn("n > 1", proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])


if __name__ == "__main__":
    unittest.main()
