#!/usr/bin/env python3
"""Checks what libobatch.so exports (the zstd / DuckDB symbol check).

Usage: check_symbols.py LIBRARY HEADER...

Fails, naming the offenders, when:
  - a defined dynamic symbol does not start with obatch_ (the C++ core, a
    libstdc++ template instance or a dependency leaked out);
  - a required API function, or any function a public header declares with
    OBATCH_API, is not exported;
  - an obatch_* function is exported that no public header declares (an ABI
    promise nobody meant to make);
  - the SONAME is not libobatch.so.0.
"""

import re
import subprocess
import sys

SONAME = "libobatch.so.0"

# The core of the API: these must exist whatever the headers say.
REQUIRED = [
    "obatch_version", "obatch_version_number", "obatch_strerror",
    "obatch_config_new", "obatch_config_set", "obatch_config_get",
    "obatch_config_destroy",
    "obatch_create", "obatch_resume", "obatch_add", "obatch_add_line",
    "obatch_add_file", "obatch_submit", "obatch_poll", "obatch_wait",
    "obatch_info", "obatch_cancel", "obatch_last_error", "obatch_input_path",
    "obatch_destroy",
    "obatch_fetch", "obatch_rewind", "obatch_lookup",
    "obatch_list", "obatch_list_next", "obatch_list_has_more",
    "obatch_list_last_id", "obatch_list_destroy",
    "obatch_provider_register",
]

DECL = re.compile(r"\bOBATCH_API\b[^;{}()]*?\b(obatch_\w+)\s*\(")


def run(cmd):
    try:
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        sys.exit(f"check_symbols: {cmd[0]} not found (install binutils)")
    except subprocess.CalledProcessError as e:
        sys.exit(f"check_symbols: {' '.join(cmd)} failed:\n{e.stderr}")


def declared(headers):
    names = set()
    for h in headers:
        with open(h, encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)   # comments
        text = re.sub(r"^\s*#.*?(?<!\\)$", " ", text, flags=re.M | re.S)  # directives
        found = DECL.findall(text)
        if not found:
            sys.exit(f"check_symbols: no OBATCH_API declaration found in {h}")
        names.update(found)
    return names


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    lib, headers = argv[1], argv[2:]

    # Version-definition symbols (type A) name symbol versions, not code.
    version_nodes = set(re.findall(r"^\s*\d+\s+0x\S+\s+0x\S+\s+(\S+)\s*$",
                                   run(["objdump", "-p", lib]), flags=re.M))
    exported = {}
    for line in run(["nm", "-D", "--defined-only", lib]).splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        kind, name = parts[-2], parts[-1].split("@")[0]
        if kind == "A" and name in version_nodes:
            continue
        exported[name] = kind

    failures = []
    leaked = sorted(n for n in exported if not n.startswith("obatch_"))
    if leaked:
        failures.append(f"{len(leaked)} exported symbol(s) outside obatch_*:\n    "
                        + "\n    ".join(f"{exported[n]} {n}" for n in leaked))

    api = declared(headers)
    missing = sorted((set(REQUIRED) | api) - set(exported))
    if missing:
        failures.append("API function(s) not exported:\n    " + "\n    ".join(missing))

    undeclared = sorted(n for n in exported
                        if n.startswith("obatch_") and n not in api)
    if undeclared:
        failures.append("exported but declared in no public header:\n    "
                        + "\n    ".join(undeclared))

    m = re.search(r"\(SONAME\)\s+\S+\s+\S+:\s+\[([^\]]+)\]", run(["readelf", "-d", lib]))
    soname = m.group(1) if m else None
    if soname != SONAME:
        failures.append(f"SONAME is {soname!r}, expected {SONAME!r}")

    print(f"{lib}: {len(exported)} exported symbols, {len(api)} declared in "
          f"{len(headers)} header(s), SONAME {soname}")
    if failures:
        for f in failures:
            print("FAIL: " + f)
        return 1
    print("OK: only obatch_* is exported and the whole public API is there")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
