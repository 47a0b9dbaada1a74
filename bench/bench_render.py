"""`homeops build all` with cached charts, on synthetic repositories of 100, 1,000 and 5,000 apps.

Each app is app-template-like (``bench/genrepo.py``): a Flux Kustomization, a HelmRelease through a
per-app OCIRepository, an ExternalSecret. The chart is the test stand-in for app-template
(``tests/testdata/charts/apptpl``) pushed to a real registry on loopback (Debian's docker-registry)
and cached once; every build then runs ``--offline``. Times are wall-clock for the whole command in a
fresh process (bytecode cached, as an installed homeops has it), with and without the render cache;
ratios are per app against the smallest size measured in the same run.

Then the same 100 apps on the real bjw-s app-template 4.1.1 (common vendored, from ../shared/charts or
HOMEOPS_CHARTS), its schema references in the cache as after one online run, against the stand-in in
the same run: the default build (render cache warm) and a cold one (every release rendered through
Helm and its values validated against the schemas).

    python bench/bench_render.py [SIZES]      # default 100,1000,5000
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

APPTPL = HERE.parent / "tests" / "testdata" / "charts" / "apptpl"
UPSTREAM = "oci://ghcr.io/bjw-s-labs/helm/app-template"
SHARED = Path(os.environ.get("HOMEOPS_CHARTS", HERE.parents[1] / "shared" / "charts"))
SCHEMAS = "https://raw.githubusercontent.com/bjw-s-labs/helm-charts/common-4.1.1/charts/library/common/"
RUNS = 3


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
        compare(work, env)


def compare(work: Path, env: dict[str, str]) -> None:
    """100 apps on the stand-in chart and on the real app-template, in the same run."""
    import helm_python

    from homeops.render.charts import ChartCache
    from homeops.render.charts.store import ChartStore

    if not (SHARED / "app-template-4.1.1").is_dir():
        print(f"(no real charts at {SHARED}: app-template comparison skipped)")
        return
    real = work / "real" / "app-template"
    shutil.copytree(SHARED / "app-template-4.1.1", real)
    shutil.copytree(SHARED / "common-4.1.1", real / "charts" / "common")
    # The schema documents as one online run leaves them in the cache.
    store = ChartStore(Path(env["HOMEOPS_CACHE_DIR"]) / "charts" / "schemas", suffix=".json")
    common = SHARED / "common-4.1.1"
    for path in [common / "values.schema.json", *(common / "schemas").iterdir()]:
        relative = path.relative_to(common).as_posix()
        store.put("schema-url", (SCHEMAS + relative,), {"blob": store.put_blob(path.read_bytes())})
    standin = Path(helm_python.package(APPTPL, destination=work / "cmp-dist", version="5.1.0"))
    template = Path(helm_python.package(real, destination=work / "real-dist", version="5.1.0"))
    # (label, chart, validate): the last row isolates what validating against the schemas costs.
    cases = [("stand-in (apptpl)", standin, True), ("app-template 4.1.1", template, True),
             ("  not validated", template, False)]  # fmt: skip
    rows = []
    with oci_registry(work / "cmp-registry") as registry:
        for number, (label, archive, validate) in enumerate(cases):
            repository = f"case{number}"
            registry.push(archive, repository)
            url = registry.url(f"{repository}/{archive.name.rsplit('-', 1)[0]}")
            ChartCache().oci(url, tag="5.1.0")
            repo = work / f"cmp-{repository}"
            generate(repo, 100)
            for path in repo.rglob("ocirepository.yaml"):
                path.write_text(path.read_text().replace(UPSTREAM, url))
            for path in repo.rglob("helmrelease.yaml"):  # app-template's schema requires an accessMode
                text = path.read_text().replace(
                    "size: 1Gi\n", "size: 1Gi\n        accessMode: ReadWriteOnce\n"
                )
                if not validate:
                    text = text.replace("  install:\n", "  install:\n    disableSchemaValidation: true\n")
                path.write_text(text)
            homeops("build", "all", str(repo), "--offline", env=env)  # warm the caches
            warm = median(["build", "all", str(repo), "--offline"], env)
            cold = median(["build", "all", str(repo), "--offline", "--no-render-cache"], env)
            rows.append((label, warm, cold))
    base_warm, base_cold = rows[0][1], rows[0][2]
    print("\nhomeops build all --offline, 100 apps, the stand-in chart against the real app-template")
    print("{:>20} {:>14} {:>6} {:>20} {:>6}".format("chart", "default", "ratio", "no render cache", "ratio"))
    for label, warm, cold in rows:
        print(f"{label:>20} {warm:>13.2f}s {warm / base_warm:>6.2f} {cold:>19.2f}s {cold / base_cold:>6.2f}")


def median(args: list[str], env: dict[str, str]) -> float:
    return statistics.median(homeops(*args, env=env) for _ in range(RUNS))


if __name__ == "__main__":
    main()
