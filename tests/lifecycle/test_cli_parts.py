#!/usr/bin/env python3
"""Jobs bigger than one batch, end to end through `obatch run`: an input over the
server's per-file limits (requests, bytes, one model) runs as several batches
("parts") and comes back as one output file in input order; an enqueued-token
limit that holds one part at a time; kill -9 during the upload of a middle part
and during a wait with several parts running, then the same command again (one
upload and one successful create per part, nothing lost); Ctrl-C with
--cancel-on-interrupt; a part that expires, then --retry-missing; the dry run's
list of parts. The fake server enforces every limit it is given, so a part over
one would fail the test."""

import json
import os
import shutil
import signal

from cli_support import chat_line, read_jsonl
from fault_support import POLL, TALLY, CliTestCase

OUT = os.path.join("out", "output.jsonl")
ERR = os.path.join("out", "errors.jsonl")


class CliPartsTest(CliTestCase):

    def run_args(self, *extra, name="input.jsonl"):
        return ("run", name, "-o", OUT, "-e", ERR) + POLL + tuple(extra)

    def output_ids(self):
        return [line["custom_id"] for line in read_jsonl(os.path.join(self.cwd, OUT))]

    def successful_batches(self):
        """The server's batches that did not fail, by their obatch_part label."""
        return [b for b in self.server.stats()["batches"] if b["status"] != "failed"]

    def parts_of_job(self):
        return self.journal_rows("SELECT * FROM parts ORDER BY idx")

    def check_done(self, ids, parts):
        """Every id once, in input order, each a 200; `parts` batches at the server,
        each part uploaded once and created successfully once; no leftovers."""
        self.assertEqual(self.output_ids(), ids)
        self.check_output(os.path.join(self.cwd, OUT), ids)
        stats = self.server.stats()
        self.assertEqual(stats["uploads"], parts, "uploads acted on")
        ok = self.successful_batches()
        self.assertEqual(len(ok), parts, "successful batches")
        labels = sorted(int(b["metadata"]["obatch_part"].split(".")[0]) for b in ok)
        self.assertEqual(labels, list(range(parts)), "a part created twice or never")
        self.no_temp_files(self.outdir)
        self.no_temp_files(self.cwd)
        self.assertEqual([n for n in os.listdir(self.cwd) if n.startswith(".obatch-")], [],
                         "the parts' downloads were left behind")
        TALLY["lost_results"] += len(set(ids) - set(self.output_ids()))

    def test_done_when_120000_lines_and_50000_per_file(self):
        # The "done when": OpenAI's own limit of 50000 requests per batch,
        # and a server that refuses more.
        self.server.config(max_requests_per_file=50000)
        ids = ["r%d" % i for i in range(120000)]
        self.write_input("input.jsonl", [chat_line(cid, i) for i, cid in enumerate(ids)])
        proc = self.run_cli(*self.run_args(), timeout=240)
        self.assert_exit(proc, 0)
        self.assertIn("as 3 batches", proc.stderr)
        self.assertEqual(sorted(b["requests"] for b in self.server.stats()["batches"]),
                         [20000, 50000, 50000])
        self.check_done(ids, 3)
        self.assertIn("completed: 120000 completed, 0 failed of 120000", proc.stderr)

    def test_ten_parts_in_input_order_with_errors(self):
        self.server.config(max_requests_per_file=20, fail_every=7)
        ids = self.chat_input(210)
        proc = self.run_cli(*self.run_args("--max-requests-per-batch", "20", "--json"))
        self.assert_exit(proc, 0)
        events = [json.loads(line) for line in proc.stdout.splitlines()]
        names = [e["event"] for e in events]
        self.assertEqual(names.count("part_created"), 11)
        self.assertEqual(names.count("part_ended"), 11)
        done = events[-1]
        self.assertEqual((done["event"], done["parts_total"], done["requests_total"]),
                         ("done", 11, 210))
        # The server fails every 7th line of each part's file: those are in the
        # error file, the rest in the output, each file in input order.
        errors = [line["custom_id"] for line in read_jsonl(os.path.join(self.cwd, ERR))]
        output = self.output_ids()
        self.assertEqual(sorted(errors + output, key=ids.index), ids)
        self.assertEqual(errors, sorted(errors, key=ids.index))
        self.assertEqual(output, sorted(output, key=ids.index))
        self.assertEqual(len(errors), sum(n // 7 for n in [20] * 10 + [10]))

    def test_mixed_models_make_a_batch_per_model(self):
        self.server.config(one_model_per_batch=True)
        lines = [chat_line("r%d" % i, i, "gpt-4o" if i % 3 == 0 else "gpt-4o-mini")
                 for i in range(30)]
        self.write_input("input.jsonl", lines)
        proc = self.run_cli(*self.run_args())
        self.assert_exit(proc, 0)
        models = sorted((b["model"], b["requests"]) for b in self.server.stats()["batches"])
        self.assertEqual(models, [("gpt-4o", 10), ("gpt-4o-mini", 20)])
        self.check_done([line["custom_id"] for line in lines], 2)

    def test_enqueued_token_limit_admits_one_part_at_a_time(self):
        # ~20 tokens a request at the server: a part of 10 is ~200, the limit 300.
        self.server.config(enqueued_token_limit=300, steps=2)
        ids = self.chat_input(60)
        proc = self.run_cli(*self.run_args("--max-requests-per-batch", "10"), timeout=120)
        self.assert_exit(proc, 0)
        stats = self.server.stats()
        self.assertGreaterEqual(stats["token_limit_failures"], 1)
        self.assertEqual(stats["enqueued_over_limit"], 0)
        self.assertLessEqual(stats["enqueued_tokens_peak"]["gpt-4o-mini"], 300)
        self.assertIn("queue of enqueued tokens is full", proc.stderr)
        self.check_done(ids, 6)
        # A part created again reused its uploaded file.
        retried = [p for p in self.parts_of_job() if p["attempt"] > 0]
        self.assertTrue(retried)

    def test_a_known_token_budget_never_meets_the_limit(self):
        self.server.config(enqueued_token_limit=300, steps=2)
        ids = self.chat_input(60)
        # A budget in OpenAI's tokens, counted exactly: a part of 10 requests is
        # 100 (3 a message + "user" + "hi", " ", "N" + 3 to prime the reply, each),
        # so a budget of 150 holds one part at a time, which the server (its own count:
        # ~200 a part, limit 300) also takes.
        proc = self.run_cli(*self.run_args("--max-requests-per-batch", "10",
                                           "--max-enqueued-tokens", "150"), timeout=120)
        self.assert_exit(proc, 0)
        self.assertEqual(self.server.stats()["token_limit_failures"], 0)
        self.check_done(ids, 6)

    def test_kill_during_the_upload_of_a_middle_part_then_rerun(self):
        ids = self.chat_input(50)
        # One part at a time: the third upload is held half sent, then killed.
        self.server.config(faults=[{"method": "POST", "path": "/v1/files", "kind": "stall",
                                    "skip": 2}])
        args = self.run_args("--max-requests-per-batch", "10", "--max-running-batches", "1")
        proc = self.start_cli(*args)
        self.wait_held(proc, "POST", "/v1/files", "request_body")
        self.sigkill(proc)
        self.wait_no_holds()
        self.assertEqual(self.server.stats()["uploads"], 2)
        rerun = self.run_cli(*args)
        self.assert_exit(rerun, 0)
        self.assertIn("going on from where it stopped", rerun.stderr)
        self.check_done(ids, 5)
        TALLY["kills_survived"] += 1

    def test_kill_while_several_parts_run_then_rerun(self):
        ids = self.chat_input(40)
        self.server.config(steps=100000)
        args = self.run_args("--max-requests-per-batch", "10")
        proc = self.start_cli(*args)
        self.wait_until(lambda: len(self.server.stats()["batches"]) == 4, "4 batches", proc)
        self.wait_until(lambda: all(p["step"] == "created" for p in self.parts_of_job()),
                        "every part journaled as created", proc)
        self.sigkill(proc)
        self.server.config(steps=1)
        rerun = self.run_cli(*args)
        self.assert_exit(rerun, 0)
        self.assertEqual(self.server.stats()["create_attempts"], 4)
        self.check_done(ids, 4)
        TALLY["kills_survived"] += 1

    def test_cancel_on_interrupt_cancels_every_part(self):
        ids = self.chat_input(40)
        self.server.config(steps=100000, partial_fraction=0.5)
        args = self.run_args("--max-requests-per-batch", "10", "--max-running-batches", "3",
                             "--cancel-on-interrupt")
        proc = self.start_cli(*args)
        self.wait_until(lambda: len(self.server.stats()["batches"]) == 3, "3 batches", proc)
        self.wait_until(lambda: all(p["step"] == "created" for p in self.parts_of_job()[:3]),
                        "3 parts journaled as created", proc)
        proc.send_signal(signal.SIGINT)
        self.wait_until(lambda: self.server.stats()["cancels"] == 3, "3 cancels", proc)
        self.server.config(steps=1)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 8, err)
        stats = self.server.stats()
        self.assertEqual(stats["batches_created"], 3, "a part was created after the cancel")
        got = self.output_ids()
        self.assertEqual(len(got), 15)  # half of each of the 3 cancelled parts
        self.assertEqual(got, sorted(got, key=ids.index))
        self.assertIn("have no result", err)
        self.assertIn("obatch run --retry-missing", err)

    def test_one_part_expires_then_retry_missing(self):
        ids = self.chat_input(30)
        self.server.config(steps=100000)
        proc = self.start_cli(*self.run_args("--max-requests-per-batch", "10"))
        self.wait_until(lambda: len(self.server.stats()["batches"]) == 3, "3 batches", proc)
        batches = self.server.stats()["batches"]
        middle = [b for b in batches if b["metadata"]["obatch_part"] == "1"][0]
        self.wait_until(lambda: all(p["step"] == "created" for p in self.parts_of_job()),
                        "every part journaled as created", proc)
        self.server.config(partial_fraction=0.3)
        status, _ = self.server.call("POST", "/_control/advance/" + middle["id"],
                                     {"status": "expired"})
        self.assertEqual(status, 200)
        self.server.config(steps=1)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 7, err)
        kept = ids[:10] + ids[10:13] + ids[20:]
        missing = ids[13:20]
        self.assertEqual(self.output_ids(), kept)
        self.assertIn("%d request(s) have no result" % len(missing), err)
        job_id = self.jobs()[0]["id"]
        retry = self.run_cli("run", "--retry-missing", job_id, "-o", "out/retry.jsonl", *POLL)
        self.assert_exit(retry, 0)
        retried = [line["custom_id"] for line in read_jsonl(os.path.join(self.cwd, "out",
                                                                         "retry.jsonl"))]
        self.assertEqual(sorted(retried), sorted(missing))

    def test_dry_run_lists_the_parts(self):
        lines = [chat_line("r%d" % i, i, "gpt-4o" if i % 2 else "gpt-4o-mini")
                 for i in range(25)]
        self.write_input("input.jsonl", lines)
        proc = self.run_cli("run", "input.jsonl", "-n", "--max-requests-per-batch", "5")
        self.assert_exit(proc, 0)
        self.assertRegex(proc.stdout, r"batches\s+6 ")
        rows = [line.split() for line in proc.stdout.splitlines()
                if line.strip().split(" ")[0].isdigit()]
        self.assertEqual([(r[0], r[1], r[-1]) for r in rows],
                         [("1", "5", "gpt-4o-mini"), ("2", "5", "gpt-4o"),
                          ("3", "5", "gpt-4o-mini"), ("4", "5", "gpt-4o"),
                          ("5", "3", "gpt-4o-mini"), ("6", "2", "gpt-4o")])
        self.assertRegex(proc.stdout, r"tokens\s+\d+ prompt, at most \d+ output")
        self.assertRegex(proc.stdout, r"cost\s+\$\d+\.\d+ in batch mode")
        self.assertIn("<job_id>-output.jsonl", proc.stdout)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_other_limits_on_a_rerun_are_refused(self):
        ids = self.chat_input(30)
        self.server.config(steps=100000)
        proc = self.start_cli(*self.run_args("--max-requests-per-batch", "10"))
        self.wait_until(lambda: len(self.server.stats()["batches"]) == 3, "3 batches", proc)
        self.wait_until(lambda: all(p["step"] == "created" for p in self.parts_of_job()),
                        "every part journaled as created", proc)
        self.sigkill(proc)
        # The same input cut otherwise would send its requests a second time.
        again = self.run_cli(*self.run_args("--max-requests-per-batch", "15"))
        self.assert_exit(again, 4)
        self.assertIn("was cut into 3 batches", again.stderr)
        self.assertIn("nothing was sent", again.stderr)
        self.assertEqual(len(self.server.stats()["batches"]), 3)
        self.server.config(steps=1)
        rerun = self.run_cli(*self.run_args("--max-requests-per-batch", "10"))
        self.assert_exit(rerun, 0)
        self.check_done(ids, 3)

    def test_two_processes_on_one_big_input(self):
        # Both start at once: one runs the job's batches, the other waits for it
        # and then writes its own complete output (nothing submitted twice).
        self.server.config(steps=2)
        ids = self.chat_input(30)
        outs = [os.path.join("out", "p%d.jsonl" % n) for n in range(2)]
        procs = [self.start_cli("run", "input.jsonl", "-o", o, "-e", o + ".err",
                                "--max-requests-per-batch", "10", *POLL) for o in outs]
        errs = []
        for proc in procs:
            code, _, err = self.finish(proc, timeout=60)
            self.assertEqual(code, 0, err)
            errs.append(err)
        for o in outs:
            got = [line["custom_id"] for line in read_jsonl(os.path.join(self.cwd, o))]
            self.assertEqual(got, ids)
        stats = self.server.stats()
        self.assertEqual((stats["uploads"], stats["batches_created"]), (3, 3))
        self.assertEqual(len(self.jobs()), 1)
        self.assertTrue(any("another obatch process" in e or "submitted before" in e
                            for e in errs), errs)

    def test_kill_while_parts_run_and_the_journal_lost(self):
        # The journal is lost with the machine: the rerun derives the same job id
        # from the input and takes up every part's batch at the provider (its
        # obatch_job and obatch_part metadata) instead of paying for them again.
        ids = self.chat_input(30)
        self.server.config(steps=100000)
        args = self.run_args("--max-requests-per-batch", "10")
        proc = self.start_cli(*args)
        self.wait_until(lambda: len(self.server.stats()["batches"]) == 3, "3 batches", proc)
        self.sigkill(proc)
        shutil.rmtree(os.path.dirname(self.journal_path()))
        self.server.config(steps=1)
        rerun = self.run_cli(*args)
        self.assert_exit(rerun, 0)
        stats = self.server.stats()
        self.assertEqual((stats["uploads"], stats["batches_created"]), (3, 3))
        self.check_done(ids, 3)
        TALLY["kills_survived"] += 1
