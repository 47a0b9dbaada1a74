"""Check that a change to homeops leaves its output byte-identical, on every corpus repo and shape.

Runs ``check -o json``, ``graph -f json``, ``get images -o json`` and ``build all --offline`` with the
working tree's code and with another revision's (``--base``, default ``HEAD``: exported with ``git
archive``), each in a fresh process with an empty cache (seeded as bench/genrepo.py seeds it), and
compares stdout, stderr and the exit code. Run it before committing a speed change.

    python bench/same_output.py [--base REV] [--only NAME,...]

Exit 0 when everything is identical, 1 otherwise (the differing commands are listed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_check import targets  # noqa: E402

COMMANDS = (
    ("check", "REPO", "-o", "json"),
    ("graph", "REPO", "-f", "json"),
    ("get", "images", "REPO", "-o", "json"),
    ("build", "all", "REPO", "--offline"),
)


def run_all(src: Path, repo: Path, work: Path, shape_cache: Path) -> list[tuple[bytes, bytes, int]]:
    """Every command's (stdout, stderr, exit code) on ``repo`` with the code in ``src``."""
    results = []
    for command in COMMANDS:
        cache = work / "cache"
        shutil.rmtree(cache, ignore_errors=True)
        if shape_cache.is_dir():
            shutil.copytree(shape_cache, cache)
        env = dict(os.environ, HOMEOPS_CACHE_DIR=str(cache), PYTHONPATH=str(src), NO_COLOR="1")
        argv = [sys.executable, "-m", "homeops", *(str(repo) if a == "REPO" else a for a in command)]
        done = subprocess.run(argv, env=env, capture_output=True, check=False, cwd=work)
        results.append((done.stdout, done.stderr.replace(str(src).encode(), b"SRC"), done.returncode))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="HEAD")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="homeops-same-"))
    try:
        base = work / "base"
        base.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.base, "src"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        for src in (base / "src", ROOT / "src"):
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(src)], check=False)
        seeded = work / "seeded"
        only = {name for name in args.only.split(",") if name}
        differ = []
        for name, repo in targets(work, seeded, only, []):
            old = run_all(base / "src", repo, work, seeded)
            new = run_all(ROOT / "src", repo, work, seeded)
            for command, a, b in zip(COMMANDS, old, new, strict=True):
                label = f"{name}: {' '.join(command).replace('REPO ', '')}"
                if a != b:
                    which = [
                        part for part, x, y in zip(("stdout", "stderr", "exit"), a, b, strict=True) if x != y
                    ]
                    differ.append(f"{label} ({', '.join(which)} differ)")
                    print(f"DIFFERENT {label}: {', '.join(which)}", flush=True)
                else:
                    print(f"same      {label} ({len(a[0])} bytes, exit {a[2]})", flush=True)
        if differ:
            print(f"\n{len(differ)} command(s) differ from {args.base}:")
            print("\n".join(f"  {line}" for line in differ))
            return 1
        print(f"\nall identical to {args.base}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
