"""How fast `homeops simulate` is, as ratios against baselines measured in the same run.

1. On the largest corpus repository: `homeops graph --format json` (reading the repository and building
   the dependency graph, which simulate also does) is the baseline; `homeops simulate` (bootstrap)
   against it, cold and warm cache, then a running cluster (`--converged --fail` of its secret store) and
   one commit (`--change HEAD` on a copy under Git that bumps one image tag). Target: warm bootstrap < 2 s.
2. Scaling on generated repositories of 100, 1,000 and 5,000 apps (bench/genrepo.py): the simulation
   alone (world + discrete-event run, in process, graph already built), per app, against 100 apps; with
   Python's cyclic garbage collector paused during the run (what homeops does) and, to show why, left on.
   CPU time of this process, so that other work on a shared machine counts less.

Each figure is the median of several runs; the machine is shared and noisy, so ratios matter.

    python bench/bench_simulate.py [--repo PATH] [--runs N] [--apps 100,1000,5000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
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


def scaling(repos: dict[int, Path], runs: int) -> dict[int, tuple[float, float, float, int]]:
    """Per app count: (graph seconds, simulation CPU seconds with the collector paused, and left on,
    objects), medians. Runs are interleaved across the sizes so that load from other work on a shared
    machine falls on all of them alike."""
    import contextlib

    sys.path.insert(0, str(ROOT / "src"))
    from homeops.graph.model import build_graph
    from homeops.simulate import engine, scenario
    from homeops.simulate.settings import settings
    from homeops.workspace import open_workspace

    graphs = {}
    graph_times = {}
    for count, repo in repos.items():
        flux = open_workspace(repo).flux
        start = time.perf_counter()
        graphs[count] = build_graph(flux)
        graph_times[count] = time.perf_counter() - start
    times: dict[tuple[int, bool], list[float]] = {(c, p): [] for c in repos for p in (True, False)}
    objects: dict[int, int] = {}
    shipped = engine.paused_gc
    try:
        for _ in range(runs):
            for count, graph in graphs.items():
                for paused in (True, False):
                    gc.collect()  # the last run's cycles are not this run's cost
                    pause = shipped if paused else contextlib.nullcontext
                    engine.paused_gc = scenario.paused_gc = pause  # type: ignore[assignment]
                    start = time.process_time()
                    result = scenario.simulate(graph, settings())
                    times[(count, paused)].append(time.process_time() - start)
                    objects[count] = len(result.final)
                    del result
    finally:
        engine.paused_gc = scenario.paused_gc = shipped
    return {
        c: (
            graph_times[c],
            statistics.median(times[(c, True)]),
            statistics.median(times[(c, False)]),
            objects[c],
        )
        for c in repos
    }


def git_copy_with_a_commit(repo: Path, into: Path) -> Path | None:
    """A copy of ``repo`` under Git with one more commit that bumps one app's image tag."""
    root = into / repo.name
    shutil.copytree(repo, root, symlinks=True)
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@example.com", GIT_COMMITTER_NAME="b",
               GIT_COMMITTER_EMAIL="b@example.com", GIT_CONFIG_GLOBAL="/dev/null")  # fmt: skip
    for argv in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "base"]):
        subprocess.run(argv, cwd=root, env=env, check=True)
    for path in sorted(root.rglob("helmrelease.yaml")):
        text = path.read_text()
        bumped = re.sub(r"^(\s+tag: )\S+", r"\g<1>9.9.9", text, count=1, flags=re.M)
        if bumped != text:
            path.write_text(bumped)
            subprocess.run(["git", "commit", "-qam", "bump"], cwd=root, env=env, check=True)
            return root
    return None


def first_store(repo: Path, env: dict[str, str]) -> str | None:
    out = subprocess.run(
        [sys.executable, "-m", "homeops", "simulate", str(repo), "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    for item in json.loads(out or "{}").get("final", []):
        if item["kind"].endswith("SecretStore"):
            return f"{item['kind']}/{item['namespace']}/{item['name']}"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=largest_corpus_repo())
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--apps", default="100,1000,5000")
    args = parser.parse_args()
    homeops = [sys.executable, "-m", "homeops"]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, HOMEOPS_CACHE_DIR=str(Path(tmp) / "cache"))
        if args.repo is not None and args.repo.is_dir():
            repo = str(args.repo)
            shutil.rmtree(env["HOMEOPS_CACHE_DIR"], ignore_errors=True)
            cold = timed([*homeops, "simulate", repo], env)
            graph = median([*homeops, "graph", repo, "--format", "json"], env, args.runs)
            warm = median([*homeops, "simulate", repo], env, args.runs)
            print(
                f"{args.repo.name}: graph (baseline) {graph:.2f}s; simulate cold {cold:.2f}s, "
                f"warm {warm:.2f}s = {warm / graph:.2f}x the graph (target: warm < 2 s)"
            )
            store = first_store(args.repo, env)
            if store is not None:
                running = median([*homeops, "simulate", repo, "--converged", "--fail", store], env, args.runs)
                print(f"  --converged --fail {store}: {running:.2f}s = {running / graph:.2f}x the graph")
            copy = git_copy_with_a_commit(args.repo, Path(tmp))
            if copy is not None:
                change = median([*homeops, "simulate", str(copy), "--change", "HEAD"], env, args.runs)
                print(f"  --change HEAD (one image bumped): {change:.2f}s = {change / graph:.2f}x the graph")
        repos = {}
        for count in (int(n) for n in args.apps.split(",")):
            repos[count] = Path(tmp) / f"repo{count}"
            subprocess.run(
                [sys.executable, str(HERE / "genrepo.py"), str(repos[count]), str(count)], check=True
            )
        base: float | None = None
        for count, (graph_time, sim_time, gc_time, objects) in scaling(repos, args.runs).items():
            per_app = sim_time / count
            base = base or per_app
            print(
                f"{count:>5} apps ({objects} objects): graph {graph_time:.2f}s, simulate {sim_time:.3f}s "
                f"CPU, {per_app * 1000:.3f} ms/app = {per_app / base:.2f}x the 100-app rate; "
                f"collector left on {gc_time:.3f}s = {gc_time / count / base:.2f}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
