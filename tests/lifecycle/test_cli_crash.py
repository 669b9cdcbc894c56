#!/usr/bin/env python3
"""`obatch run` killed with SIGKILL at each point of a job's life (once with the
journal lost too, as in a container redeployed without its state), then run
again: the job journal makes the second run finish the same job with zero
duplicate batches or uploads and zero lost results, and no partial file is
ever left under the final name. Also: a full disk and an output path that
cannot be written (clear error, the job stays resumable), expired and
cancelled batches (partial output kept, `--retry-missing` sends just the
missing requests), and several processes sharing one journal.

Each kill waits until the fake server holds the exact request of that point
(fault kinds hang_before / hang_after / stall, see fake_batch_server.py), so
the point is hit every time, not by timing luck.
"""

import json
import os
import resource
import shutil
import signal
import time
import unittest

from cli_support import KEY, chat_line
from fault_support import POLL, TALLY, CliTestCase

N = 20
OUT = os.path.join("out", "output.jsonl")
ERR = os.path.join("out", "errors.jsonl")
RUN = ("run", "input.jsonl", "-o", OUT, "-e", ERR) + POLL


def limit_file_size(limit):
    """preexec_fn: files the child writes stop at `limit` bytes; write() then fails
    with EFBIG instead of the process dying of SIGXFSZ (a full disk, as far as the
    program can tell)."""
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


class CliCrashTest(CliTestCase):

    def setUp(self):
        super().setUp()
        self.ids = self.chat_input(N)
        self.output = os.path.join(self.cwd, OUT)

    # ---- helpers

    def killed_then_rerun(self, proc, uploads=1, before_rerun=None):
        """SIGKILLs `proc` (already at its kill point) unless the test did, checks
        nothing is under the final name, runs the same command again and checks the
        job finished once."""
        if proc.returncode is None:
            self.sigkill(proc)
        self.wait_no_holds()
        self.assertFalse(os.path.exists(self.output),
                         "a file under the final output name after the kill")
        if before_rerun:
            before_rerun()
        rerun = self.run_cli(*RUN)
        self.assert_exit(rerun, 0)
        self.check_one_job_done(self.output, self.ids, uploads)
        self.assertIn(self.job()["id"], rerun.stderr, "the rerun did not say it resumed the job")
        TALLY["kills_survived"] += 1
        return rerun

    def job(self):
        jobs = self.jobs()
        self.assertEqual(len(jobs), 1, jobs)
        return jobs[0]

    def assert_tagged(self, batch_id):
        """The batch carries the job's id as its obatch_job metadata."""
        job = self.job()
        self.assertRegex(job["id"], r"\A[0-9a-f]{12,}\Z")
        status, batch = self.server.call("GET", "/v1/batches/" + batch_id, auth=KEY)
        self.assertEqual(status, 200, batch)
        self.assertEqual((batch.get("metadata") or {}).get("obatch_job"), job["id"])
        return job["id"]

    def input_ids_of(self, batch_id):
        """custom_ids of the input file of a batch at the server."""
        status, batch = self.server.call("GET", "/v1/batches/" + batch_id, auth=KEY)
        self.assertEqual(status, 200, batch)
        status, data = self.server.call("GET", "/v1/files/%s/content" % batch["input_file_id"],
                                        auth=KEY)
        self.assertEqual(status, 200)
        text = data.decode() if isinstance(data, bytes) else json.dumps(data)
        return [json.loads(line)["custom_id"] for line in text.splitlines() if line.strip()]

    # ---- kill points

    def test_kill_during_upload(self):
        # The server reads half of the upload body, then holds it; the killed upload is
        # abandoned by the server (never stored), so the rerun uploads exactly once.
        self.server.config(faults=[{"method": "POST", "path": "/v1/files", "kind": "stall"}])
        proc = self.start_cli(*RUN)
        self.wait_held(proc, "POST", "/v1/files", "request_body")
        self.sigkill(proc)
        self.wait_no_holds()
        stats = self.server.stats()
        self.assertEqual((stats["uploads"], stats["batches_created"]), (0, 0))
        self.assertEqual(stats["abandoned"], 1)
        self.killed_then_rerun(proc, uploads=1)

    def test_kill_after_upload_acted_answer_lost(self):
        # The server stored the upload and holds its answer: the rerun must find the
        # file (name obatch-<job>.jsonl, same bytes) instead of uploading again.
        self.server.config(faults=[{"method": "POST", "path": "/v1/files",
                                    "kind": "hang_after"}])
        proc = self.start_cli(*RUN)
        self.wait_held(proc, "POST", "/v1/files", "after_action")
        self.assertEqual(self.server.stats()["uploads"], 1)
        self.killed_then_rerun(proc, uploads=1)
        self.assertEqual(self.server.stats()["upload_attempts"], 1, "uploaded again")

    def test_kill_after_upload_with_create_in_flight(self):
        # Uploaded; the create was sent and is held before the server acts; the client
        # dies, so no batch exists. The rerun must look (metadata tag), then create one.
        self.server.config(faults=[{"method": "POST", "path": "/v1/batches",
                                    "kind": "hang_before"}])
        proc = self.start_cli(*RUN)
        self.wait_held(proc, "POST", "/v1/batches", "before_action")
        self.sigkill(proc)
        self.wait_no_holds()
        self.assertEqual(self.server.batches(), [])
        self.killed_then_rerun(proc, uploads=1)
        self.assertEqual(self.server.stats()["upload_attempts"], 1, "uploaded again")
        self.assert_tagged(self.only_batch_id())

    def test_kill_after_create_acted_answer_lost(self):
        # The server created the batch and holds the answer: the rerun must find it by
        # its obatch_job metadata tag, never create a second one.
        self.server.config(faults=[{"method": "POST", "path": "/v1/batches",
                                    "kind": "hang_after"}])
        proc = self.start_cli(*RUN)
        self.wait_held(proc, "POST", "/v1/batches", "after_action")
        self.assertEqual(len(self.server.batches()), 1)
        self.killed_then_rerun(proc, uploads=1)
        self.assertEqual(self.server.stats()["create_attempts"], 1, "a second create was sent")
        self.assert_tagged(self.only_batch_id())

    def test_kill_while_waiting(self):
        self.server.config(steps=100000)
        proc = self.start_cli(*RUN)
        self.wait_polled(proc)
        self.killed_then_rerun(proc, uploads=1,
                               before_rerun=lambda: self.server.config(steps=1))
        self.assertEqual(self.server.stats()["create_attempts"], 1)

    def test_kill_while_waiting_and_the_journal_lost(self):
        # A container redeployed without its state: the journal is gone with the
        # process. The batch at the provider carries the job id derived from the
        # input, so the rerun finds it there instead of paying for a second one.
        self.server.config(steps=100000)
        proc = self.start_cli(*RUN)
        self.wait_polled(proc)
        first_job = self.job()["id"]

        def lose_the_journal():
            shutil.rmtree(os.path.join(self.state_home, "obatch"))
            self.server.config(steps=1)
        rerun = self.killed_then_rerun(proc, uploads=1, before_rerun=lose_the_journal)
        self.assertEqual(self.server.stats()["create_attempts"], 1)
        self.assertEqual(self.server.stats()["upload_attempts"], 1)
        self.assertIn("already has batch " + self.only_batch_id(), rerun.stderr)
        self.assertEqual(self.job()["id"], first_job)
        self.assert_tagged(self.only_batch_id())

    def test_new_journal_with_force_new_pays_again_on_purpose(self):
        self.server.config(steps=0)
        self.assert_exit(self.run_cli(*RUN), 0)
        shutil.rmtree(os.path.join(self.state_home, "obatch"))
        again = self.run_cli(*RUN, "--force-new")
        self.assert_exit(again, 0)
        self.assertNotIn("already has batch", again.stderr)
        self.assertEqual(len(self.server.batches()), 2)
        self.expected_jobs = 2  # two batches on purpose, not duplicates

    def test_kill_during_download(self):
        # The batch is done at the first check; the output download sends half its body
        # and holds: killed there, no file may appear under the final name, and the
        # rerun downloads again (no stale temp file left beside the output).
        self.server.config(steps=0, faults=[{"method": "GET", "path_suffix": "/content",
                                             "kind": "stall"}])
        proc = self.start_cli(*RUN)
        self.wait_held(proc, "GET", "/content", "response_body")
        self.killed_then_rerun(proc, uploads=1)
        self.assertEqual(self.server.stats()["create_attempts"], 1)

    def test_kill_at_every_point_in_turn(self):
        # One job killed at each point in turn (a run per point), then finished.
        points = [
            ({"method": "POST", "path": "/v1/files", "kind": "stall"},
             ("POST", "/v1/files", "request_body")),
            ({"method": "POST", "path": "/v1/files", "kind": "hang_after"},
             ("POST", "/v1/files", "after_action")),
            ({"method": "POST", "path": "/v1/batches", "kind": "hang_after"},
             ("POST", "/v1/batches", "after_action")),
            (None, None),  # while waiting
            ({"method": "GET", "path_suffix": "/content", "kind": "stall"},
             ("GET", "/content", "response_body")),
        ]
        for fault, held in points:
            with self.subTest(point=held or "waiting"):
                self.server.config(faults=[fault] if fault else [],
                                   steps=0 if held and held[0] == "GET" else 100000)
                proc = self.start_cli(*RUN)
                if held:
                    self.wait_held(proc, *held)
                else:
                    self.wait_polled(proc)
                self.sigkill(proc)
                self.wait_no_holds()
                self.assertFalse(os.path.exists(self.output))
                self.assertLessEqual(len(self.server.batches()), 1)
        self.server.config(steps=1, faults=[])
        rerun = self.run_cli(*RUN)
        self.assert_exit(rerun, 0)
        self.check_one_job_done(self.output, self.ids, uploads=1)
        TALLY["kills_survived"] += len(points)

    # ---- local files

    def test_disk_full_during_download_then_resume(self):
        # Files the process writes are capped (RLIMIT_FSIZE): the input and the journal
        # fit, the results do not. Clear error naming the file, non-zero exit, nothing
        # under the final name; a rerun without the cap finishes the same job.
        ids = self.chat_input(400)  # ~50 kB in, ~190 kB of results
        in_bytes = os.path.getsize(os.path.join(self.cwd, "input.jsonl"))
        proc = self.start_cli(*RUN, preexec_fn=limit_file_size(2 * in_bytes))
        code, out, err = self.finish(proc)
        self.assertNotEqual(code, 0, err)
        self.assertEqual(code, 9, "wanted 9 (local file error)\n" + err)
        errors = [line for line in err.splitlines() if "error" in line]
        self.assertTrue(errors and "output.jsonl" in errors[-1],
                        "the error does not name the file\n" + err)
        self.assertFalse(os.path.exists(self.output))
        self.assertEqual(len(self.server.batches()), 1)
        self.assertIn(self.job()["step"], ("created", "downloading"))
        rerun = self.run_cli(*RUN)
        self.assert_exit(rerun, 0)
        self.check_one_job_done(self.output, ids, uploads=1)

    def test_output_parent_is_a_file_then_resume(self):
        # Always unwritable, even as root: the output's parent is a regular file.
        with open(os.path.join(self.cwd, "blocker"), "w", encoding="ascii") as f:
            f.write("not a directory\n")
        bad = os.path.join("blocker", "output.jsonl")
        first = self.run_cli("run", "input.jsonl", "-o", bad, "-e", ERR, *POLL)
        self.assertEqual(first.returncode, 9, "wanted 9 (local file error)\n" + first.stderr)
        self.assertIn("blocker", first.stderr)
        self.assertLessEqual(len(self.server.batches()), 1)
        rerun = self.run_cli(*RUN)
        self.assert_exit(rerun, 0)
        self.check_one_job_done(self.output, self.ids, uploads=1)

    # ---- expired / cancelled: partial results kept, the rest sent again

    def assert_missing_told(self, stderr, job_id, missing):
        """The run said how many requests have no result, named (the first of) them,
        and gave the command that resends just those."""
        self.assertIn(str(len(missing)), stderr)
        self.assertIn(missing[0], stderr)
        self.assertIn("obatch run --retry-missing " + job_id, stderr)

    def retry_missing(self, job_ref, missing, kept):
        """`obatch run --retry-missing JOB` sends a batch of just `missing`, and the
        partial output of the first batch (`kept`) stays as it was."""
        self.expected_jobs = 2
        first_batch = self.only_batch_id()
        self.server.config(final_status="completed", steps=1)
        retry_out = os.path.join("out", "retry.jsonl")
        proc = self.run_cli("run", "--retry-missing", job_ref, "-o", retry_out,
                            "-e", os.path.join("out", "retry-errors.jsonl"), *POLL)
        self.assert_exit(proc, 0)
        batches = [b["id"] for b in self.server.batches() if b["id"] != first_batch]
        self.assertEqual(len(batches), 1, "one new batch")
        self.assertEqual(sorted(self.input_ids_of(batches[0])), sorted(missing))
        self.check_output(os.path.join(self.cwd, retry_out), missing)
        self.check_output(self.output, kept)
        self.count_results(os.path.join(self.cwd, retry_out), missing)
        self.count_results(self.output, kept)
        stats = self.count_server()
        self.assertEqual((stats["uploads"], stats["batches_created"]), (2, 2))
        self.no_temp_files(self.outdir)

    def test_expired_keeps_partial_output_and_retries_missing(self):
        self.server.config(final_status="expired", partial_fraction=0.5)
        first = self.run_cli(*RUN)
        self.assert_exit(first, 7)
        kept, missing = self.ids[:N // 2], self.ids[N // 2:]
        self.check_output(self.output, kept)
        job_id = self.assert_tagged(self.only_batch_id())
        self.assert_missing_told(first.stderr, job_id, missing)
        self.retry_missing(job_id, missing, kept)

    def test_cancelled_keeps_partial_output_and_retries_missing(self):
        self.server.config(steps=100000, partial_fraction=0.25)
        proc = self.start_cli(*RUN)
        batch_id = self.wait_polled(proc)
        status, _ = self.server.call("POST", "/_control/advance/" + batch_id,
                                     {"status": "cancelled"})
        self.assertEqual(status, 200)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 8, err)
        kept, missing = self.ids[:N // 4], self.ids[N // 4:]
        self.check_output(self.output, kept)
        listed = self.run_cli("jobs", "--json")
        self.assert_exit(listed, 0)
        job_id = self.assert_tagged(batch_id)
        self.assertIn(job_id, listed.stdout)
        self.assert_missing_told(err, job_id, missing)
        self.retry_missing(job_id, missing, kept)

    # ---- several processes, one journal

    def test_two_processes_race_on_the_same_input(self):
        # Both start at once on the same input and journal: one submits, the other
        # follows it and downloads the results itself. Three rounds, three inputs.
        self.server.config(steps=2)
        rounds = 3
        self.expected_jobs = rounds
        for r in range(rounds):
            name = "race%d.jsonl" % r
            ids = ["r%d-%d" % (r, i) for i in range(5 + r)]
            self.write_input(name, [chat_line(cid, i) for i, cid in enumerate(ids)])
            outs = [os.path.join("out", "%s-%d.jsonl" % (name, p)) for p in range(2)]
            procs = [self.start_cli("run", name, "-o", o, "-e", o + ".err", *POLL)
                     for o in outs]
            errs = []
            for proc in procs:
                code, _, err = self.finish(proc)
                self.assertEqual(code, 0, err)
                errs.append(err)
            # One of them took up the other's job (followed it, or resumed it if the
            # first was already done) instead of submitting the input a second time.
            job_id = [j["id"] for j in self.jobs()
                      if j["source_path"].endswith(name)]
            self.assertEqual(len(job_id), 1)
            self.assertEqual(sum(job_id[0] in err for err in errs), 1, errs)
            for o in outs:
                self.count_results(os.path.join(self.cwd, o), ids)
                self.check_output(os.path.join(self.cwd, o), ids)
            stats = self.count_server()
            self.assertEqual(len(self.server.batches()), r + 1, "batches after round %d" % r)
            self.assertEqual((stats["uploads"], stats["batches_created"]), (r + 1, r + 1))
            self.assertEqual(self.journal_integrity(), "ok")
            self.assertEqual(len(self.jobs()), r + 1)
        self.no_temp_files(self.outdir)

    def test_follower_finishes_when_the_owner_is_killed(self):
        self.server.config(steps=100000)
        owner = self.start_cli(*RUN)
        self.wait_polled(owner)
        follower_out = os.path.join("out", "follower.jsonl")
        follower = self.start_cli("run", "input.jsonl", "-o", follower_out,
                                  "-e", os.path.join("out", "follower-errors.jsonl"), *POLL)
        time.sleep(1.0)  # the follower finds the live owner and follows
        self.assertIsNone(follower.poll(), "the follower ended early")
        with open(follower.err_file.name, encoding="utf-8") as f:
            self.assertIn("another obatch process", f.read())
        self.sigkill(owner)
        self.server.config(steps=1)
        code, out, err = self.finish(follower)
        self.assertEqual(code, 0, err)
        self.check_one_job_done(os.path.join(self.cwd, follower_out), self.ids, uploads=1)
        TALLY["kills_survived"] += 1
        self.assertEqual(self.journal_integrity(), "ok")

    def test_parallel_jobs_share_one_journal(self):
        # Four different inputs at once on one journal: four jobs, four batches, an
        # intact journal.
        self.expected_jobs = 4
        self.server.config(steps=1)
        procs, expect = [], {}
        for p in range(4):
            name = "par%d.jsonl" % p
            ids = ["p%d-%d" % (p, i) for i in range(3)]
            self.write_input(name, [chat_line(cid, i) for i, cid in enumerate(ids)])
            out = os.path.join("out", name)
            expect[out] = ids
            procs.append(self.start_cli("run", name, "-o", out, "-e", out + ".err", *POLL))
        for proc in procs:
            code, _, err = self.finish(proc)
            self.assertEqual(code, 0, err)
        for out, ids in expect.items():
            self.count_results(os.path.join(self.cwd, out), ids)
            self.check_output(os.path.join(self.cwd, out), ids)
        stats = self.count_server()
        self.assertEqual((stats["uploads"], stats["batches_created"]), (4, 4))
        self.assertEqual(self.journal_integrity(), "ok")
        self.assertEqual(len(self.jobs()), 4)


if __name__ == "__main__":
    unittest.main()
