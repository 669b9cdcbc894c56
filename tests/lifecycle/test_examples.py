#!/usr/bin/env python3
"""The README's C quickstart (examples/quickstart.c), built and run unchanged
against the fake server, so the example users copy really works.

Environment (CMake sets it): OBATCH_EXAMPLE_QUICKSTART (the built example),
OBATCH_FAKE_SERVER, OBATCH_PYTHON.
"""

import os
import re
import subprocess
import tempfile
import unittest

from cli_support import KEY, FakeServer

EXAMPLE = os.environ.get("OBATCH_EXAMPLE_QUICKSTART", "")


@unittest.skipUnless(EXAMPLE, "OBATCH_EXAMPLE_QUICKSTART must be set")
class ExamplesTest(unittest.TestCase):

    def test_quickstart_runs_against_a_batch_server(self):
        server = FakeServer({"steps": 1})
        self.addCleanup(server.stop)
        tmp = tempfile.TemporaryDirectory(prefix="obatch-example-")
        self.addCleanup(tmp.cleanup)
        env = dict(os.environ, OPENAI_API_KEY=KEY, OPENAI_BASE_URL=server.base_url,
                   TMPDIR=tmp.name, OBATCH_STATE=os.path.join(tmp.name, "jobs.db"))
        proc = subprocess.run([EXAMPLE], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertRegex(proc.stdout, r"batch batch_\w+ completed; output in ")
        rows = re.findall(r"^(request-\d) -> (\d+) ", proc.stdout, re.M)
        self.assertEqual(rows, [("request-1", "200"), ("request-2", "200"),
                                ("request-3", "200")])
        self.assertNotIn(KEY, proc.stdout + proc.stderr)
        stats = server.stats()
        self.assertEqual((stats["uploads"], stats["batches_created"]), (1, 1))
        create = [r for r in stats["requests"] if r["method"] == "POST"
                  and r["path"] == "/v1/batches"]
        self.assertEqual(len(create), 1)


if __name__ == "__main__":
    unittest.main()
