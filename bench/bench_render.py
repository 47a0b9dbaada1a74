"""`homeops build all` with cached charts, on synthetic repositories of 100, 1,000 and 5,000 apps.

Each app is app-template-like (``bench/genrepo.py``): a Flux Kustomization, a HelmRelease through a
per-app OCIRepository, an ExternalSecret. The chart is the test stand-in for app-template
(``tests/testdata/charts/apptpl``) pushed to a real registry on loopback (Debian's docker-registry)
and cached once; every build then runs ``--offline``. Times are wall-clock for the whole command in a
fresh process (bytecode cached, as an installed homeops has it), with and without the render cache;
ratios are per app against the smallest size measured in the same run.

    python bench/bench_render.py [SIZES]      # default 100,1000,5000
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from genrepo import generate  # noqa: E402

from services import oci_registry  # noqa: E402

APPTPL = HERE.parent / "tests" / "testdata" / "charts" / "apptpl"
UPSTREAM = "oci://ghcr.io/bjw-s-labs/helm/app-template"


def homeops(*args: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "homeops", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"homeops {' '.join(args)} failed ({done.returncode}):\n{done.stderr.decode()[-2000:]}"
        )
    return elapsed


def main() -> None:
    import helm_python

    from homeops.render.charts import ChartCache

    sizes = [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "100,1000,5000").split(",")]
    with tempfile.TemporaryDirectory(prefix="homeops-bench-render-") as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env |= {"HOMEOPS_CACHE_DIR": str(work / "cache"), "PYTHONPYCACHEPREFIX": str(work / "pyc"),
                "NO_COLOR": "1"}  # fmt: skip
        os.environ["HOMEOPS_CACHE_DIR"] = env["HOMEOPS_CACHE_DIR"]
        archive = Path(helm_python.package(APPTPL, destination=work / "dist", version="5.1.0"))
        with oci_registry(work / "registry") as registry:
            registry.push(archive, "bench/helm")
            url = registry.url("bench/helm/apptpl")
            ChartCache().oci(url, tag="5.1.0")  # the one chart every app uses, cached
        print(f"homeops build all --offline, cached chart ({os.cpu_count()} CPUs)")
        header = ("apps", "no render cache", "per app", "ratio", "render cache", "per app")
        print("{:>6} {:>16} {:>9} {:>6} {:>13} {:>9}".format(*header))
        baseline = None
        for size in sizes:
            repo = work / f"repo-{size}"
            generate(repo, size)
            for path in repo.rglob("ocirepository.yaml"):
                path.write_text(path.read_text().replace(UPSTREAM, url))
            # Warm the bytecode, parse and render caches first.
            homeops("build", "all", str(repo), "--offline", env=env)
            cold = homeops("build", "all", str(repo), "--offline", "--no-render-cache", env=env)
            warm = homeops("build", "all", str(repo), "--offline", env=env)
            per_app = cold / size
            baseline = baseline or per_app
            print(f"{size:>6} {cold:>15.2f}s {per_app * 1000:>7.2f}ms {per_app / baseline:>6.2f} "
                  f"{warm:>12.2f}s {warm / size * 1000:>7.2f}ms")  # fmt: skip


if __name__ == "__main__":
    main()
