#!/usr/bin/env python3
"""Ctrl-C while `obatch run` waits: the batch keeps running (and the exact
resume command is printed), a second Ctrl-C within the grace period cancels
it, --cancel-on-interrupt cancels at once; during the upload nothing is
created."""

import os
import signal
import subprocess
import time
import unittest

from cli_support import KEY, KEY_ENV, CLI, CliTestCase


class CliInterruptTest(CliTestCase):

    def start_cli(self, *args):
        env = {k: v for k, v in os.environ.items() if k not in KEY_ENV}
        env.update(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=self.server.base_url, TMPDIR=self.tmpdir,
                   XDG_STATE_HOME=self.state_home)
        proc = subprocess.Popen([CLI] + list(args), cwd=self.cwd, env=env, text=True,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        return proc

    def wait_for_batch(self, proc):
        """Waits until the server has a batch and the command polls it."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.fail("obatch ended early: %s" % (proc.communicate(),))
            batches = self.server.batches()
            if batches:
                gets = [r for r in self.server.stats()["requests"]
                        if r["method"] == "GET" and r["path"] == "/v1/batches/" + batches[0]["id"]]
                if gets:
                    return batches[0]["id"]
            time.sleep(0.05)
        self.fail("no batch was created")

    def finish(self, proc):
        out, err = proc.communicate(timeout=30)
        for text in (out, err):
            self.assertNotIn(KEY, text)
        return proc.returncode, out, err

    def cancels(self):
        return [r for r in self.server.stats()["requests"]
                if r["method"] == "POST" and r["path"].endswith("/cancel")]

    def test_ctrl_c_leaves_the_batch_running_and_prints_resume(self):
        self.server.config(steps=100000)
        self.chat_input(3)
        proc = self.start_cli("run", "input.jsonl", "--poll-interval", "0.05", "--grace", "0.5",
                              "-o", "my out.jsonl")
        bid = self.wait_for_batch(proc)
        proc.send_signal(signal.SIGINT)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 130, err)
        # The exact command, with the options that must be repeated (quoted).
        self.assertIn("obatch run --resume %s -p openai -o 'my out.jsonl'" % bid, err)
        self.assertIn("Ctrl-C again", err)
        self.assertEqual(self.cancels(), [])
        status, batch = self.server.call("GET", "/v1/batches/" + bid, auth=KEY)
        self.assertIn(batch["status"], ("validating", "in_progress"))

    def test_second_ctrl_c_within_grace_cancels(self):
        self.server.config(steps=100000)
        self.chat_input(3)
        proc = self.start_cli("run", "input.jsonl", "--poll-interval", "0.05", "--grace", "20")
        bid = self.wait_for_batch(proc)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 8, err)
        self.assertIn("cancelling", err)
        self.assertIn("obatch download " + bid, err)
        self.assertEqual(len(self.cancels()), 1)

    def test_cancel_on_interrupt_cancels_and_downloads_partial_results(self):
        self.server.config(steps=100000, partial_fraction=0.5)
        ids = self.chat_input(4)
        proc = self.start_cli("run", "input.jsonl", "--poll-interval", "0.05",
                              "--cancel-on-interrupt")
        bid = self.wait_for_batch(proc)
        proc.send_signal(signal.SIGINT)
        # The provider takes its time to cancel; end it once the cancel arrived.
        deadline = time.monotonic() + 10
        while not self.cancels() and time.monotonic() < deadline:
            time.sleep(0.05)
        status, _ = self.server.call("POST", "/_control/advance/" + bid, {"status": "cancelled"})
        self.assertEqual(status, 200)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 8, err)
        self.assertEqual(len(self.cancels()), 1)
        self.check_output(os.path.join(self.cwd, bid + "-output.jsonl"), ids[:2])

    def test_sigterm_leaves_the_batch_running(self):
        self.server.config(steps=100000)
        self.chat_input(2)
        proc = self.start_cli("run", "input.jsonl", "--poll-interval", "0.05")
        bid = self.wait_for_batch(proc)
        proc.send_signal(signal.SIGTERM)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 130, err)
        self.assertIn("--resume " + bid, err)
        self.assertEqual(self.cancels(), [])

    def test_ctrl_c_during_upload_creates_nothing(self):
        # The upload is held back by the server's faults (503 with retries).
        self.server.config(faults=[{"method": "POST", "path": "/v1/files", "kind": "503",
                                    "count": 100}], retry_after="1")
        self.chat_input(2)
        proc = self.start_cli("run", "input.jsonl")
        deadline = time.monotonic() + 10
        while not self.server.stats()["requests"] and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        code, out, err = self.finish(proc)
        self.assertEqual(code, 130, err)
        self.assertIn("no batch was created", err)
        self.assertEqual(self.server.batches(), [])


if __name__ == "__main__":
    unittest.main()
