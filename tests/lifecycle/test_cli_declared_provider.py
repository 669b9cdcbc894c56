#!/usr/bin/env python3
"""A provider declared in a JSON file, not in code: `obatch run` with it against
the fake server set to that host's own auth header and required query
parameter, from --providers and from $OBATCH_PROVIDERS; its key never goes
anywhere else, and no other provider's key comes to it."""

import json
import os
import unittest

from cli_support import KEY, CliTestCase, FakeServer, chat_line

OTHER_KEY = "sk-openai-only-key-0123456789"


class CliDeclaredProviderTest(CliTestCase):

    def setUp(self):
        super().setUp()
        self.server.config(auth_header="api-key", required_query={"api-version": "2024-10-21"})
        self.providers = os.path.join(self.cwd, "providers.json")
        with open(self.providers, "w", encoding="utf-8") as f:
            json.dump({"providers": [{
                "name": "myhost", "base_url_env": "MYHOST_BASE_URL",
                "api_key_env": "MYHOST_API_KEY", "auth_header": "api-key",
                "query": {"api-version": "2024-10-21"}, "max_requests": 1000,
                "one_model": True, "endpoints": ["/v1/chat/completions"],
                "completion_windows": ["24h"], "models": ["myhost-*"]}]}, f)
        self.secrets.append(OTHER_KEY)

    def env(self, **extra):
        env = {"MYHOST_API_KEY": KEY, "MYHOST_BASE_URL": self.server.base_url}
        env.update(extra)
        return env

    def check_requests(self, server, key_header_value):
        for request in server.stats()["requests"]:
            self.assertIsNone(request["authorization"], request)
            self.assertEqual(request["api_key_header"], key_header_value, request)
            self.assertIn("api-version=2024-10-21", request["query"], request)

    def test_common_scenario_from_a_file(self):
        self.server.config(fail_every=3)
        ids = self.chat_input(6)
        # OpenAI's key is set too (to OpenAI's address): it must not come here.
        proc = self.run_cli("--providers", self.providers, "run", "input.jsonl", "-p", "myhost",
                            "--poll-interval", "0.01", key=OTHER_KEY, base_url=False,
                            env=self.env(OPENAI_BASE_URL="http://127.0.0.1:9/v1"))
        self.assert_exit(proc, 0)
        bid = self.only_batch_id_with_query()
        self.check_output(os.path.join(self.cwd, bid + "-output.jsonl"),
                          [cid for i, cid in enumerate(ids, 1) if i % 3])
        self.check_errors(os.path.join(self.cwd, bid + "-errors.jsonl"),
                          [cid for i, cid in enumerate(ids, 1) if i % 3 == 0])
        self.check_requests(self.server, KEY)

    def test_chosen_by_model_from_the_environment_file(self):
        self.write_input("input.jsonl", [chat_line("a", 0, "myhost-llama"),
                                         chat_line("b", 1, "myhost-llama")])
        proc = self.run_cli("run", "input.jsonl", "--poll-interval", "0.01", key=None,
                            base_url=False, env=self.env(OBATCH_PROVIDERS=self.providers))
        self.assert_exit(proc, 0)
        self.assertIn("myhost", proc.stderr)
        self.check_requests(self.server, KEY)

    def test_its_key_does_not_go_to_another_provider(self):
        # An OpenAI job run with MYHOST's key in the environment: the OpenAI host
        # (a second fake) never sees it, and myhost's server sees nothing at all.
        other = FakeServer(api_key=OTHER_KEY)
        self.addCleanup(other.stop)
        self.chat_input(2)
        proc = self.run_cli("--providers", self.providers, "run", "input.jsonl",
                            "--poll-interval", "0.01", key=OTHER_KEY, base_url=False,
                            env=self.env(OPENAI_BASE_URL=other.base_url))
        self.assert_exit(proc, 0)
        for request in other.stats()["requests"]:
            self.assertEqual(request["authorization"], "Bearer " + OTHER_KEY)
            self.assertNotIn(KEY, json.dumps(request))
        self.assertEqual(self.server.stats()["requests"], [])

    def test_bad_file_is_named_and_nothing_is_sent(self):
        with open(self.providers, "w", encoding="utf-8") as f:
            f.write('{"providers": [{"name": "myhost", "base_url": "https://x"}]}')
        self.chat_input(1)
        proc = self.run_cli("--providers", self.providers, "run", "input.jsonl", "-p", "myhost",
                            key=None, base_url=False, env=self.env())
        self.assert_exit(proc, 2)
        self.assertIn("providers.json", proc.stderr)
        self.assertIn("api_key_env", proc.stderr)
        self.assertEqual(self.server.stats()["requests"], [])
        # The same file named by the environment fails the lookup, naming it.
        proc = self.run_cli("run", "input.jsonl", "-p", "myhost", key=None, base_url=False,
                            env=self.env(OBATCH_PROVIDERS=self.providers))
        self.assertEqual(proc.returncode, 4, proc.stderr)
        self.assertIn("providers.json", proc.stderr)

    def only_batch_id_with_query(self):
        status, page = self.server.call("GET", "/_control/stats")
        self.assertEqual(status, 200)
        self.assertEqual(len(page["batches"]), 1)
        return page["batches"][0]["id"]


if __name__ == "__main__":
    unittest.main()
