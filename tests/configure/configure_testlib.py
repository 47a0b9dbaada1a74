"""Helpers for the configure tests: repo copies to render, an age key, a tree fingerprint."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

from leftovers import private_dirs

TESTDATA = Path(__file__).resolve().parents[1] / "testdata" / "configure"
PLUGIN = TESTDATA / "plugin" / "plugin.py"


def copy_repo(source: Path, target: Path) -> Path:
    """A writable copy (the corpus is read-only) without Git metadata."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".git"), symlinks=True)
    for path in [target, *target.rglob("*")]:
        if not path.is_symlink():
            mode = path.stat().st_mode
            path.chmod(stat.S_IMODE(mode) | stat.S_IWUSR | (stat.S_IXUSR if path.is_dir() else 0))
    return target


def install_inputs(repo: Path, inputs: Path) -> None:
    """Put the test's input values, side files and the makejinja plugin where the repo expects them."""
    for path in inputs.iterdir():
        shutil.copyfile(path, repo / path.name)
    (repo / "templates" / "scripts").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PLUGIN, repo / "templates" / "scripts" / "plugin.py")


def write_age_key(path: Path) -> str:
    """A fresh age identity in the age-keygen file format; returns its recipient."""
    import pyrage

    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    path.write_text(f"# created: 2025-01-01T00:00:00Z\n# public key: {recipient}\n{identity}\n")
    return recipient


def fingerprint(root: Path) -> dict[str, tuple[str, int]]:
    """Every file and folder under ``root``: content hash (or 'dir') and permissions."""
    found: dict[str, tuple[str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            path = Path(dirpath, name)
            found[path.relative_to(root).as_posix()] = ("dir", stat.S_IMODE(path.stat().st_mode))
        for name in filenames:
            path = Path(dirpath, name)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[path.relative_to(root).as_posix()] = (digest, stat.S_IMODE(path.stat().st_mode))
    return found


def scratch_dirs() -> set[str]:
    """The private temporary folders of configure (and of the sops calls it makes) that this test
    process made and that exist now."""
    return private_dirs(prefixes=("homeops-configure-", "homeops-sops-"))


MAKEJINJA_TOML = """\
[makejinja]
inputs = ["./templates"]
output = "./"
exclude_patterns = ["*.partial.yaml.j2"]
data = ["./values.yaml"]
jinja_suffix = ".j2"
copy_metadata = true
force = true
undefined = "{undefined}"

[makejinja.delimiter]
block_start = "#%"
block_end = "%#"
comment_start = "#|"
comment_end = "|#"
variable_start = "#{{"
variable_end = "}}#"
"""

APP = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: #{ app_name }#
spec:
  replicas: #{ replicas }#
"""

SECRET = """\
---
apiVersion: v1
kind: Secret
metadata:
  name: #{ app_name }#
stringData:
  password: "#{ secret_value }#"
"""

KUSTOMIZATION = """\
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
#% for name in resources %#
  - ./#{ name }#
#% endfor %#
"""


def make_mini_repo(root: Path, *, secret_value: str, undefined: str = "strict") -> Path:
    """A small makejinja repo: a Deployment, a SOPS secret and a kustomization, plus its age key."""
    root.mkdir(parents=True)
    (root / "makejinja.toml").write_text(MAKEJINJA_TOML.format(undefined=undefined))
    app = root / "templates" / "kubernetes" / "apps" / "demo"
    app.mkdir(parents=True)
    (app / "app.yaml.j2").write_text(APP)
    (app / "secret.sops.yaml.j2").write_text(SECRET)
    (app / "kustomization.yaml.j2").write_text(KUSTOMIZATION)
    recipient = write_age_key(root / "age.key")
    (root / ".sops.yaml").write_text(
        "creation_rules:\n"
        "  - path_regex: kubernetes/.*\\.sops\\.ya?ml\n"
        "    encrypted_regex: ^(data|stringData)$\n"
        f"    age: {recipient}\n"
    )
    write_values(root, replicas=2, secret_value=secret_value)
    return root


def write_values(root: Path, *, replicas: int, secret_value: str) -> None:
    (root / "values.yaml").write_text(
        "---\napp_name: demo\n"
        f"replicas: {replicas}\n"
        f'secret_value: "{secret_value}"\n'
        "resources: [app.yaml, secret.sops.yaml]\n"
    )


def files_containing(root: Path, needle: bytes) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            found.append(path.relative_to(root).as_posix())
    return found
