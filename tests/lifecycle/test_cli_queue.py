#!/usr/bin/env python3
"""The deferred-request queue (`obatch queue`, obatch_queue_*) end to end: requests
put one at a time from many threads (queue_driver, over the C API), `obatch queue
worker` processes batching them against the fake server, every ticket read back
with its own answer, each request in exactly one batch, also when a worker is
killed (-9) after it created a batch: the batch is taken over, never made twice.

On SQLite (one machine: two worker processes share the file) and on PostgreSQL
(three workers, each with a journal of its own, as on three machines). The
PostgreSQL cases need a server: OBATCH_TEST_PG_URI (.ci/run starts one with
scripts/pg-test-server.sh); without it they skip, unless OBATCH_TEST_PG_REQUIRED=1,
when they fail.
"""

import json
import os
import sqlite3
import subprocess
import time
import unittest

from cli_support import KEY
from fault_support import CliTestCase

DRIVER = os.environ.get("OBATCH_QUEUE_DRIVER", "")


def chat(text):
    return json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]})


class CliQueueTest(CliTestCase):

    def setUp(self):
        super().setUp()
        if not DRIVER:
            self.skipTest("OBATCH_QUEUE_DRIVER is not set")
        self.sqlite_store = os.path.join(self.cwd, "queue.db")

    # ---- stores

    def store_rows(self, store, sql):
        if store.startswith("postgresql://"):
            return self.psql(store, sql)
        db = sqlite3.connect(store, timeout=30)
        try:
            return [list(map(str, row)) for row in db.execute(sql)]
        finally:
            db.close()

    # ---- processes

    def driver(self, *args, timeout=240):
        proc = subprocess.run([DRIVER] + [str(a) for a in args], cwd=self.cwd,
                              env=self.cli_env(), capture_output=True, text=True, timeout=timeout)
        self.assertNotIn(KEY, proc.stdout + proc.stderr, "the key was printed")
        return proc

    def put_many(self, store, n, threads=8, prefix="q"):
        proc = self.driver("put", store, n, threads, prefix)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        tickets = [line.split()[1] for line in proc.stdout.splitlines()]
        self.assertEqual(len(tickets), n)
        self.assertEqual(len(set(tickets)), n, "two requests got one ticket")
        path = os.path.join(self.cwd, "tickets-%s.txt" % prefix)
        with open(path, "w", encoding="utf-8") as f:
            f.write(proc.stdout)
        return tickets, path

    def wait_all(self, store, path, n, timeout=240):
        proc = self.driver("wait", store, path, timeout, timeout=timeout + 30)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(json.loads(proc.stdout)["completed"], n)

    def start_worker(self, store, *extra, journal=None):
        args = ["queue", "worker", "--store", store, "--flush-age", "1s", "--lease", "2s",
                "--poll-interval", "0.05"] + list(extra)
        if journal:
            args += ["--state", journal]
        return self.start_cli(*args)

    def stop_workers(self, workers):
        for w in workers:
            if w.poll() is None:
                w.terminate()
        for w in workers:
            code, _, stderr = self.finish(w, timeout=30)
            self.assertIn(code, (0, -9), stderr)

    # ---- checks

    def batch_inputs(self):
        """{batch id: [custom_id, ...]} of every batch the server created."""
        out = {}
        for b in self.server.stats()["batches"]:
            status, raw = self.server.call("GET", "/v1/files/%s/content" % b["input_file_id"],
                                           auth=KEY)
            self.assertEqual(status, 200)
            text = raw.decode() if isinstance(raw, bytes) else json.dumps(raw)
            out[b["id"]] = [json.loads(line)["custom_id"] for line in text.splitlines() if line]
        return out

    def check_each_in_one_batch(self, store, tickets):
        inputs = self.batch_inputs()
        seen = {}
        for batch_id, ids in inputs.items():
            for cid in ids:
                self.assertNotIn(cid, seen, "%s in batches %s and %s" % (cid, seen.get(cid), batch_id))
                seen[cid] = batch_id
        self.assertEqual(set(seen), set(tickets), "a request in no batch")
        # Every batch the store knows of is one the server made, and the other way round.
        flushes = self.store_rows(store, "SELECT batch_id FROM obatch_queue_flushes")
        self.assertEqual(sorted(r[0] for r in flushes), sorted(inputs))
        return inputs

    def worker_flush_with_batch(self, store, worker):
        rows = self.store_rows(
            store, "SELECT id, batch_id FROM obatch_queue_flushes WHERE state = 'running' AND "
                   "batch_id <> '' AND owner LIKE '%%:%d:%%'" % worker.pid)
        return rows[0] if rows else None

    # ---- tests

    def test_put_get_and_the_same_request_again(self):
        store = self.sqlite_store
        put = self.run_cli("queue", "put", "--store", store, "-", stdin=chat("hello"))
        self.assertEqual(put.returncode, 0, put.stderr)
        ticket = put.stdout.strip()
        self.assertRegex(ticket, r"^obq_[0-9a-f]{32}$")
        # The same request, keys in another order: the same ticket, stored once.
        again = self.run_cli("queue", "put", "--store", store, "-",
                             stdin='{"messages":[{"content":"hello","role":"user"}],'
                                   '"model":"gpt-4o-mini"}')
        self.assertEqual(again.stdout.strip(), ticket)
        got = self.run_cli("queue", "get", "--store", store, ticket, "--json")
        self.assertEqual(got.returncode, 10, got.stderr)  # not ended yet
        entry = json.loads(got.stdout)
        self.assertEqual((entry["state"], entry["provider"], entry["endpoint"], entry["model"]),
                         ("queued", "openai", "/v1/chat/completions", "gpt-4o-mini"))
        self.assertIsNone(entry["body"])
        stats = self.run_cli("queue", "stats", "--store", store, "--json")
        self.assertEqual(json.loads(stats.stdout)["queued"], 1)

        worker = self.start_worker(store)
        waited = self.run_cli("queue", "wait", "--store", store, ticket, "--timeout", "60",
                              "--json", timeout=90)
        self.assertEqual(waited.returncode, 0, waited.stderr)
        entry = json.loads(waited.stdout)
        self.assertEqual(entry["state"], "completed")
        self.assertEqual(entry["status_code"], 200)
        self.assertEqual(entry["body"]["choices"][0]["message"]["content"], "echo: " + ticket)
        self.assertTrue(entry["batch_id"].startswith("batch_"))
        self.assertEqual(entry["attempts"], 1)
        self.assertLessEqual(entry["created_ms"], entry["submitted_ms"])
        self.assertLessEqual(entry["submitted_ms"], entry["ended_ms"])
        # Without --json: the answer alone on stdout.
        plain = self.run_cli("queue", "get", "--store", store, ticket)
        self.assertEqual(json.loads(plain.stdout)["object"], "chat.completion")
        self.stop_workers([worker])
        # After the retention a worker's step removes it.
        time.sleep(1.2)
        once = self.run_cli("queue", "worker", "--store", store, "--once", "--json",
                            "--retention", "1s")
        self.assertEqual(once.returncode, 0, once.stderr)
        self.assertEqual(json.loads(once.stdout.splitlines()[-1])["pruned"], 1)
        gone = self.run_cli("queue", "get", "--store", store, ticket)
        self.assertEqual(gone.returncode, 3, gone.stderr)
        self.assertIn("retention", gone.stderr)

    def test_bad_input_is_refused_at_put(self):
        store = self.sqlite_store
        cases = [
            ('{"model": "gpt-4o-mini", "messages": ', 3, "JSON"),
            ('{"messages": [{"role": "user", "content": "x"}]}', 3, "model"),
            ('{"model": "gpt-4o-mini", "messages": "hi"}', 3, "messages"),
        ]
        for body, code, word in cases:
            proc = self.run_cli("queue", "put", "--store", store, "-", stdin=body)
            self.assertEqual(proc.returncode, code, (body, proc.stderr))
            self.assertIn(word, proc.stderr)
        ok = self.run_cli("queue", "put", "--store", store, "--id", "mine-1", "-", stdin=chat("a"))
        self.assertEqual(ok.stdout.strip(), "mine-1")
        same = self.run_cli("queue", "put", "--store", store, "--id", "mine-1", "-", stdin=chat("a"))
        self.assertEqual((same.returncode, same.stdout.strip()), (0, "mine-1"))
        other = self.run_cli("queue", "put", "--store", store, "--id", "mine-1", "-", stdin=chat("b"))
        self.assertEqual(other.returncode, 3)
        self.assertIn("mine-1", other.stderr)
        self.assertIn("unique", other.stderr)
        unknown = self.run_cli("queue", "get", "--store", store, "obq_nosuch")
        self.assertEqual(unknown.returncode, 3)
        self.assertIn("obq_nosuch", unknown.stderr)
        # A store that cannot be reached: named, without its password.
        down = self.run_cli("queue", "stats", "--store", "postgresql://u:s3cretpw@127.0.0.1:1/db")
        self.assertEqual(down.returncode, 9, down.stderr)
        self.assertIn("u@127.0.0.1:1/db", down.stderr)
        self.assertNotIn("s3cretpw", down.stderr + down.stdout)
                # Nothing but the one good request was stored.
        rows = self.store_rows(store, "SELECT ticket FROM obatch_queue_requests")
        self.assertEqual(rows, [["mine-1"]])

    def test_expired_batches_queue_again_then_expire(self):
        store = self.sqlite_store
        self.server.config(final_status="expired", partial_fraction=0.5)
        tickets, path = self.put_many(store, 20, threads=2)
        worker = self.start_worker(store, "--max-attempts", "2")

        def ended():
            rows = self.store_rows(store, "SELECT state, COUNT(*) FROM obatch_queue_requests "
                                          "GROUP BY state")
            counts = {r[0]: int(r[1]) for r in rows}
            return counts if counts.get("completed", 0) + counts.get("expired", 0) == 20 else None
        counts = self.wait_until(ended, "every request completed or expired", worker, timeout=90)
        self.stop_workers([worker])
        # Half answered in the first batch, half of the rest in the second: 10 + 5; 5 expire.
        self.assertEqual(counts, {"completed": 15, "expired": 5})
        expired = self.store_rows(store, "SELECT ticket, attempts, error_code FROM "
                                         "obatch_queue_requests WHERE state = 'expired'")
        for ticket, attempts, code in expired:
            self.assertEqual((attempts, code), ("2", "batch_expired"))
            got = self.run_cli("queue", "get", "--store", store, ticket)
            self.assertEqual(got.returncode, 7, got.stderr)
        self.assertEqual(len(self.server.stats()["batches"]), 2)

    def test_sqlite_two_workers_2000_requests_from_8_threads(self):
        store = self.sqlite_store
        workers = [self.start_worker(store, "--flush-requests", "500") for _ in range(2)]
        tickets, path = self.put_many(store, 2000)
        self.wait_all(store, path, 2000)
        self.stop_workers(workers)
        inputs = self.check_each_in_one_batch(store, tickets)
        self.assertGreaterEqual(len(inputs), 4)

    def test_sqlite_worker_killed_after_creating_its_batch(self):
        self.kill_after_batch_created(self.sqlite_store, n=300, workers=1)

    def test_create_answer_lost_then_another_machine_adopts_the_batch(self):
        # The server made the batch but the worker died before hearing its id: the store
        # knows of no batch. A worker with a journal of its own (as on another machine)
        # takes the flush over after the lease and must find that batch at the provider.
        store = self.sqlite_store
        self.server.config(faults=[{"method": "POST", "path": "/v1/batches",
                                    "kind": "hang_after"}])
        tickets, path = self.put_many(store, 50, threads=2)
        a = self.start_worker(store, journal=os.path.join(self.cwd, "jobs-a.db"))
        self.wait_held(a, "POST", "/v1/batches", "after_action")
        self.assertEqual(self.server.stats()["batches_created"], 1)
        self.sigkill(a)
        self.server.config(faults=[])
        self.assertEqual(self.store_rows(store, "SELECT batch_id FROM obatch_queue_flushes"), [[""]])
        b = self.start_worker(store, journal=os.path.join(self.cwd, "jobs-b.db"))
        self.wait_all(store, path, 50)
        self.stop_workers([b])
        self.check_each_in_one_batch(store, tickets)
        self.assertEqual(self.server.stats()["batches_created"], 1, "a second batch was made")

    def test_postgres_three_workers_10000_requests_one_killed(self):
        self.kill_after_batch_created(self.pg_store(), n=10000, workers=3, own_journals=True)

    def kill_after_batch_created(self, store, n, workers, own_journals=False):
        """n requests, `workers` workers; the first to hold a created batch is killed -9
        and started again; every request completes, each in exactly one batch."""
        # The first batch stays in progress until the kill, so the victim holds it.
        self.server.config(steps=1000)
        journal = lambda i: os.path.join(self.cwd, "jobs-%d.db" % i) if own_journals else None
        procs = [self.start_worker(store, "--flush-requests", "1000", journal=journal(i))
                 for i in range(workers)]
        tickets, path = self.put_many(store, n)

        def victim():
            for w in procs:
                if w.poll() is None and self.worker_flush_with_batch(store, w):
                    return w
            return None
        w = self.wait_until(victim, "a worker holding a created batch", timeout=60)
        flush_id, batch_id = self.worker_flush_with_batch(store, w)
        self.sigkill(w)
        self.server.config(steps=1)
        # Its flush waits for the lease (2 s), then another worker (or the same one,
        # started again with the same journal) takes it over and finds its batch.
        i = procs.index(w)
        procs[i] = self.start_worker(store, "--flush-requests", "1000", journal=journal(i))
        self.wait_all(store, path, n)
        self.stop_workers(procs)
        inputs = self.check_each_in_one_batch(store, tickets)
        self.assertIn(batch_id, inputs, "the killed worker's batch was not used")
        rows = self.store_rows(store, "SELECT batch_id, state FROM obatch_queue_flushes WHERE "
                                      "id = '%s'" % flush_id)
        self.assertEqual(rows, [[batch_id, "done"]])
        self.assertEqual(self.server.stats()["batches_created"], len(inputs))


if __name__ == "__main__":
    unittest.main()
