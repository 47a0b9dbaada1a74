"""How long ``homeops report`` takes to write the page of a repository, and the page to render.

Generation: ``homeops report`` against ``homeops graph -f json`` on the same repository (the baseline
reads the same files and builds the same graph), each a fresh process, warm parse cache. Rendering:
headless Chromium (Debian's, through Selenium) opening the report from a file:// URL, timed from
navigation start to the second animation frame after load, against a one-line page opened the same
way. The target is under 2 s to render the largest corpus repository, whatever the machine.

    python bench/bench_report.py [--repo PATH] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

import browser  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
HOMEOPS = [sys.executable, "-m", "homeops"]


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=CORPUS / "bjw-s-labs__home-ops")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not args.repo.is_dir():
        print(f"bench_report: {args.repo} not found (give --repo)", file=sys.stderr)
        return 2
    # Bytecode first: this environment may set PYTHONDONTWRITEBYTECODE, which makes every run recompile.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=False)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, HOMEOPS_CACHE_DIR=str(Path(tmp) / "cache"))
        page = Path(tmp) / "report.html"
        blank = Path(tmp) / "blank.html"
        blank.write_text("<!doctype html><title>blank</title><p>blank</p>")
        report = [*HOMEOPS, "report", str(args.repo), "--output", str(page)]
        graph = [*HOMEOPS, "graph", str(args.repo), "-f", "json"]
        timed(report, env)  # warm the parse cache for both
        gen = [timed(report, env) for _ in range(args.runs)]
        base = [timed(graph, env) for _ in range(args.runs)]
        size = page.stat().st_size
        g, b = statistics.median(gen), statistics.median(base)
        print(f"repository: {args.repo.name}, page {size / 1024:.0f} KiB, median of {args.runs} runs")
        print(f"  generate  homeops report      {g:6.2f} s")
        print(f"  baseline  homeops graph -f json {b:6.2f} s   ratio {g / b:5.2f}")
        reason = browser.missing()
        if reason:
            print(f"  render: skipped ({reason})")
            return 0
        with browser.chromium() as chromium:
            chromium.open(blank)
            shown = []
            empty = []
            for _ in range(args.runs):
                empty.append(chromium.open(blank))
                shown.append(chromium.open(page))
            errors = chromium.log()["errors"]
        r, e = statistics.median(shown), statistics.median(empty)
        print(f"  render    report in Chromium  {r:6.2f} s   (worst {max(shown):.2f} s, target < 2 s)")
        print(f"  baseline  one-line page       {e:6.2f} s   ratio {r / e:5.1f}")
        if errors:
            print(f"  console errors: {errors}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
