#!/usr/bin/env python3
"""`obatch estimate`: per model, exact prompt tokens (OpenAI's counting rules),
the output bound, the batch and direct cost from the built-in dated prices or
--prices FILE; "unknown" for a model without a price; a bad file is refused
with its line; --json for scripts. Nothing is sent, no key needed."""

import json

from cli_support import CliTestCase, chat_line


class CliEstimateTest(CliTestCase):

    def write_mixed(self):
        lines = [chat_line("a%d" % i, i) for i in range(10)]
        for line in lines:
            line["body"]["max_completion_tokens"] = 20
        lines += [chat_line("b%d" % i, i, model="gpt-4o") for i in range(4)]
        lines += [chat_line("c0", 0, model="my-own-model")]
        self.write_input("in.jsonl", lines)

    def test_table_per_model_and_total(self):
        self.write_mixed()
        proc = self.run_cli("estimate", "in.jsonl", "-p", "openai", key=None)
        self.assert_exit(proc, 0)
        rows = {line.split()[0]: line.split() for line in proc.stdout.splitlines()[1:4]}
        # "hi N" is "hi", " ", "N": 3 + 1 ("user") + 3 + 3 = 10 tokens a request.
        self.assertEqual(rows["gpt-4o-mini"][1:4], ["10", "100", "200"])
        self.assertEqual(rows["gpt-4o"][1:4], ["4", "40", "4,000*"])
        self.assertEqual(rows["my-own-model"][4:6], ["unknown", "unknown"])
        self.assertIn("1000 output tokens assumed", proc.stdout)
        self.assertIn("tiktoken does not know", proc.stdout)
        self.assertIn("prices: built in, 20", proc.stdout)
        self.assertEqual(self.server.stats()["requests"], [])

    def test_json_and_own_prices(self):
        self.write_mixed()
        with open(self.cwd + "/prices.tsv", "w", encoding="utf-8") as f:
            f.write("# date: 2031-02-03\ngpt-4o-mini\t2\t-\t4\t1\t2\n"
                    "gpt-4o\t1\t-\t1\t0.5\t0.5\nmy-own-model\t0\t-\t0\t0\t0\n")
        proc = self.run_cli("estimate", "--json", "--prices", "prices.tsv", "in.jsonl", key=None)
        self.assert_exit(proc, 0)
        rows = [json.loads(line) for line in proc.stdout.splitlines()]
        self.assertEqual([r["model"] for r in rows], ["gpt-4o-mini", "gpt-4o", "my-own-model", ""])
        mini, total = rows[0], rows[-1]
        self.assertTrue(total["total"])
        self.assertEqual((mini["prompt_tokens"], mini["output_tokens_max"]), (100, 200))
        self.assertAlmostEqual(mini["direct_cost_usd"], (100 * 2 + 200 * 4) / 1e6)
        self.assertAlmostEqual(mini["batch_cost_usd"], (100 * 1 + 200 * 2) / 1e6)
        self.assertEqual(total["requests"], 15)
        self.assertEqual(total["prices"], "prices.tsv, 2031-02-03")

    def test_bad_input_and_bad_prices(self):
        self.write_input("bad.jsonl", [chat_line("a"), "{oops"])
        proc = self.run_cli("estimate", "bad.jsonl", key=None)
        self.assert_exit(proc, 3)
        self.assertIn("bad.jsonl line 2", proc.stderr)
        self.write_input("good.jsonl", [chat_line("a")])
        with open(self.cwd + "/p.tsv", "w", encoding="utf-8") as f:
            f.write("gpt-4o-mini\tcheap\t-\t1\t1\t1\n")
        proc = self.run_cli("estimate", "--prices", "p.tsv", "good.jsonl", key=None)
        self.assert_exit(proc, 9)
        self.assertIn("p.tsv line 1: input price 'cheap' is not a number", proc.stderr)
