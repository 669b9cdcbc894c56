#!/usr/bin/env python3
"""The `obatch` documentation says what the command does: every command and
every long option of `obatch COMMAND --help` is in the man page
(docs/obatch.1) and has a README section; the man page renders cleanly."""

import os
import re
import shutil
import subprocess
import unittest

from cli_support import CliTestCase

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMMANDS = ("run", "status", "cancel", "download", "list", "create-input", "validate", "results",
            "jobs", "estimate", "queue", "serve")
# Commands with subcommands: each one's options are documented with it.
SUBCOMMANDS = ("queue put", "queue get", "queue wait", "queue worker", "queue stats")


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


class CliDocsTest(CliTestCase):

    def long_options(self, command):
        proc = self.run_cli(*command.split(), "--help")
        self.assert_exit(proc, 0)
        return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", proc.stdout)) - {"--help"}

    def test_help_lists_every_command(self):
        proc = self.run_cli("--help")
        self.assert_exit(proc, 0)
        for command in COMMANDS:
            self.assertRegex(proc.stdout, r"\n\s+%s\s" % re.escape(command))

    def test_man_page_has_every_command_and_option(self):
        man = read("docs/obatch.1").replace("\\-", "-")
        for command in COMMANDS:
            self.assertRegex(man, r'\.SS "%s\b' % re.escape(command))
            for option in self.long_options(command):
                self.assertIn(option, man, "%s %s is not in docs/obatch.1" % (command, option))
        for command in SUBCOMMANDS:
            for option in self.long_options(command):
                self.assertIn(option, man, "%s %s is not in docs/obatch.1" % (command, option))

    def test_man_page_has_every_exit_code(self):
        proc = self.run_cli("--help")
        codes = re.findall(r"\b(\d+) [a-z]", proc.stdout.split("Exit codes:")[1].split("Environment")[0])
        self.assertGreater(len(codes), 10)
        man = read("docs/obatch.1")
        status = man.split('.SH "EXIT STATUS"')[1].split(".SH")[0]
        for code in codes:
            self.assertIn(".B %s\n" % code, status)

    def test_readme_has_a_section_per_command(self):
        readme = read("README.md")
        for command in COMMANDS:
            self.assertRegex(readme, r"\n### `obatch %s" % re.escape(command))

    def test_readme_examples_are_the_tested_files(self):
        # The examples CI runs must be the ones the README shows.
        readme = read("README.md")
        for path in ("bindings/node/examples/quickstart.js",
                     "bindings/go/examples/quickstart/main.go",
                     "bindings/ruby/examples/quickstart.rb"):
            self.assertIn(read(path).rstrip(), readme, "%s differs from README.md" % path)

    @unittest.skipUnless(shutil.which("groff"), "groff is not installed")
    def test_man_page_renders_without_warnings(self):
        proc = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", os.path.join(ROOT, "docs/obatch.1")],
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "")


if __name__ == "__main__":
    unittest.main()
