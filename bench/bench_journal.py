"""What crash safety costs a write: the journaled, locked, confined Transaction against plain atomic writes.

Baseline, measured in the same run: each file written on its own with ``fsutil.atomic_write`` (a
temporary file beside it, fsync, rename: what a careful writer without a journal does). Against it:
``journal.Transaction`` writing the same files (confine each target, stage in the state folder, hard-link
backups, the journal, renames). Both replace existing files of a repository, as ``configure`` does.
Medians of several runs; the machine is shared, so the ratio matters, not the seconds.

    python bench/bench_journal.py [--files 10,100,1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from homeops.fsutil import atomic_write
from homeops.journal import Transaction


def _repo(root: Path, count: int) -> list[str]:
    rels = [f"kubernetes/apps/ns{i % 20}/app{i}/helmrelease.yaml" for i in range(count)]
    for rel in rels:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("old\n" * 50)
    return rels


def _plain(root: Path, rels: list[str], payload: bytes) -> None:
    for rel in rels:
        atomic_write(root / rel, payload)


def _journaled(root: Path, rels: list[str], payload: bytes) -> None:
    with Transaction(root, "bench") as txn:
        for rel in rels:
            txn.write(rel, payload)


def measure(count: int, runs: int) -> tuple[float, float]:
    payload = b"new: value\n" * 200  # about 2 KB, a typical manifest
    times: dict[str, list[float]] = {"plain": [], "journal": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rels = _repo(root, count)
        for _ in range(runs):
            for name, write in (("plain", _plain), ("journal", _journaled)):
                start = time.perf_counter()
                write(root, rels, payload)
                times[name].append(time.perf_counter() - start)
    return statistics.median(times["plain"]), statistics.median(times["journal"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", default="10,100,1000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'files':>6}  {'atomic writes':>14}  {'transaction':>12}  ratio")
    for count in (int(n) for n in args.files.split(",")):
        plain, journaled = measure(count, args.runs)
        print(f"{count:>6}  {plain * 1000:>11.1f} ms  {journaled * 1000:>9.1f} ms  {journaled / plain:.2f}x")


if __name__ == "__main__":
    main()
