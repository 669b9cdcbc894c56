#!/usr/bin/env python3
"""Helpers of the crash and fault tests (test_cli_crash.py, test_cli_faults.py).

`CliTestCase` here is cli_support's, plus: running `obatch` as a process that
the test can SIGKILL at a precise point (the fake server holds the request
the test waits for: see "Holds" in fake_batch_server.py), reading the job
journal, the checks every kill test makes, and a per-test tally (faults
injected, kills survived, duplicates, losses) printed at the end of each test.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid

import cli_support
from cli_support import CLI, KEY, KEY_ENV, read_jsonl

POLL = ("--poll-interval", "0.05")
# The queue's PostgreSQL cases (test_cli_queue, test_cli_serve): a server
# (.ci/run starts one with scripts/pg-test-server.sh); without it they skip,
# unless OBATCH_TEST_PG_REQUIRED=1, when they fail.
PG_URI = os.environ.get("OBATCH_TEST_PG_URI", "")
PG_REQUIRED = os.environ.get("OBATCH_TEST_PG_REQUIRED") == "1"

# What one test did; printed by its last cleanup (the lead quotes the figures).
TALLY = {"faults_injected": 0, "holds": 0, "kills": 0, "kills_survived": 0,
         "uploads_acted": 0, "batches_created": 0, "duplicate_uploads": 0,
         "duplicate_batches": 0, "lost_results": 0, "duplicated_results": 0}
TALLY_KEYS = tuple(TALLY)


class CliTestCase(cli_support.CliTestCase):

    def setUp(self):
        super().setUp()
        for key in list(TALLY):  # one test's figures (several may run in one process)
            if key in TALLY_KEYS:
                TALLY[key] = 0
            else:
                del TALLY[key]
        self.procs = []
        self.expected_jobs = 1  # batches (and uploads) the test should end with
        self.addCleanup(self.print_tally)  # runs last: after the process cleanups below
        self.addCleanup(self.kill_leftovers)
        self.outdir = os.path.join(self.cwd, "out")
        os.mkdir(self.outdir)

    # ---- processes

    def cli_env(self, env=None):
        full = {k: v for k, v in os.environ.items() if k not in KEY_ENV}
        full.update(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=self.server.base_url,
                    TMPDIR=self.tmpdir, XDG_STATE_HOME=self.state_home)
        full.update(env or {})
        return full

    def pg_store(self):
        """A fresh database on the test server, dropped at the end."""
        if not PG_URI:
            if PG_REQUIRED:
                self.fail("OBATCH_TEST_PG_REQUIRED=1 but OBATCH_TEST_PG_URI is not set")
            self.skipTest("no PostgreSQL server (set OBATCH_TEST_PG_URI; .ci/run starts one)")
        name = "obatch_t_" + uuid.uuid4().hex[:12]
        self.psql(PG_URI, "CREATE DATABASE " + name)
        self.addCleanup(self.psql, PG_URI, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
        return PG_URI.rsplit("/", 1)[0] + "/" + name

    def psql(self, uri, sql):
        proc = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", uri, "-c", sql],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return [line.split("|") for line in proc.stdout.splitlines() if line]

    def start_cli(self, *args, env=None, preexec_fn=None):
        """Starts `obatch ARGS` in the temp dir; its output goes to files (no pipe can
        fill up while the test waits)."""
        n = len(self.procs)
        out = open(os.path.join(self.tmpdir, "proc%d.out" % n), "w+", encoding="utf-8")
        err = open(os.path.join(self.tmpdir, "proc%d.err" % n), "w+", encoding="utf-8")
        proc = subprocess.Popen([CLI] + list(args), cwd=self.cwd, env=self.cli_env(env),
                                text=True, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                preexec_fn=preexec_fn)
        proc.out_file, proc.err_file = out, err
        self.procs.append(proc)
        return proc

    def kill_leftovers(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.out_file.close()
            proc.err_file.close()

    def finish(self, proc, timeout=30):
        """(exit code, stdout, stderr) of a started process once it ends."""
        proc.wait(timeout)
        texts = []
        for f in (proc.out_file, proc.err_file):
            f.seek(0)
            texts.append(f.read())
            self.assertNotIn(KEY, texts[-1], "a key was printed")
        return proc.returncode, texts[0], texts[1]

    def sigkill(self, proc):
        if proc.poll() is not None:
            self.fail("obatch ended before the kill: %s" % (self.finish(proc),))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        self.assertEqual(proc.returncode, -signal.SIGKILL)
        TALLY["kills"] += 1

    def wait_until(self, cond, what, proc=None, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = cond()
            if value:
                return value
            if proc is not None and proc.poll() is not None:
                self.fail("obatch ended while the test waited for %s: %s"
                          % (what, self.finish(proc)))
            time.sleep(0.02)
        self.fail("timed out waiting for " + what)

    def wait_held(self, proc, method, path_end, phase):
        """Waits until the server holds `method ...path_end` in `phase`."""
        def held():
            return [h for h in self.server.stats()["held"]
                    if h["method"] == method and h["path"].endswith(path_end)
                    and h["phase"] == phase]
        return self.wait_until(held, "%s %s held (%s)" % (method, path_end, phase), proc)[0]

    def wait_polled(self, proc):
        """Waits until a batch exists and the command has asked for it; its id."""
        def polled():
            batches = self.server.batches()
            if not batches:
                return None
            path = "/v1/batches/" + batches[0]["id"]
            if any(r["method"] == "GET" and r["path"] == path and r["status"] == 200
                   for r in self.server.stats()["requests"]):
                return batches[0]["id"]
            return None
        return self.wait_until(polled, "the batch to be polled", proc)

    def wait_no_holds(self):
        self.wait_until(lambda: not self.server.stats()["held"], "the server's holds to end")

    # ---- the job journal

    def journal_path(self):
        return os.path.join(self.state_home, "obatch", "jobs.db")

    def journal_rows(self, sql):
        """The rows of a query of the journal (read only), as dicts."""
        db = sqlite3.connect("file:%s?mode=ro" % self.journal_path(), uri=True, timeout=10)
        try:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(sql)]
        finally:
            db.close()

    def jobs(self):
        """Rows of the journal's `jobs` table, as dicts."""
        return self.journal_rows("SELECT * FROM jobs")

    def journal_integrity(self):
        db = sqlite3.connect("file:%s?mode=ro" % self.journal_path(), uri=True, timeout=10)
        try:
            return db.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            db.close()

    # ---- checks

    def count_results(self, path, ids):
        """Adds the results lost or duplicated in `path` to the tally; returns
        (lost, duplicated)."""
        got = [line["custom_id"] for line in read_jsonl(path)] if os.path.exists(path) else []
        lost = len(set(ids) - set(got))
        duplicated = len(got) - len(set(got))
        TALLY["lost_results"] += lost
        TALLY["duplicated_results"] += duplicated
        return lost, duplicated

    def count_server(self):
        """Puts the server's figures in the tally (uploads and batch creations beyond
        self.expected_jobs are duplicates); returns its stats."""
        stats = self.server.stats()
        TALLY["faults_injected"] = stats["faults_injected"]
        TALLY["holds"] = stats["holds"]
        TALLY["uploads_acted"] = stats["uploads"]
        TALLY["batches_created"] = stats["batches_created"]
        TALLY["duplicate_uploads"] = max(0, stats["uploads"] - self.expected_jobs)
        TALLY["duplicate_batches"] = max(0, stats["batches_created"] - self.expected_jobs)
        return stats

    def check_one_job_done(self, output, ids, uploads=1):
        """After the last run: exactly one batch, `uploads` uploads acted on, one batch
        creation acted on, every custom_id once in `output` (each a 200), no temp files."""
        self.count_results(output, ids)
        stats = self.count_server()
        self.assertEqual(len(self.server.batches()), 1, "batches at the server")
        self.assertEqual(stats["batches_created"], 1, "batch creations acted on")
        self.assertEqual(stats["uploads"], uploads, "uploads acted on")
        self.check_output(output, ids)
        self.no_temp_files(os.path.dirname(output))
        self.no_temp_files(self.cwd)

    def print_tally(self):
        try:
            self.count_server()
        except Exception:  # noqa: BLE001 (the server may be the thing that failed)
            pass
        sys.stderr.write("\nTALLY %s: %s\n" % (self.id().split(".")[-1], " ".join(
            "%s=%d" % kv for kv in TALLY.items())))
