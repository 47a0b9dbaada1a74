"""The encryption step: every rendered ``*.sops.*`` output becomes SOPS ciphertext before it can be written.

Encryption goes through :func:`homeops.secrets.sops.encrypt` (the real sops binary, stdin/stdout).
The creation rules are the freshly rendered ``.sops.yaml`` when the templates produce one
(cluster-template does), else the repo's.

A secret whose file in the repo already decrypts to the same data, and is encrypted to the
recipients the rules name, keeps its current ciphertext, so configure does not rewrite every secret
on every run. The key is whatever sops finds, or the repo's
``age.key`` as cluster-template's Taskfile sets it; without a key the secret is encrypted anew. The
plaintext is read from the private render tree and replaced there by the ciphertext at once.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Any

from ..errors import HomeopsError, Where
from . import linemap
from .model import EncryptionFailed, Output, Work


class EncryptStep:
    name = "encrypt"

    def run(self, work: Work) -> None:
        secrets = sorted(p for p, o in work.outputs.items() if o.secret and p not in work.skipped)
        if not secrets:
            return
        if not work.options.encrypt:
            for path in secrets:
                work.skipped[path] = "not encrypted (--no-encrypt): a secret is never written in plaintext"
                _shred(work.rendered_dir / path)
            return
        rules = work.rendered_dir / ".sops.yaml"
        if not rules.is_file():
            repo_rules = work.repo_root / ".sops.yaml"
            if not repo_rules.is_file():
                raise EncryptionFailed(
                    f"{len(secrets)} rendered secret(s) to encrypt but no .sops.yaml creation rules",
                    where=Where(secrets[0]),
                    hint="add .sops.yaml (or its template), or use --no-encrypt to leave secrets unwritten",
                )
            shutil.copyfile(repo_rules, rules)
        for path in secrets:
            work.outputs[path] = self._one(work, work.outputs[path])

    def _one(self, work: Work, output: Output) -> Output:
        from ..journal import confine
        from ..secrets import sops

        staged = work.rendered_dir / output.path
        plaintext = staged.read_bytes()
        existing = confine(work.repo_root, output.path)  # never read (or decrypt) through a symlink out
        if existing.is_file():
            current = existing.read_bytes()
            if _still_valid(current, output.path, work) and _same_data(plaintext, current, output.path, work):
                return self._done(staged, output, plaintext, current)
        try:
            ciphertext = sops.encrypt(plaintext, filename=output.path, repo_root=work.rendered_dir)
        except HomeopsError as exc:
            raise EncryptionFailed(
                f"cannot encrypt {output.path}: {exc.message}",
                where=Where(output.source),
                hint=exc.hint or "check .sops.yaml and that sops is installed",
            ) from exc
        return self._done(staged, output, plaintext, ciphertext)

    @staticmethod
    def _done(staged: Path, output: Output, plaintext: bytes, ciphertext: bytes) -> Output:
        _shred(staged)
        staged.write_bytes(ciphertext)
        lines = linemap.realign(
            plaintext.decode("utf-8", "replace"), list(output.lines), ciphertext.decode("utf-8", "replace")
        )
        return dataclasses.replace(output, content=ciphertext, lines=tuple(lines))


def _shred(path: Path) -> None:
    """Overwrite then remove a plaintext file of the render tree."""
    try:
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.write(b"\0" * size)
        path.unlink()
    except OSError:
        pass


def _still_valid(ciphertext: bytes, filename: str, work: Work) -> bool:
    """Whether the repo's file is encrypted to exactly the recipients the creation rules now name."""
    from ..secrets import sops
    from ..secrets.config import load_sops_config

    if not sops.is_encrypted(ciphertext, filename):
        return False
    try:
        config = load_sops_config(work.rendered_dir)
    except HomeopsError:
        return False
    rule = config.rule_for(filename) if config is not None else None
    return rule is not None and set(sops.recipients_of(ciphertext, filename)) == set(rule.recipients)


def _same_data(plaintext: bytes, ciphertext: bytes, filename: str, work: Work) -> bool:
    """Whether the repo's encrypted file holds the same data as the rendered plaintext."""
    from ..secrets import sops

    key_file = work.repo_root / "age.key"
    age_key = None
    if not (os.environ.get("SOPS_AGE_KEY_FILE") or os.environ.get("SOPS_AGE_KEY")) and key_file.is_file():
        age_key = key_file.read_text(encoding="utf-8", errors="replace")
    try:
        decrypted = sops.decrypt(ciphertext, filename=filename, repo_root=work.repo_root, age_key=age_key)
    except HomeopsError:
        return False
    return bool(_structure(plaintext, filename) == _structure(decrypted, filename))


def _structure(data: bytes, filename: str) -> Any:
    import yaml

    try:
        if filename.endswith((".yaml", ".yml")):
            return [d for d in yaml.safe_load_all(data) if d is not None]
        if filename.endswith(".json"):
            return json.loads(data)
    except (yaml.YAMLError, ValueError):
        pass
    return data.strip()
