#!/usr/bin/env python3
"""packaging.abi_check_detects: scripts/abi-check fails on a symbols file
that differs from the library, naming the symbol, and passes on the real one.

Usage: test_abi_check.py ABI_CHECK LIBRARY SYMBOLS_FILE WORK_DIR
"""

import os
import shutil
import subprocess
import sys


def check(abi_check, lib, symbols):
    p = subprocess.run([sys.executable, abi_check, lib, symbols], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main(argv):
    abi_check, lib, symbols, work = argv[1:5]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    with open(symbols, encoding="utf-8") as f:
        lines = f.readlines()
    entries = [i for i, l in enumerate(lines) if l.startswith(" ")]
    victim = lines[entries[0]].split()[0]  # e.g. obatch_add@Base
    failures = []

    rc, out = check(abi_check, lib, symbols)
    if rc != 0:
        failures.append(f"the real symbols file does not pass:\n{out}")

    # A symbol the library exports but the file does not list: an accidental export.
    unlisted = os.path.join(work, "unlisted.symbols")
    with open(unlisted, "w", encoding="utf-8") as f:
        f.writelines(l for i, l in enumerate(lines) if i != entries[0])
    rc, out = check(abi_check, lib, unlisted)
    if rc != 1 or victim not in out or "not in the symbols file" not in out:
        failures.append(f"a symbol missing from the file ({victim}) is not reported:\n{out}")

    # A symbol the file promises and the library lacks: an ABI break.
    promised = os.path.join(work, "promised.symbols")
    with open(promised, "w", encoding="utf-8") as f:
        f.writelines(lines + [" obatch_removed_function@Base 0.1.0\n"])
    rc, out = check(abi_check, lib, promised)
    if rc != 1 or "obatch_removed_function@Base" not in out or "ABI break" not in out:
        failures.append(f"a promised symbol the library lacks is not reported:\n{out}")

    # Another library's symbols file.
    other = os.path.join(work, "other.symbols")
    with open(other, "w", encoding="utf-8") as f:
        f.writelines([lines[0].replace("libobatch.so.0", "libobatch.so.1")] + lines[1:])
    rc, out = check(abi_check, lib, other)
    if rc != 1 or "SONAME" not in out:
        failures.append(f"a symbols file for another SONAME is not reported:\n{out}")

    for f in failures:
        print("FAIL: " + f)
    if failures:
        return 1
    print("OK: abi-check passes the real symbols file and fails an extra export, "
          "a removed symbol and another SONAME")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
