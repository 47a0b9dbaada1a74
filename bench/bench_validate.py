"""What schema validation (rules SCH001-SCH003) adds to `homeops check`, as ratios measured in one run.

On the largest corpus repository, in fresh processes, run by run interleaved (the machine is noisy):

* the baseline of bench_check.py: a process that only parses every YAML file with libyaml;
* `check` without the schema rules, cold (no parse or result cache): the same `check` with every
  other rule selected, and the `check` of another revision (`--base`, default `main`: the code before
  this feature, exported with `git archive`);
* `check` with every rule, cold, the schema cache already built (it is keyed by the installed
  packages, not by the repository: built once per installation and Kubernetes release);
* `check` with every rule, everything cold, the schema cache too (the very first run);
* `check` warm (the result cache answers: nothing is validated again).

Target: validating adds at most 20% to a cold check, nothing to a warm one. Besides wall-clock time
the CPU time of each `check` (its own and its helper processes') is compared: on a machine that
other work keeps busy, CPU time says what the schema rules cost far more steadily than the clock.

    python bench/bench_validate.py [--repo PATH] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(HERE))

from bench_check import BASELINE  # noqa: E402  (the same baseline as the check benchmark)

CPU: dict[str, list[float]] = {}


def timed(argv: list[str], env: dict[str, str], row: str = "") -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if row:  # user and system time of the process and the helpers it waited for
        used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        CPU.setdefault(row, []).append(used)
    return elapsed


def clear(cache: Path, *, keep_schemas: bool) -> None:
    if not cache.is_dir():
        return
    for entry in cache.iterdir():
        if keep_schemas and entry.name == "schemas":
            continue
        shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repo", type=Path, default=CORPUS / "bjw-s-labs__home-ops")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--base", default="main", help="the revision to compare with ('' for none)")
    args = parser.parse_args()
    if not args.repo.is_dir():
        print(f"repo {args.repo} not found: skipped")
        return 0
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=False)
    sys.path.insert(0, str(ROOT / "src"))
    from homeops.rules.catalog import all_rules

    others = ",".join(rule.id for rule in all_rules() if not rule.id.startswith("SCH"))
    work = Path(tempfile.mkdtemp(prefix="homeops-bench-validate-"))
    cache = work / "cache"
    env = dict(os.environ, HOMEOPS_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT / "src"))
    base_env = None
    if args.base:
        (work / "base").mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.base, "src"], capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(work / "base")], input=archive.stdout, check=True)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(work / "base" / "src")], check=False)
        base_env = dict(env, PYTHONPATH=str(work / "base" / "src"))
    check = [sys.executable, "-m", "homeops", "check", str(args.repo), "-o", "json"]
    rows: dict[str, list[float]] = {
        "baseline": [],
        "without": [],
        "base": [],
        "with": [],
        "first": [],
        "warm": [],
    }
    try:
        for _ in range(args.runs):
            rows["baseline"].append(timed([sys.executable, "-c", BASELINE, str(args.repo)], env))
            clear(cache, keep_schemas=True)
            rows["without"].append(timed([*check, "--select", others], env, "without"))
            if base_env is not None:
                clear(cache, keep_schemas=True)
                rows["base"].append(timed(check, base_env, "base"))
            clear(cache, keep_schemas=True)
            rows["with"].append(timed(check, env, "with"))
            rows["warm"].append(timed(check, env))
            clear(cache, keep_schemas=False)
            rows["first"].append(timed(check, env))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {name: statistics.median(values) for name, values in rows.items() if values}
    added = statistics.median(w / o for w, o in zip(rows["with"], rows["without"], strict=True))
    first = statistics.median(f / o for f, o in zip(rows["first"], rows["without"], strict=True))
    base = med["baseline"]
    print(f"repo {args.repo.name}, {args.runs} interleaved runs (medians)")
    print(f"  baseline (libyaml parse of every YAML file): {base * 1000:.0f} ms")
    print(
        f"  check without schema rules, cold: {med['without'] * 1000:.0f} ms = "
        f"{med['without'] / base:.2f}x baseline"
    )
    print(
        f"  check with schema rules, cold (schema cache built): {med['with'] * 1000:.0f} ms = "
        f"{med['with'] / base:.2f}x baseline; {added:.2f}x the check without them (per-run ratio)"
    )
    print(
        f"  check with schema rules, first run ever (schema cache empty too): {med['first'] * 1000:.0f} ms; "
        f"{first:.2f}x the check without them"
    )
    if rows["base"]:
        against = statistics.median(w / b for w, b in zip(rows["with"], rows["base"], strict=True))
        print(
            f"  check of {args.base} (before the schema rules), cold: {med['base'] * 1000:.0f} ms; this "
            f"check is {against:.2f}x it (per-run ratio)"
        )
    print(f"  check warm (result cache): {med['warm'] * 1000:.0f} ms = {med['warm'] / base:.2f}x baseline")
    cpu = {name: statistics.median(values) for name, values in CPU.items()}
    line = f"  CPU time: without {cpu['without'] * 1000:.0f} ms, with {cpu['with'] * 1000:.0f} ms = "
    line += f"{cpu['with'] / cpu['without']:.2f}x"
    if "base" in cpu:
        line += f"; {args.base} {cpu['base'] * 1000:.0f} ms, this check {cpu['with'] / cpu['base']:.2f}x it"
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
