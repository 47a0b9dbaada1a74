"""How fast `homeops check` is, as ratios against a baseline measured in the same run, on every repo shape.

The baseline ("the parse floor") is a fresh Python process that only parses every YAML file of the
repository with libyaml (PyYAML's CSafeLoader), bytecode cached. Against it, in fresh processes:

* fresh: `homeops check -o json` in a process of its own (``HOMEOPS_SERVER=0``) with nothing of this
  repository cached (the parse and result caches emptied before each run). What homeops keeps per
  installation stays: the schema catalog (built once per installed version) and remote kustomize
  bases fetched before (a pinned ref is fetched once);
* cold: the same, with the resident process running (homeops.resident: the check runs in a fork of
  a process that has its modules imported). Its work is not a child of the measured process, so
  only the wall clock compares;
* warm: the same command again (the result cache answers: in a child of the resident process when
  ``homeops`` is the native launcher (homeops.launcher), else in the calling process; through the
  launcher, as for cold, only the wall clock compares).

Targets (issue 10): cold ≤ 1.5x the floor, warm ≤ 0.3x, on every corpus repository and every shape
bench/genrepo.py makes. The machine is shared and noisy, so the three commands run interleaved, round
by round, and each ratio is taken within a round, then the median over the rounds. Besides the wall
clock, the CPU time (user + system, of the process and every helper it forked) is compared the same
way: waiting for a core that other work holds does not inflate it, but work done on the second core
counts in it, so the two ratios bracket what a user sees on an idle and on a busy machine.

    python bench/bench_check.py [--runs N] [--only NAME,...] [--apps 100,1000,5000]

``--apps`` adds the flat layout at those sizes (scaling: cold time per app should stay flat).
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

COLD_TARGET, WARM_TARGET = 1.5, 0.3
SETTLE = 0.3
"""Seconds to wait after a run through the resident process, for what it does after answering."""


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and the helpers it waited for) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def clear_repository_caches(cache: Path) -> None:
    """Forget what homeops cached about repositories (parsed files, results); keep the rest."""
    for name in ("parse", "results"):
        shutil.rmtree(cache / name, ignore_errors=True)


def measure(repo: Path, runs: int, env: dict[str, str], cache: Path) -> dict[str, float]:
    """Interleaved rounds of baseline, cold (in a fresh process, and through the resident process)
    and warm; medians of the per-round ratios."""
    check = [*homeops_command(), "check", str(repo), "-o", "json"]
    baseline = [sys.executable, "-c", BASELINE, str(repo)]
    fresh_env = dict(env, HOMEOPS_SERVER="0")
    timed(check, fresh_env)  # builds what is kept per installation (the schema catalog) before measuring
    start_resident(check, env, cache)
    rounds: list[dict[str, tuple[float, float]]] = []
    for _ in range(runs):
        clear_repository_caches(cache)
        fresh = timed(check, fresh_env)
        clear_repository_caches(cache)
        cold = timed(check, env)
        # The resident process's child has answered; it still stores the result and exits, and the
        # next spare is forked: not on the clock of the runs that follow (a user types in between).
        time.sleep(SETTLE)
        warm = timed(check, env)
        time.sleep(SETTLE)  # (through the launcher, the resident process forks its next spare now)
        rounds.append({"base": timed(baseline, env), "fresh": fresh, "cold": cold, "warm": warm})

    def ratio(kind: str, index: int) -> float:
        return statistics.median(r[kind][index] / r["base"][index] for r in rounds)

    def seconds(kind: str, index: int) -> float:
        return statistics.median(r[kind][index] for r in rounds)

    return {
        "base": seconds("base", 0),
        "fresh": seconds("fresh", 0),
        "fresh_ratio": ratio("fresh", 0),
        "fresh_cpu_ratio": ratio("fresh", 1),
        "cold": seconds("cold", 0),
        "cold_ratio": ratio("cold", 0),
        "warm": seconds("warm", 0),
        "warm_ratio": ratio("warm", 0),
        "warm_cpu_ratio": ratio("warm", 1),
    }


def homeops_command() -> list[str]:
    """What a user runs: the ``homeops`` script installed beside this Python (``python -m homeops``
    when there is none: ``runpy`` adds ~1.5 ms)."""
    script = Path(sys.executable).with_name("homeops")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "homeops"]


def start_resident(check: list[str], env: dict[str, str], cache: Path) -> None:
    """Make sure the resident process runs (a check without an answer in the cache starts one)."""
    server = cache / "server"
    for _ in range(3):
        if server.is_dir() and any(server.glob("*.sock")):
            return
        clear_repository_caches(cache)
        timed(check, env)
        for _ in range(50):
            if server.is_dir() and any(server.glob("*.sock")):
                return
            time.sleep(0.1)
    raise SystemExit("no resident process started (is HOMEOPS_SERVER=0 or CI set?)")


def stop_resident(cache: Path) -> None:
    """A resident process stops when its socket is removed."""
    for sock in (cache / "server").glob("*.sock"):
        sock.unlink()


def targets(work: Path, cache: Path, only: set[str], apps: list[int]) -> list[tuple[str, Path]]:
    """(name, folder) of every corpus repository and generated shape to measure."""
    sys.path.insert(0, str(HERE))
    from genrepo import SHAPES, generate_shape

    found = [(p.name, p) for p in sorted(CORPUS.iterdir()) if p.is_dir()] if CORPUS.is_dir() else []
    for shape in [*SHAPES, *(f"flat-{n}" for n in apps)]:
        if only and shape not in only:
            continue
        folder = work / "shapes" / shape
        generate_shape(folder, shape, cache)
        found.append((shape, folder))
    return [(name, path) for name, path in found if not only or name in only]


def mark(value: float, target: float) -> str:
    return f"{value:5.2f}x{' ' if value <= target else '!'}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", default="", help="comma-separated repository or shape names")
    parser.add_argument("--apps", default="", help="also the flat layout at these sizes (e.g. 100,1000)")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=False)
    work = Path(tempfile.mkdtemp(prefix="homeops-bench-"))
    cache = work / "cache"
    env = dict(os.environ, HOMEOPS_CACHE_DIR=str(cache))
    for name in ("CI", "HOMEOPS_SERVER", "PYTHONPATH"):  # (a PYTHONPATH leaves the launcher to Python)
        env.pop(name, None)
    installed = subprocess.run(
        [sys.executable, "-c", "import homeops; print(homeops.__file__)"],
        env=env,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not installed.startswith(str(ROOT / "src")):
        sys.exit(f"bench_check: this Python runs homeops from {installed}, not this tree: use its ./dev venv")
    only = {name for name in args.only.split(",") if name}
    apps = [int(n) for n in args.apps.split(",") if n]
    sys.path.insert(0, str(ROOT / "src"))
    try:
        print(
            f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
        )
        print(f"medians of {args.runs} interleaved rounds; '!' marks a ratio over its target")
        header = (
            "repository or shape",
            "floor",
            "fresh",
            "wall",
            "CPU",
            "cold",
            "wall",
            "warm",
            "wall",
            "CPU",
        )
        print("{:<40} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}".format(*header))
        for name, repo in targets(work, cache, only, apps):
            runs = args.runs if not name.startswith("flat-") or int(name[5:]) < 1000 else min(args.runs, 3)
            r = measure(repo, runs, env, cache)
            print(
                f"{name[:40]:<40} {r['base'] * 1000:5.0f}ms {r['fresh'] * 1000:5.0f}ms "
                f"{mark(r['fresh_ratio'], COLD_TARGET)} {mark(r['fresh_cpu_ratio'], COLD_TARGET)} "
                f"{r['cold'] * 1000:5.0f}ms {mark(r['cold_ratio'], COLD_TARGET)} "
                f"{r['warm'] * 1000:5.0f}ms {mark(r['warm_ratio'], WARM_TARGET)} "
                f"{mark(r['warm_cpu_ratio'], WARM_TARGET)}",
                flush=True,
            )
        helps = statistics.median(timed([*homeops_command(), "--help"], env)[0] for _ in range(args.runs * 2))
        start_only = statistics.median(
            timed([sys.executable, "-c", "pass"], env)[0] for _ in range(args.runs)
        )
        print(f"homeops --help: {helps * 1000:.0f} ms (python -c pass: {start_only * 1000:.0f} ms)")
        print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        stop_resident(cache)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
