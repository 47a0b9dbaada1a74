"""``homeops secrets``: create keys, encrypt, decrypt, edit, show, rotate SOPS secrets; list what the
vault must hold; check staged files before a commit."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ...errors import ExitCode

ACTIONS = {
    "init": "create an age key and a .sops.yaml fitted to the repository",
    "encrypt": "encrypt every *.sops.* file that is still plaintext (all or nothing)",
    "decrypt": "decrypt files in place (they become plaintext in your working tree)",
    "edit": "edit an encrypted file in $EDITOR; plaintext never lands in the repository",
    "show": "print a file decrypted",
    "status": "which files are encrypted, to whom, and whether .sops.yaml agrees",
    "rotate": "replace the age key: re-encrypt every file and update .sops.yaml, as one transaction",
    "needed": "list the vault items (1Password, …) the ExternalSecrets expect",
    "check-staged": "refuse staged plaintext Secrets and unencrypted *.sops.* files (pre-commit)",
}


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "secrets",
        help="create keys, encrypt, decrypt, edit, rotate SOPS secrets",
        description="SOPS secrets through the real sops binary, with age keys. Plaintext never touches "
        "the disk except when you ask for 'decrypt'. Exit codes: 0 ok, 1 findings (status, check-staged), "
        "2 usage, 3 failure, 4 sops or git missing.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    key = argparse.ArgumentParser(add_help=False)
    key.add_argument(
        "--age-key",
        metavar="FILE",
        help="age key file to use (default: $SOPS_AGE_KEY, $SOPS_AGE_KEY_FILE, then sops' keys.txt)",
    )
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--output", "-o", choices=("text", "json"), default="text", help="output format")

    def action(name: str, *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
        created: argparse.ArgumentParser = actions.add_parser(
            name, help=ACTIONS[name], description=ACTIONS[name], parents=list(parents)
        )
        return created

    p = action("init")
    p.add_argument("path", nargs="?", default=".", help="repository (default: .)")
    p.add_argument("--force", action="store_true", help="replace an existing .sops.yaml")
    p.add_argument(
        "--age-key",
        metavar="FILE",
        help="where to write the new key: outside the repository, or inside where Git ignores it "
        "(default: $SOPS_AGE_KEY_FILE, else sops' keys.txt); an existing file keeps its keys and gets "
        "the new one appended",
    )
    p = action("encrypt", key)
    p.add_argument("path", nargs="?", default=".", help="repository (default: .)")
    p = action("decrypt", key)
    p.add_argument("files", nargs="+", metavar="FILE")
    p = action("edit", key)
    p.add_argument("file", metavar="FILE")
    p = action("show", key)
    p.add_argument("file", metavar="FILE")
    p = action("status", key, output)
    p.add_argument("path", nargs="?", default=".", help="repository (default: .)")
    p = action("rotate", key)
    p.add_argument("path", nargs="?", default=".", help="repository (default: .)")
    p.add_argument(
        "--new-key-file", metavar="FILE", help="write the new key here (default: the current key file)"
    )
    p = action("needed", key, output)
    p.add_argument("path", nargs="?", default=".", help="repository (default: .)")
    p = action("check-staged", key, output)
    p.add_argument("path", nargs="?", default=".", help="Git repository (default: .)")


def run(args: argparse.Namespace) -> int:
    handler = {
        "init": _init,
        "encrypt": _encrypt,
        "decrypt": _decrypt,
        "edit": _edit,
        "show": _show,
        "status": _status,
        "rotate": _rotate,
        "needed": _needed,
        "check-staged": _check_staged,
    }[args.action]
    return handler(args)


def _note(message: str) -> None:
    print(message, file=sys.stderr)


def _init(args: argparse.Namespace) -> int:
    from ...secrets import ops

    result = ops.init(args.path, key_file=args.age_key, force=args.force)
    print(result.public_key)
    for warning in result.warnings:
        _note(f"warning: {warning}")
    verb = "added to the existing key file" if result.appended else "written to"
    _note(f"age key {verb} {result.key_file} (mode 0600): back it up somewhere safe")
    _note(f"wrote {result.sops_config} with {len(result.rules)} creation rule(s):")
    for regex in result.rules:
        _note(f"  {regex}")
    _note(
        "next: 'homeops secrets encrypt', and give Flux the key: "
        f"kubectl -n flux-system create secret generic sops-age --from-file=age.agekey={result.key_file}"
    )
    return int(ExitCode.OK)


def _encrypt(args: argparse.Namespace) -> int:
    from ...secrets import ops

    result = ops.encrypt(args.path)
    for rel in result.encrypted:
        print(f"encrypted {rel}")
    _note(f"{len(result.encrypted)} file(s) encrypted, {len(result.skipped)} already encrypted")
    return int(ExitCode.OK)


def _decrypt(args: argparse.Namespace) -> int:
    from ...secrets import ops

    root = ops.find_repo_root(args.files[0])
    result = ops.decrypt(root, args.files, age_key_file=args.age_key)
    for rel in result.decrypted:
        print(f"decrypted {rel}")
    for rel in result.skipped:
        _note(f"{rel}: not encrypted, left as it is")
    if result.decrypted:
        _note(
            "warning: these files are now plaintext in your working tree; do not commit them. "
            "Run 'homeops secrets encrypt' when done, or use 'homeops secrets edit' next time."
        )
    return int(ExitCode.OK)


def _edit(args: argparse.Namespace) -> int:
    from ...secrets import ops

    changed = ops.edit(args.file, age_key_file=args.age_key)
    _note(f"{args.file}: re-encrypted" if changed else f"{args.file}: unchanged")
    return int(ExitCode.OK)


def _show(args: argparse.Namespace) -> int:
    from ...secrets import ops

    plaintext = ops.show(args.file, age_key_file=args.age_key)
    sys.stdout.flush()
    sys.stdout.buffer.write(plaintext)
    sys.stdout.buffer.flush()
    return int(ExitCode.OK)


def _status(args: argparse.Namespace) -> int:
    from ...secrets import ops

    result = ops.status(args.path)
    if args.output == "json":
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(f"config: {result.config or 'none (no .sops.yaml)'}")
        for problem in result.config_problems:
            print(f"  problem: {problem}")
        for f in result.files:
            state = "encrypted" if f.encrypted else "PLAINTEXT"
            rule = f"rule {f.rule}" if f.rule else "no rule"
            to = f" to {', '.join(_short(r) for r in f.recipients)}" if f.recipients else ""
            flags = f"  [{', '.join(f.problems)}]" if f.problems else ""
            print(f"{state:9}  {f.path}  ({rule}){to}{flags}")
        if not result.files:
            print("no secret files")
    return int(ExitCode.OK if result.ok else ExitCode.FINDINGS)


def _rotate(args: argparse.Namespace) -> int:
    from ...secrets import ops

    result = ops.rotate(args.path, new_key_file=args.new_key_file, age_key_file=args.age_key)
    for rel in result.rotated:
        print(f"re-encrypted {rel}")
    others = f"; {len(result.skipped)} encrypted to other keys, left as they are" if result.skipped else ""
    _note(f"{len(result.rotated)} file(s) re-encrypted to the new key{others}")
    _note(f"new key {result.new_public_key} written to {result.key_file}; .sops.yaml updated")
    for rel in result.key_secrets:
        _note(f"{rel} held the old private key: it now holds the new one")
    _note(
        f"the old key ({result.old_public_key}) is still in its key file: keep it until the cluster's "
        "sops-age Secret holds the new key and Flux has reconciled, then delete its lines"
    )
    return int(ExitCode.OK)


def _needed(args: argparse.Namespace) -> int:
    from ...secrets.needed import by_store, needed

    secrets = needed(args.path)
    stores = by_store(secrets)
    if args.output == "json":
        document = {
            "version": 1,
            "external_secrets": [s.to_json() for s in secrets],
            "stores": [
                {
                    "kind": kind,
                    "name": name,
                    "items": [{"key": k, "fields": sorted(v)} for k, v in sorted(items.items())],
                }
                for (kind, name), items in sorted(stores.items())
            ],
        }
        print(json.dumps(document, indent=2))
        return int(ExitCode.OK)
    for (kind, name), items in sorted(stores.items()):
        print(f"{kind}/{name}: {len(items)} item(s)")
        for key, fields in sorted(items.items()):
            print(f"  {key}: {', '.join(sorted(fields)) if fields else '(all fields)'}")
    if secrets:
        print()
    for s in secrets:
        where = f"{s.namespace}/{s.name}" if s.namespace else s.name
        print(f"{s.path}:{s.line}  {s.kind} {where} -> Secret {s.target}  ({s.store_kind}/{s.store_name})")
        for item in s.items:
            listed = ", ".join(item.fields) if item.fields else "(all fields)"
            print(f"  {item.how} {item.key}: {listed}")
        if s.unattributed:
            print(f"  from any extracted item: {', '.join(s.unattributed)}")
        for note in s.notes:
            print(f"  note: {note}")
    if not secrets:
        _note("no ExternalSecret found")
    return int(ExitCode.OK)


def _check_staged(args: argparse.Namespace) -> int:
    from ...secrets.staged import check_staged

    problems = check_staged(args.path)
    if args.output == "json":
        print(
            json.dumps(
                {
                    "version": 1,
                    "problems": [
                        {"path": p.path, "line": p.line, "message": p.message, "fix": p.fix} for p in problems
                    ],
                },
                indent=2,
            )
        )
    else:
        for problem in problems:
            print(problem)
    if problems:
        _note(f"homeops: {len(problems)} staged file(s) would publish a secret; commit refused")
        return int(ExitCode.FINDINGS)
    return int(ExitCode.OK)


def _short(recipient: str) -> str:
    return f"{recipient[:12]}…{recipient[-6:]}" if len(recipient) > 24 else recipient
