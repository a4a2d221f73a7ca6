"""Instructions per ledger append, counted by valgrind's callgrind (issue 3). Wall-clock figures on a
shared 2-core machine move ±15-20 % between runs; instruction counts do not, so this compares two
versions of the code exactly. Prints figures; not a test.

    .venv/bin/python benchmarks/ledger_instructions.py [--kind build,sqlite,pg]

Each kind runs twice under callgrind, with a few and with 1,000 more appends, and prints the
difference divided by 1,000 (start-up cancels out):
  build   build() + prepared() of the benchmark's action entry (no database)
  sqlite  the whole inline append on a migrated SQLite file (checkpoint signing off, so that how
          slowly the program runs under valgrind cannot change how much work it does)
  pg      an append on its own in the writer process (DATABASE_URL, a dedicated PostgreSQL database
          that ``benchmarks/ledger.py`` may truncate); the server's work is not counted
Only the client process is counted, and only user-space instructions (not system calls). Run it
from the repository (the code measured is this checkout's). Needs valgrind.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FEW, MORE = 200, 1200


def child(kind: str, n: int) -> None:
    """The measured program: ``n`` appends (or builds) of ``kind``."""
    sys.path.insert(0, str(REPO))
    from benchmarks import ledger

    if kind == "build":
        ledger.setup_django()
        from accountability.ledger.build import build

        for i in range(n):
            build(**ledger.action(i)).prepared()
        return
    ledger.setup_django()
    ledger.reset()
    from accountability.ledger.append import append_entry

    for i in range(n):
        append_entry(**ledger.action(i))


def count(kind: str, n: int, env: dict) -> int:
    """Instructions callgrind collected for ``child(kind, n)``."""
    valgrind = shutil.which("valgrind") or "valgrind"
    command = [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__]
    out = subprocess.run(  # noqa: S603 - valgrind on this script, fixed arguments
        [*command, "--child", kind, str(n)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return int(re.search(r"Collected : (\d+)", out.stderr).group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", default="build,sqlite,pg")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    base = {**os.environ, "PYTHONHASHSEED": "0", "ICDEV_LEDGER_CHECKPOINT_INTERVAL": "1000000"}
    for kind in args.kind.split(","):
        env = dict(base)
        if kind in ("build", "sqlite"):
            env["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/instructions.sqlite3"
        elif not env.get("DATABASE_URL", "").startswith("postgres"):
            print("pg: set DATABASE_URL to a dedicated PostgreSQL database")
            continue
        if kind == "sqlite":  # two files, so the two runs can go at once
            envs = [env, {**env, "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp()}/instructions.sqlite3"}]
            for e in envs:  # migrated outside valgrind, where it takes seconds instead of minutes
                migrate = [sys.executable, "manage.py", "migrate", "--verbosity", "0"]
                subprocess.run(migrate, env={**e, "ICDEV_ENV": "development"}, check=True, cwd=REPO)  # noqa: S603
        else:
            envs = [env, env]
        if kind == "pg":  # one database: one run after the other
            few, more = count(kind, FEW, envs[0]), count(kind, MORE, envs[1])
        else:
            with ThreadPoolExecutor(2) as pool:
                few, more = pool.map(count, [kind, kind], [FEW, MORE], envs)
        print(f"{kind:7s} {(more - few) / (MORE - FEW):12,.0f} instructions per append")
    return 0


if __name__ == "__main__":
    sys.exit(main())
