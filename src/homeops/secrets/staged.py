"""The pre-commit check: refuse a commit that would publish a secret.

It reads what is *staged* (the blobs in Git's index, not the working tree, which may differ) and
reports three things: a ``*.sops.*`` file that is not encrypted, a Kubernetes Secret whose
``data``/``stringData`` hold plaintext values, and a kustomize ``secretGenerator`` that builds a Secret
from plaintext literals, env files or files (as staged). Values are never shown, only key names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import proc
from ..errors import UsageError
from ..kustomize.kfile import KUSTOMIZATION_FILES
from ..load import yamlio
from ..load.tree import TEMPLATE_SUFFIXES
from ..model.base import get_path
from .generators import FIX as GENERATOR_FIX
from .generators import exposures, is_placeholder
from .naming import is_sops_file
from .sops import is_encrypted, parse_documents

_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
_ENCRYPT_FIX = "run 'homeops secrets encrypt', then 'git add' the file again"


@dataclass(frozen=True, slots=True)
class StagedProblem:
    path: str
    """Path relative to the top of the Git work tree."""
    line: int
    message: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}\n  fix: {self.fix}"


def check_staged(repo: str | Path = ".") -> list[StagedProblem]:
    """Problems in the files staged for the next commit of the Git repository at ``repo``."""
    top = git_toplevel(repo)
    listing = proc.run(
        ["git", "diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR"],
        cwd=top,
        what="git diff --cached",
    )
    paths = [p for p in listing.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
    wanted = [p for p in paths if _worth_reading(p)]
    problems: list[StagedProblem] = []
    staged = read_staged(top, wanted)
    for rel, data in staged.items():
        problems.extend(check_blob(rel, data))
    kustomizations = [p for p in paths if p.rsplit("/", 1)[-1] in KUSTOMIZATION_FILES]
    for rel, data in read_staged(top, kustomizations).items():
        problems.extend(_generator_problems(top, rel, data))
    return problems


def _generator_problems(top: Path, rel: str, data: bytes) -> list[StagedProblem]:
    """Plaintext ``secretGenerator`` sources of a staged kustomization (sources read as staged)."""
    if b"secretGenerator" not in data:
        return []
    parsed = yamlio.parse(data)
    if parsed.failure is not None:
        return []
    folder = rel.rsplit("/", 1)[0] if "/" in rel else ""

    def read(path: str) -> bytes | None:
        return read_staged(top, [path]).get(path)

    problems = []
    nodes = yamlio.compose(yamlio.decode(data), tags=False)
    for index, doc in enumerate(parsed.documents):
        for exposure in exposures(doc, folder, read):
            line = yamlio.locate(nodes[index], exposure.field) if index < len(nodes) else 0
            problems.append(StagedProblem(rel, line, exposure.message, GENERATOR_FIX))
    return problems


def check_blob(rel: str, data: bytes) -> list[StagedProblem]:
    """Problems of one file's content, as it would be committed."""
    if rel.endswith(TEMPLATE_SUFFIXES):
        return []
    problems: list[StagedProblem] = []
    if is_sops_file(rel) and not is_encrypted(data, rel):
        problems.append(StagedProblem(rel, 0, "is named *.sops.* but is not SOPS-encrypted", _ENCRYPT_FIX))
        return problems
    if not rel.endswith(_MANIFEST_SUFFIXES):
        return problems
    text = data.decode("utf-8", "replace")
    if "Secret" not in text:
        return problems
    parsed = yamlio.parse(data)
    lines = parsed.lines if parsed.failure is None else ()
    documents = parsed.documents if parsed.failure is None else parse_documents(text)
    for index, doc in enumerate(documents):
        exposed = plaintext_secret_keys(doc)
        if exposed:
            name = get_path(doc, "metadata", "name") or "?"
            namespace = get_path(doc, "metadata", "namespace")
            shown = f"{namespace}/{name}" if namespace else str(name)
            fix = (
                "encrypt it: name the file *.sops.yaml and " + _ENCRYPT_FIX
                if not is_sops_file(rel)
                else "its creation rule leaves these values in plaintext: fix encrypted_regex in .sops.yaml, "
                "then re-encrypt the file"
            )
            problems.append(
                StagedProblem(
                    rel,
                    lines[index] if index < len(lines) else 0,
                    f"Secret {shown} holds plaintext values ({', '.join(exposed)})",
                    fix + "; or keep the values in your vault and use an ExternalSecret",
                )
            )
    return problems


def plaintext_secret_keys(doc: Any) -> list[str]:
    """``data.KEY``/``stringData.KEY`` of a Kubernetes Secret whose values are plaintext.

    Encrypted values (``ENC[…]``), Flux substitutions (``${VAR}``, filled in from another Secret at
    apply time) and secret-manager references (``op://…``) are not secrets in the file: the same
    judgement as rule SEC001.
    """
    if not isinstance(doc, dict) or doc.get("kind") != "Secret" or doc.get("apiVersion") != "v1":
        return []
    exposed = []
    for section in ("data", "stringData"):
        values = doc.get(section)
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            if value is None or value == "":
                continue
            text = str(value)
            if text.startswith("ENC[") or "${" in text or is_placeholder(text):
                continue
            exposed.append(f"{section}.{key}")
    return exposed


def git_toplevel(repo: str | Path) -> Path:
    result = proc.run(
        ["git", "rev-parse", "--show-toplevel"],
        cwd=repo,
        check=False,
        what="git rev-parse",
    )
    if result.returncode != 0:
        raise UsageError(f"{repo} is not inside a Git work tree", hint="run it from your repository")
    return Path(result.text.strip())


def read_staged(top: Path, paths: list[str]) -> dict[str, bytes]:
    """The staged content of each path (one ``git cat-file --batch`` for all of them)."""
    contents: dict[str, bytes] = {}
    batchable = [p for p in paths if "\n" not in p]
    if batchable:
        request = "".join(f":{p}\n" for p in batchable).encode("utf-8", "surrogateescape")
        out = proc.run(["git", "cat-file", "--batch"], cwd=top, input=request, what="git cat-file").stdout
        pos = 0
        for rel in batchable:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) == 3 and header[1] == b"blob":
                size = int(header[2])
                contents[rel] = out[pos : pos + size]
                pos += size + 1
            elif len(header) == 3:
                pos += int(header[2]) + 1  # a submodule or other object: skip its content
    for rel in paths:
        if rel not in batchable:
            contents[rel] = proc.run(["git", "show", f":{rel}"], cwd=top, what="git show").stdout
    return contents


def _worth_reading(rel: str) -> bool:
    return is_sops_file(rel) or rel.endswith(_MANIFEST_SUFFIXES)
