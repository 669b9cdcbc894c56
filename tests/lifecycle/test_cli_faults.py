#!/usr/bin/env python3
"""`obatch run` against a faulty fake server: 20% of HTTP calls fail (429 with
Retry-After, 500, 503, connection reset) and 20% of downloads are cut short,
with fixed seeds so every run sees the same faults; and the answer to an
upload or a batch creation that the server performed is lost (reset or 500
after acting). Every case ends with every result, exactly one upload and
exactly one batch creation acted on by the server; except against a server
that cannot list its files (no GET /v1/files, or a listing that keeps
failing), where a lost upload is sent again (two uploads, one batch), and one
that cannot list its batches, where a lost create ends the run (one batch).
"""

import collections
import os
import unittest

from cli_support import KEY, chat_line
from fault_support import POLL, TALLY, CliTestCase

FAIL_EVERY = 5  # every 5th request goes to the error file: two files to download
JOBS = 3  # jobs per seed, one after the other (each its own seed)


class CliFaultsTest(CliTestCase):

    def run_to_end(self, n, job=0):
        """Runs job number `job` (its own input and output files), checks it ended with
        every result once (output and error files), its one upload and its one batch
        creation acted on; returns the server's stats."""
        name = "input%d.jsonl" % job
        ids = ["j%d-%d" % (job, i) for i in range(1, n + 1)]
        self.write_input(name, [chat_line(cid, i) for i, cid in enumerate(ids)])
        out, err = os.path.join("out", "%d-output.jsonl" % job), os.path.join(
            "out", "%d-errors.jsonl" % job)
        proc = self.run_cli("run", name, "-o", out, "-e", err, *POLL, timeout=50)
        # From here on the test asks the server: no more faults for it.
        self.server.config(fault_rate=0.0, truncate_rate=0.0, faults=[])
        output, errors = os.path.join(self.cwd, out), os.path.join(self.cwd, err)
        failing = ids[FAIL_EVERY - 1::FAIL_EVERY]
        succeeding = [cid for cid in ids if cid not in failing]
        self.count_results(output, succeeding)
        self.count_results(errors, failing)
        self.expected_jobs = job + 1
        stats = self.count_server()
        self.assert_exit(proc, 0)
        self.check_output(output, succeeding)
        self.check_errors(errors, failing)
        self.assertEqual(len(self.server.batches()), job + 1, "batches at the server")
        self.assertEqual(stats["batches_created"], job + 1, "batch creations acted on")
        self.assertEqual(stats["uploads"], job + 1, "uploads acted on")
        self.no_temp_files(self.outdir)
        self.no_temp_files(self.cwd)
        self.assert_tagged()
        return stats

    def assert_tagged(self):
        """Each batch carries its job's id as obatch_job metadata; each upload is named
        obatch-<job id>.jsonl."""
        job_ids = sorted(job["id"] for job in self.jobs())
        tags = sorted((b.get("metadata") or {}).get("obatch_job") for b in self.server.batches())
        self.assertEqual(tags, job_ids)
        status, page = self.server.call("GET", "/v1/files?purpose=batch", auth=KEY)
        self.assertEqual(status, 200, page)
        self.assertEqual(sorted(f["filename"] for f in page["data"]),
                         ["obatch-%s.jsonl" % j for j in job_ids])

    def faults_by_kind(self, stats):
        kinds = collections.Counter(r["fault"] for r in stats["requests"] if r["fault"])
        on_creates = [r for r in stats["requests"] if r["fault"] and r["method"] == "POST"]
        TALLY.update({"fault_" + k: v for k, v in sorted(kinds.items())})
        TALLY["faults_on_upload_or_create"] = len(on_creates)
        TALLY["api_requests"] = len(stats["requests"])
        return kinds

    # ---- 20% of calls fail, 20% of downloads are cut short

    def random_faults(self, seed):
        for job in range(JOBS):
            self.server.config(seed=100 * seed + job, fault_rate=0.2, truncate_rate=0.2,
                               retry_after="1", fault_kinds=["429", "500", "503", "reset"],
                               fail_every=FAIL_EVERY, steps=3)
            stats = self.run_to_end(40, job)
        kinds = self.faults_by_kind(stats)
        # Fixed seeds: the same faults every run (5 to 20 a seed, downloads cut short
        # among them); the figures are in the TALLY line.
        self.assertGreaterEqual(stats["faults_injected"], 5)
        self.assertGreaterEqual(kinds["truncate"], 1)
        self.assertEqual(stats["faults_injected"], sum(kinds.values()))
        return kinds

    def test_20pct_faults_seed_1(self):
        self.random_faults(1)

    def test_20pct_faults_seed_2(self):
        self.random_faults(2)

    def test_20pct_faults_seed_3(self):
        self.random_faults(3)

    def test_20pct_faults_seed_4(self):
        self.random_faults(4)

    # ---- the server acted, the answer was lost

    def lost_answer(self, method, path, kind):
        self.server.config(faults=[{"method": method, "path": path, "kind": kind}],
                           fail_every=FAIL_EVERY)
        stats = self.run_to_end(10)
        lost = [r for r in stats["requests"] if r["fault"] == kind]
        self.assertEqual(len(lost), 1)
        self.assertTrue(lost[0]["acted"], "the server acted on the request it lost")
        self.faults_by_kind(stats)
        return stats

    def test_upload_answer_lost_to_reset(self):
        self.lost_answer("POST", "/v1/files", "reset_after")

    def test_upload_answer_lost_to_500(self):
        self.lost_answer("POST", "/v1/files", "500_after")

    def test_create_answer_lost_to_reset(self):
        self.lost_answer("POST", "/v1/batches", "reset_after")

    def test_create_answer_lost_to_500(self):
        self.lost_answer("POST", "/v1/batches", "500_after")

    def test_both_answers_lost_and_the_lookups_fail_too(self):
        # Lost answers for both, and the calls that find out what happened (list files,
        # list batches) fail once each before answering.
        self.server.config(fail_every=FAIL_EVERY, faults=[
            {"method": "POST", "path": "/v1/files", "kind": "reset_after"},
            {"method": "GET", "path": "/v1/files", "kind": "503"},
            {"method": "POST", "path": "/v1/batches", "kind": "reset_after"},
            {"method": "GET", "path": "/v1/batches", "kind": "reset"}])
        stats = self.run_to_end(10)
        self.faults_by_kind(stats)
        self.assertEqual(stats["upload_attempts"], 1, "the lost upload was sent again")
        self.assertEqual(stats["create_attempts"], 1, "the lost create was sent again")

    # ---- a lost answer, and a server that cannot say what it did

    def run_job(self, name, **config):
        """Runs a 10-request job (input `name`) against the server configured with
        `config`, then takes the faults and the missing listings away for the checks;
        (exit code, stderr, output path, custom_ids, the server's stats)."""
        self.server.config(**config)
        ids = ["%s-%d" % (name, i) for i in range(1, 11)]
        self.write_input(name + ".jsonl", [chat_line(cid, i) for i, cid in enumerate(ids)])
        out = os.path.join("out", name + "-output.jsonl")
        proc = self.run_cli("run", name + ".jsonl", "-o", out, "-e",
                            os.path.join("out", name + "-errors.jsonl"), *POLL, timeout=50)
        self.server.config(faults=[], no_listing=[])
        return proc, os.path.join(self.cwd, out), ids, self.count_server()

    def file_listings(self, stats):
        return [r["status"] for r in stats["requests"]
                if r["method"] == "GET" and r["path"] == "/v1/files"]

    def test_upload_answer_lost_and_no_file_listing(self):
        # An OpenAI-compatible server with uploads but no GET /v1/files: the file the
        # lost upload made cannot be looked for, so it is uploaded again (a spare file
        # costs nothing), and the run says so.
        lost = {"method": "POST", "path": "/v1/files"}
        for status, kind in ((404, "reset_after"), (405, "500_after"), (501, "reset_after")):
            with self.subTest(status=status):
                self.server.call("POST", "/_control/reset")
                proc, output, ids, stats = self.run_job(
                    "s%d" % status, faults=[dict(lost, kind=kind)], no_listing=["files"],
                    no_listing_status=status)
                self.assert_exit(proc, 0)
                self.assertIn("the server has no file listing", proc.stderr)
                self.assertIn("the input is uploaded again", proc.stderr)
                self.assertEqual((stats["upload_attempts"], stats["uploads"]), (2, 2))
                # Asked once, not retried (a 501 included), and not asked again.
                self.assertEqual(self.file_listings(stats), [status])
                self.assertEqual((stats["create_attempts"], stats["batches_created"]), (1, 1))
                self.assertEqual(len(self.server.batches()), 1)
                self.check_output(output, ids)
                self.no_temp_files(self.outdir)

    def test_upload_answer_lost_and_the_file_listing_keeps_failing(self):
        # The listing is there but fails on every retry (429): uploading again beats
        # giving up, as for a server without the listing.
        proc, output, ids, stats = self.run_job(
            "busy", retry_after_ms="1", faults=[
                {"method": "POST", "path": "/v1/files", "kind": "reset_after"},
                {"method": "GET", "path": "/v1/files", "kind": "429", "count": 50}])
        self.assert_exit(proc, 0)
        self.assertIn("looking for it failed (list files: HTTP 429", proc.stderr)
        self.assertIn("the input is uploaded again", proc.stderr)
        self.assertEqual(self.file_listings(stats), [429] * 6)  # the call and its 5 retries
        self.assertEqual((stats["upload_attempts"], stats["uploads"]), (2, 2))
        self.assertEqual(stats["batches_created"], 1)
        self.check_output(output, ids)

    def test_upload_answer_lost_and_the_file_listing_refuses_the_key(self):
        # A refused key is no missing listing: the run ends, and the upload is not sent
        # again into the same refusal.
        proc, output, _, stats = self.run_job("refused", faults=[
            {"method": "POST", "path": "/v1/files", "kind": "reset_after"},
            {"method": "GET", "path": "/v1/files", "kind": "401"}])
        self.assert_exit(proc, 4)
        self.assertIn("list files: the server refused the API key", proc.stderr)
        self.assertEqual((stats["upload_attempts"], stats["uploads"]), (1, 1))
        self.assertEqual((stats["create_attempts"], stats["batches_created"]), (0, 0))
        self.assertFalse(os.path.exists(output))

    def test_create_answer_lost_and_no_batch_listing_still_fails(self):
        # A second batch would be paid twice: without a batch listing to look in, a
        # create whose answer was lost ends the run rather than creating again.
        proc, output, _, stats = self.run_job("paid", no_listing=["batches"], faults=[
            {"method": "POST", "path": "/v1/batches", "kind": "reset_after"}])
        self.assert_exit(proc, 5)
        self.assertIn("looking for what that attempt may have created: list batches: not found",
                      proc.stderr)
        self.assertEqual((stats["create_attempts"], stats["batches_created"]), (1, 1))
        self.assertEqual((stats["upload_attempts"], stats["uploads"]), (1, 1))
        self.assertEqual(len(self.server.batches()), 1)
        self.assertFalse(os.path.exists(output))


if __name__ == "__main__":
    unittest.main()
