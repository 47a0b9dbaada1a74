"""`homeops diff` of a one-file change with a warm cache, on the largest corpus repository.

The repository is copied into a Git work tree and committed; each timed run edits one HelmRelease
value (a new value every time, so the head side really renders anew) and runs ``homeops diff
--offline`` in a fresh process. Warm means: the base revision's Flux tree is in the snapshot cache,
files are in the parse cache and Python's bytecode is cached, as on a second run in a work tree.
Corpus charts cannot be fetched here, so the same is measured on a synthetic repository of 1,000
app-template-like apps whose chart is cached (a local registry), where the changed release renders
through Helm. Baselines measured in the same run: ``homeops --version`` (interpreter start), and
``homeops diff --all`` (every producer rendered on both sides).

    python bench/bench_diff.py [REPO]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from genrepo import generate  # noqa: E402

from services import oci_registry  # noqa: E402

CORPUS = Path(os.environ.get("HOMEOPS_CORPUS", HERE.parents[1] / "shared" / "corpus"))
APPTPL = HERE.parent / "tests" / "testdata" / "charts" / "apptpl"
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@homeops.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@homeops.invalid",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}  # fmt: skip
RUNS = 5


def run(argv: list[str], env: dict[str, str], cwd: Path, ok: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr.decode()[-2000:]}")
    return elapsed


def git_work_tree(source: Path, target: Path, env: dict[str, str]) -> Path:
    shutil.copytree(source, target)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=target, env=env, check=True)
    return target


def measure(repo: Path, release: Path, env: dict[str, str], label: str) -> None:
    homeops = [sys.executable, "-m", "homeops"]
    original = release.read_text()
    marker = "  values:\n"
    assert marker in original, release

    def change(n: int) -> None:
        release.write_text(original.replace(marker, f"{marker}    benchRun: {n}\n", 1))

    change(0)
    run([*homeops, "diff", "--offline"], env, repo, ok=(1, 3))  # warm the caches
    start_up = statistics.median(run([*homeops, "--version"], env, repo) for _ in range(RUNS))
    times = []
    for n in range(1, RUNS + 1):
        change(n)
        times.append(run([*homeops, "diff", "--offline"], env, repo, ok=(1, 3)))
    every = run([*homeops, "diff", "--offline", "--all"], env, repo, ok=(1, 3))
    release.write_text(original)
    one = statistics.median(times)
    verdict = "met" if one < 0.5 else "MISSED"
    print(
        f"{label}: one-file change {one:.3f}s (median of {RUNS}; min {min(times):.3f}s, "
        f"max {max(times):.3f}s) | interpreter start {start_up:.3f}s | diff --all {every:.2f}s "
        f"= {every / one:.1f}x | target 0.5s: {verdict}"
    )


def main() -> None:
    import helm_python

    from homeops.render.charts import ChartCache

    source = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS / "bjw-s-labs__home-ops"
    with tempfile.TemporaryDirectory(prefix="homeops-bench-diff-") as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env |= GIT_ENV | {"HOMEOPS_CACHE_DIR": str(work / "cache"), "PYTHONPYCACHEPREFIX": str(work / "pyc"),
                          "NO_COLOR": "1"}  # fmt: skip
        repo = git_work_tree(source, work / "corpus", env)
        release = sorted(repo.glob("kubernetes/apps/*/*/app/helmrelease.yaml"))[0]
        measure(repo, release, env, f"{source.name} ({len(list(repo.rglob('*.yaml')))} YAML files)")

        os.environ["HOMEOPS_CACHE_DIR"] = env["HOMEOPS_CACHE_DIR"]
        archive = Path(helm_python.package(APPTPL, destination=work / "dist", version="5.1.0"))
        with oci_registry(work / "registry") as registry:
            registry.push(archive, "bench/helm")
            url = registry.url("bench/helm/apptpl")
            ChartCache().oci(url, tag="5.1.0")
        generate(work / "synthetic-src", 1000)
        for path in (work / "synthetic-src").rglob("ocirepository.yaml"):
            path.write_text(path.read_text().replace("oci://ghcr.io/bjw-s-labs/helm/app-template", url))
        synthetic = git_work_tree(work / "synthetic-src", work / "synthetic", env)
        release = synthetic / "kubernetes/apps/ns000/app00000/app/helmrelease.yaml"
        measure(synthetic, release, env, "synthetic, 1000 apps, chart cached")


if __name__ == "__main__":
    main()
