#!/usr/bin/env python3
"""The `obatch` documentation says what the command does: every command and
every long option of `obatch COMMAND --help` is in the man page
(docs/obatch.1) and has a README section; the man page renders cleanly; the
README's set-up command works as root without sudo and as a user with it."""

import os
import re
import shutil
import subprocess
import tempfile
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

    def readme_setup_command(self):
        # The first command of the README's first shell block, without its comment.
        block = re.search(r"```sh\n(.*?)```", read("README.md"), re.S).group(1)
        return block.splitlines()[0].split("#")[0].strip()

    def run_setup_command(self, uid, with_sudo):
        """The README's set-up command, run in a copy of scripts/ with stand-ins
        for id, apt-get, cmake and ldconfig (and sudo when `with_sudo`) on a
        PATH that has nothing else: returns (process, the calls logged)."""
        tmp = tempfile.mkdtemp(prefix="obatch-setup-")
        self.addCleanup(shutil.rmtree, tmp)
        os.makedirs(os.path.join(tmp, "scripts"))
        for name in ("setup.sh", "install-deps.sh"):
            shutil.copy(os.path.join(ROOT, "scripts", name), os.path.join(tmp, "scripts", name))
        bin_dir, log = os.path.join(tmp, "bin"), os.path.join(tmp, "calls.log")
        os.makedirs(bin_dir)
        for tool in ("bash", "env", "dirname", "mkdir", "cat", "nproc"):
            os.symlink(shutil.which(tool), os.path.join(bin_dir, tool))
        stubs = {
            "id": 'echo %d' % uid,
            "apt-get": 'echo "apt-get $*" >> "$CALLS"',
            "cmake": 'echo "cmake $*" >> "$CALLS"',
            "ldconfig": 'echo "ldconfig" >> "$CALLS"',
        }
        if with_sudo:
            stubs["sudo"] = 'echo "sudo $1" >> "$CALLS"; exec "$@"'
        for name, body in stubs.items():
            path = os.path.join(bin_dir, name)
            with open(path, "w") as f:
                f.write("#!%s\n%s\n" % (shutil.which("bash"), body))
            os.chmod(path, 0o755)
        env = {"PATH": bin_dir, "CALLS": log, "OBATCH_SKIP_NPM": "1",
               "PREFIX": os.path.join(tmp, "prefix"), "HOME": tmp}
        proc = subprocess.run([shutil.which("bash"), "-c", self.readme_setup_command()], cwd=tmp,
                              env=env, capture_output=True, text=True, timeout=60)
        calls = open(log).read().splitlines() if os.path.exists(log) else []
        return proc, calls

    def test_readme_setup_command_works_as_root_without_sudo(self):
        # Containers and CI images: root, and no sudo at all (issue 19).
        self.assertEqual(self.readme_setup_command().split()[0], "scripts/setup.sh")
        proc, calls = self.run_setup_command(uid=0, with_sudo=False)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertNotIn("sudo", proc.stderr)
        self.assertTrue(any(c.startswith("apt-get install") for c in calls), calls)
        self.assertTrue(any(c.startswith("cmake --install build") for c in calls), calls)
        self.assertIn("ldconfig", calls)
        self.assertFalse([c for c in calls if c.startswith("sudo")], calls)

    def test_readme_setup_command_uses_sudo_for_a_user(self):
        proc, calls = self.run_setup_command(uid=1000, with_sudo=True)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        # Installing packages needs root; the build does not.
        self.assertIn("sudo env", calls)
        self.assertTrue(any(c.startswith("cmake --build build") for c in calls), calls)
        self.assertFalse([c for c in calls if c.startswith("sudo cmake")], calls)

    @unittest.skipUnless(shutil.which("groff"), "groff is not installed")
    def test_man_page_renders_without_warnings(self):
        proc = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", os.path.join(ROOT, "docs/obatch.1")],
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "")


if __name__ == "__main__":
    unittest.main()
