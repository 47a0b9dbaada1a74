"""How fast `homeops simulate` is, as ratios against baselines measured in the same run.

1. On the largest corpus repository: `homeops graph --format json` (reading the repository and building
   the dependency graph, which simulate also does) is the baseline; `homeops simulate` (bootstrap)
   against it, cold and warm cache. Target: the warm simulate under 2 s.
2. Scaling on generated repositories of 100, 1,000 and 5,000 apps (bench/genrepo.py): the simulation
   alone (world + discrete-event run, in process, graph already built), per app, against 100 apps.

Each figure is the median of several runs; the machine is shared and noisy, so ratios matter.

    python bench/bench_simulate.py [--repo PATH] [--runs N] [--apps 100,1000,5000]
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


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def median(argv: list[str], env: dict[str, str], runs: int) -> float:
    return statistics.median(timed(argv, env) for _ in range(runs))


def largest_corpus_repo() -> Path | None:
    if not CORPUS.is_dir():
        return None
    repos = [p for p in CORPUS.iterdir() if p.is_dir()]
    return max(repos, key=lambda p: sum(1 for _ in p.rglob("*.yaml")), default=None)


def in_process(repo: Path, runs: int) -> tuple[float, float, int]:
    """(graph seconds, simulation seconds, objects) for one repository, medians."""
    sys.path.insert(0, str(ROOT / "src"))
    from homeops.graph.model import build_graph
    from homeops.simulate.scenario import simulate
    from homeops.simulate.settings import settings
    from homeops.workspace import open_workspace

    flux = open_workspace(repo).flux
    start = time.perf_counter()
    graph = build_graph(flux)
    graph_time = time.perf_counter() - start
    times = []
    objects = 0
    for _ in range(runs):
        start = time.perf_counter()
        result = simulate(graph, settings())
        times.append(time.perf_counter() - start)
        objects = len(result.final)
    return graph_time, statistics.median(times), objects


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=largest_corpus_repo())
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--apps", default="100,1000,5000")
    args = parser.parse_args()
    homeops = [sys.executable, "-m", "homeops"]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, HOMEOPS_CACHE_DIR=str(Path(tmp) / "cache"))
        if args.repo is not None:
            repo = str(args.repo)
            shutil.rmtree(env["HOMEOPS_CACHE_DIR"], ignore_errors=True)
            cold = timed([*homeops, "simulate", repo], env)
            graph = median([*homeops, "graph", repo, "--format", "json"], env, args.runs)
            warm = median([*homeops, "simulate", repo], env, args.runs)
            print(
                f"{args.repo.name}: graph (baseline) {graph:.2f}s; simulate cold {cold:.2f}s, "
                f"warm {warm:.2f}s = {warm / graph:.2f}x the graph (target: warm < 2 s)"
            )
        base: float | None = None
        for count in (int(n) for n in args.apps.split(",")):
            out = Path(tmp) / f"repo{count}"
            subprocess.run([sys.executable, str(HERE / "genrepo.py"), str(out), str(count)], check=True)
            graph_time, sim_time, objects = in_process(out, args.runs)
            per_app = sim_time / count
            base = base or per_app
            print(
                f"{count:>5} apps ({objects} objects): graph {graph_time:.2f}s, simulate {sim_time:.3f}s, "
                f"{per_app * 1000:.2f} ms/app = {per_app / base:.2f}x the 100-app rate"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
