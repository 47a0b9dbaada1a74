"""How fast `homeops check` is, as ratios against baselines measured in the same run.

1. On the largest corpus repository: a fresh Python process that only parses every YAML file with
   libyaml (the baseline), against `homeops check` with an empty cache (cold) and with a warm cache.
   Targets: cold ≤ 1.5x the baseline, warm ≤ 0.5x.
2. Scaling on generated repositories of 100, 1,000 and 5,000 apps (bench/genrepo.py): cold check time
   per app should stay flat (linear growth).
3. `homeops --help` start-up (target < 200 ms).

Each figure is the median of several runs; the machine is noisy, so ratios matter, not seconds.

    python bench/bench_check.py [--repo PATH] [--runs N] [--apps 100,1000,5000]
"""

from __future__ import annotations

import argparse
import os
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

BASELINE = """
import os, sys, yaml
for folder, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = [d for d in dirs if d != ".git"]
    for name in files:
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(folder, name), "rb") as handle:
                try:
                    list(yaml.load_all(handle.read(), Loader=yaml.CSafeLoader))
                except yaml.YAMLError:
                    pass
"""


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def median(runs: int, fn: object) -> float:
    assert callable(fn)
    return statistics.median(fn() for _ in range(runs))


def measure_repo(repo: Path, runs: int, env: dict[str, str], cache: Path) -> dict[str, float]:
    homeops = [sys.executable, "-m", "homeops"]

    def cold() -> float:
        shutil.rmtree(cache, ignore_errors=True)
        return timed([*homeops, "check", str(repo), "-o", "json"], env)

    def warm() -> float:
        return timed([*homeops, "check", str(repo), "-o", "json"], env)

    baseline = median(runs, lambda: timed([sys.executable, "-c", BASELINE, str(repo)], env))
    cold_s = median(runs, cold)
    warm()
    warm_s = median(runs, warm)
    return {"baseline": baseline, "cold": cold_s, "warm": warm_s}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repo", type=Path, default=CORPUS / "bjw-s-labs__home-ops")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--apps", default="100,1000,5000")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=False)
    work = Path(tempfile.mkdtemp(prefix="homeops-bench-"))
    env = dict(os.environ, HOMEOPS_CACHE_DIR=str(work / "cache"), PYTHONPATH=str(ROOT / "src"))
    try:
        if args.repo.is_dir():
            r = measure_repo(args.repo, args.runs, env, work / "cache")
            print(f"repo {args.repo.name}")
            print(
                f"  baseline (fresh process, libyaml parse of every YAML file): {r['baseline'] * 1000:.0f} ms"
            )
            print(
                f"  homeops check, cold cache: {r['cold'] * 1000:.0f} ms = "
                f"{r['cold'] / r['baseline']:.2f}x baseline"
            )
            print(
                f"  homeops check, warm cache: {r['warm'] * 1000:.0f} ms = "
                f"{r['warm'] / r['baseline']:.2f}x baseline"
            )
        else:
            print(f"repo {args.repo} not found: skipped")
        print("scaling (generated flat repositories, cold cache):")
        sys.path.insert(0, str(HERE))
        from genrepo import generate

        first: float | None = None
        for count in (int(n) for n in args.apps.split(",")):
            repo = work / f"apps-{count}"
            generate(repo, count)
            runs = max(1, min(args.runs, 3 if count >= 1000 else args.runs))
            r = measure_repo(repo, runs, env, work / "cache")
            per_app = r["cold"] / count * 1000
            first = first or per_app
            print(
                f"  {count:>5} apps: check {r['cold']:.2f} s ({per_app:.2f} ms/app, "
                f"{per_app / first:.2f}x the "
                f"per-app cost at the smallest size); baseline parse {r['baseline']:.2f} s = "
                f"{r['cold'] / r['baseline']:.2f}x; warm {r['warm']:.2f} s"
            )
        helps = median(args.runs * 2, lambda: timed([sys.executable, "-m", "homeops", "--help"], env))
        start_only = median(args.runs * 2, lambda: timed([sys.executable, "-c", "pass"], env))
        print(f"homeops --help: {helps * 1000:.0f} ms (python -c pass: {start_only * 1000:.0f} ms)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
