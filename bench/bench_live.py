# ruff: noqa: E501
"""How fast ``homeops status`` and ``homeops doctor`` read a snapshot of a busy cluster.

A generated snapshot of 150 Flux objects (70 Kustomizations, 70 HelmReleases and their sources, the
test repository's shapes from tests/doctor/cluster_states.py) and 500 pods with their workloads, some
failing, against the test repository. The baseline, measured in the same run, is a fresh Python
process that only parses the snapshot JSON; the target is under 1 s per command, whatever the machine.

    python bench/bench_live.py [--runs N] [--pods N]
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "doctor"))

import cluster_states  # noqa: E402


def build(pods: int, releases: int = 70) -> dict[str, object]:
    items = cluster_states.vault_chain(cluster_states.healthy())
    template = [
        o
        for o in cluster_states.healthy()
        if o["kind"] in ("Kustomization", "HelmRelease", "Deployment", "Pod")
    ]
    ks = next(o for o in template if o["kind"] == "Kustomization" and o["metadata"]["name"] == "web")
    hr = next(o for o in template if o["kind"] == "HelmRelease" and o["metadata"]["name"] == "web")
    deploy = next(o for o in template if o["kind"] == "Deployment" and o["metadata"]["name"] == "web")
    per_release = max(-(-pods // releases), 1)
    for i in range(releases):
        name = f"app{i}"
        k = copy.deepcopy(ks)
        k["metadata"].update(name=name, uid=f"ks-{i}")
        h = copy.deepcopy(hr)
        h["metadata"].update(name=name, uid=f"hr-{i}")
        h["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] = name
        d = copy.deepcopy(deploy)
        d["metadata"].update(name=name, uid=f"deploy-{i}")
        d["metadata"]["labels"]["helm.toolkit.fluxcd.io/name"] = name
        d["spec"]["selector"]["matchLabels"] = {"app.kubernetes.io/instance": name}
        items += [k, h, d]
        for j in range(per_release):
            pod = cluster_states.pod_of(d, f"x{j}")
            if i % 10 == 0 and j == 0:  # a few failing, as in a real cluster
                pod["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
            items.append(pod)
    return cluster_states.snapshot(items)


def timed(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pods", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(ROOT / "tests" / "testdata" / "live" / "repo", repo)
        snapshot = Path(tmp) / "snapshot.json"
        data = build(args.pods)
        snapshot.write_text(json.dumps(data))
        items = data["items"]
        assert isinstance(items, list)
        flux = sum(
            1
            for o in items
            if o["kind"] in ("Kustomization", "HelmRelease", "OCIRepository", "GitRepository")
        )
        pods = sum(1 for o in items if o["kind"] == "Pod")
        python = sys.executable
        homeops = [python, "-m", "homeops"]
        baseline = timed([python, "-c", f"import json; json.load(open({str(snapshot)!r}))"], args.runs)
        print(
            f"snapshot: {flux} Flux objects, {pods} pods, {len(items)} objects ({snapshot.stat().st_size // 1024} KiB)"
        )
        print(f"baseline (python + json.load): {baseline:.3f} s")
        for command in ("status", "doctor"):
            took = timed(
                [*homeops, command, str(repo), "--from", str(snapshot), "--output", "json"], args.runs
            )
            print(
                f"{command}: {took:.3f} s ({took / baseline:.1f}x the baseline; target < 1 s: {'met' if took < 1 else 'NOT met'})"
            )


if __name__ == "__main__":
    main()
