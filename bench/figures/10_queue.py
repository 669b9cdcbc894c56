#!/usr/bin/env python3
"""Figure 10 (issue 14): the deferred-request queue.

- puts/s: 10,000 different chat requests (~300 B bodies; x OBATCH_BENCH_SCALE) put with
  obatch_queue_put by 1 and by 8 clients (threads, each with its own handle), each put
  durable when it returns: on SQLite (a fresh file in the scratch dir; WAL, synchronous=FULL)
  and on PostgreSQL (a throwaway cluster of Debian's postgresql started here with
  scripts/pg-test-server.sh, default settings, fsync on; a fresh database per run).
  Timed inside bench/drivers/queue_driver.c from the first put to the last return.
- flush latency: 10,000 queued requests and a worker whose flush rule (flush_requests) fires
  at once: the time from its first step to the store holding the batch's id (the requests
  claimed, the input written, uploaded, the batch created at the provider: the test suite's
  fake server on 127.0.0.1), on SQLite.

No peer: the services this replaces are not packaged; the note says what the figures mean.
Without PostgreSQL (no initdb) its rows are skipped with a note.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "drivers"))
import benchlib  # noqa: E402
from benchlib import ENV, log, median, row  # noqa: E402
import fig_server  # noqa: E402

FIGURE = "10. deferred queue"
JOURNAL = {}  # OBATCH_STATE for the driver: a queue journals its batches (main sets it)
PG_SCRIPT = os.path.join(ENV.source, "scripts", "pg-test-server.sh")


def driver():
    path = os.path.join(ENV.build, "bench", "queue_driver")
    if not os.path.exists(path):
        raise SystemExit("figure 10: %s is missing (build with -DOBATCH_BENCH=ON)" % path)
    return path


def run_driver(*args, env=None):
    p = subprocess.run([driver()] + [str(a) for a in args], env=env or fig_server.lib_env(JOURNAL),
                       capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        raise RuntimeError("queue_driver %s failed: %s" % (" ".join(map(str, args)), p.stderr))
    return json.loads(p.stdout)


class Postgres:
    """A throwaway cluster (or OBATCH_TEST_PG_URI's server): fresh databases on it."""

    def __init__(self, tmp):
        self.dir, self.uri, self.ours = os.path.join(tmp, "pg"), os.environ.get("OBATCH_TEST_PG_URI"), False
        if not self.uri and os.path.exists(PG_SCRIPT):
            p = subprocess.run(["bash", PG_SCRIPT, "start", self.dir], capture_output=True,
                               text=True, timeout=120)
            if p.returncode == 0:
                self.uri, self.ours = p.stdout.strip(), True
            else:
                log("figure 10: no PostgreSQL:", p.stderr.strip())

    def database(self):
        name = "obatch_bench_" + uuid.uuid4().hex[:10]
        subprocess.run(["psql", "-X", "-q", self.uri, "-c", "CREATE DATABASE " + name],
                       check=True, capture_output=True, timeout=60)
        return self.uri.rsplit("/", 1)[0] + "/" + name

    def stop(self):
        if self.ours:
            subprocess.run(["bash", PG_SCRIPT, "stop", self.dir], capture_output=True, timeout=120)


def puts_per_s(store_for_run, n, clients):
    rates = []
    for _ in range(ENV.repeats):
        r = run_driver("puts", store_for_run(), n, clients)
        rates.append(r["puts"] / r["seconds"])
    return median(rates)


def main():
    n = benchlib.scaled(10000, 50)
    tmp = tempfile.mkdtemp(prefix="fig10-", dir=ENV.tmp)
    os.chmod(tmp, 0o755)  # the PostgreSQL server (user postgres) keeps its cluster inside
    JOURNAL["OBATCH_STATE"] = os.path.join(tmp, "jobs.db")
    pg = Postgres(tmp)
    try:
        count = [0]

        def sqlite_store():
            count[0] += 1
            return os.path.join(tmp, "q%d.db" % count[0])

        for clients in (1, 8):
            rate = puts_per_s(sqlite_store, n, clients)
            log("figure 10: SQLite, %d client(s): %.0f puts/s" % (clients, rate))
            row(FIGURE, "puts/s, SQLite, %d client%s" % (clients, "" if clients == 1 else "s"),
                rate, unit="puts/s",
                note="%d puts, each durable when it returns (WAL, synchronous=FULL)" % n)
        for clients in (1, 8):
            if not pg.uri:
                row(FIGURE, "puts/s, PostgreSQL, %d client%s" % (clients, "" if clients == 1 else "s"),
                    None, note="skipped: no PostgreSQL server (apt-get install postgresql)")
                continue
            rate = puts_per_s(pg.database, n, clients)
            log("figure 10: PostgreSQL, %d client(s): %.0f puts/s" % (clients, rate))
            row(FIGURE, "puts/s, PostgreSQL, %d client%s" % (clients, "" if clients == 1 else "s"),
                rate, unit="puts/s",
                note="%d puts, one transaction each, fsync on, over 127.0.0.1" % n)

        with fig_server.FakeServer({"steps": 1000}) as srv:
            env = fig_server.lib_env({"OPENAI_API_KEY": fig_server.API_KEY,
                                      "OPENAI_BASE_URL": srv.base_url,
                                      "OBATCH_STATE": JOURNAL["OBATCH_STATE"]})
            times = [run_driver("flush", sqlite_store(), n, env=env)["seconds"]
                     for _ in range(ENV.repeats)]
        t = median(times)
        log("figure 10: flush of %d requests to a created batch: %.3f s" % (n, t))
        row(FIGURE, "flush rule to batch created, %d requests (s)" % n, t,
            higher_is_better=False, unit="s",
            note="SQLite; claim, input, upload and create against the fake server (Python) on "
                 "127.0.0.1")
    finally:
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
