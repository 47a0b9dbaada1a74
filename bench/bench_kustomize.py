"""Native kustomize builds against ``kubectl kustomize``, per folder, on the largest corpus repository.

Builds every folder that has a kustomization file, first natively (cold: parsing included; warm:
files already parsed, as in one ``homeops check`` run), then with ``kubectl kustomize`` one process
per folder, and prints the ratio. Run: ``python bench/bench_kustomize.py [REPO]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from homeops.errors import HomeopsError
from homeops.kustomize import build
from homeops.load.tree import SourceTree
from homeops.proc import which

CORPUS = Path(os.environ.get("HOMEOPS_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def folders(tree: SourceTree) -> list[str]:
    found = set()
    for rel in tree.files():
        folder, _, name = rel.rpartition("/")
        if name in NAMES:
            found.add(folder)
    return sorted(found)


def native(tree: SourceTree, dirs: list[str]) -> tuple[float, int, int]:
    start = time.perf_counter()
    objects = fallbacks = 0
    for rel in dirs:
        try:
            result = build(tree, rel, flux=True)
        except HomeopsError:
            continue  # kubectl fails on these folders too; the time still counts
        objects += len(result.resources)
        fallbacks += result.fallback is not None
    return time.perf_counter() - start, objects, fallbacks


def kubectl(root: Path, dirs: list[str]) -> float:
    exe = which("kubectl")
    start = time.perf_counter()
    for rel in dirs:
        subprocess.run(
            [exe, "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(root / rel)],
            capture_output=True,
            check=False,
        )
    return time.perf_counter() - start


def main() -> int:
    repo = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS / "bjw-s-labs__home-ops"
    if not repo.is_dir():
        print(f"no repository at {repo} (set HOMEOPS_CORPUS)", file=sys.stderr)
        return 2
    dirs = folders(SourceTree(repo))
    cold_tree = SourceTree(repo)
    cold, objects, fallbacks = native(cold_tree, dirs)
    warm, _, _ = native(cold_tree, dirs)
    reference = kubectl(repo, dirs)
    print(f"repository: {repo.name}: {len(dirs)} folders with a kustomization file, {objects} objects")
    for label, seconds in (
        ("native, cold (parsing included)", cold),
        ("native, warm (files parsed once)", warm),
        ("kubectl kustomize, one per folder", reference),
    ):
        print(f"{label:34} {seconds * 1000:8.1f} ms  ({seconds / len(dirs) * 1000:.2f} ms/folder)")
    print(f"fallbacks to kubectl: {fallbacks}")
    print(f"speed-up: {reference / cold:.0f}x cold, {reference / warm:.0f}x warm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
