"""How fast homeops' YAML loader is against a bare libyaml parse of the same files, in one process.

For each repository: read every YAML file once, then time (a) PyYAML's ``CSafeLoader`` loading every
document (the baseline, the same as ``bench_check.py``'s) and (b) ``homeops.load.yamlio.parse``, in
alternation, several rounds; prints the medians and the ratio. In-process, so start-up and the walk
are left out: this isolates the loader that ``check`` runs on every file.

    python bench/bench_yaml.py [--rounds N] [REPO ...]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import yaml

from homeops.load.yamlio import parse

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DEFAULT = ("bjw-s-labs__home-ops", "onedr0p__home-ops", "Chrtol__home-cluster")


def files_of(repo: Path) -> list[bytes]:
    found = []
    for path in sorted(repo.rglob("*")):
        if path.suffix in (".yaml", ".yml") and path.is_file() and ".git" not in path.parts:
            found.append(path.read_bytes())
    return found


def baseline(blobs: list[bytes]) -> None:
    for raw in blobs:
        try:
            list(yaml.load_all(raw, Loader=yaml.CSafeLoader))
        except yaml.YAMLError:
            pass


def homeops(blobs: list[bytes]) -> None:
    for raw in blobs:
        parse(raw)


def timed(fn: object, blobs: list[bytes]) -> float:
    assert callable(fn)
    start = time.perf_counter()
    fn(blobs)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("repos", nargs="*", type=Path)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    repos = args.repos or [CORPUS / name for name in DEFAULT]
    for repo in repos:
        blobs = files_of(repo)
        homeops(blobs)  # warm the memo of plain scalars, as a long check run would have it
        base, ours, ratios = [], [], []
        for _ in range(args.rounds):
            b = timed(baseline, blobs)
            o = timed(homeops, blobs)
            base.append(b)
            ours.append(o)
            ratios.append(o / b)
        print(
            f"{repo.name}: {len(blobs)} files, libyaml {statistics.median(base) * 1000:.0f} ms, "
            f"homeops {statistics.median(ours) * 1000:.0f} ms, ratio {statistics.median(ratios):.2f}x "
            f"(range {min(ratios):.2f}-{max(ratios):.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
