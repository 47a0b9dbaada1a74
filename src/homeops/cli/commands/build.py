"""``homeops build ks|hr|all [NAME] [PATH]``: print what Flux would apply, rendered.

``ks`` prints each Flux Kustomization's objects as kustomize-controller applies them (HelmReleases stay
HelmRelease objects); ``hr`` renders each HelmRelease's chart as helm-controller installs it; ``all``
prints both. Every object carries the annotation ``homeops.dev/producer`` (and ``homeops.dev/cluster``).
Secret values are redacted and decrypted SOPS values rendered as stand-ins unless ``--show-secrets``.
Producers that fail, and what could not be checked (warnings), are listed on stderr.

Exit codes: 0 everything rendered, 3 some producer failed to render (the others are still printed),
2 usage error (no producer of that name, bad path).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from ...errors import ExitCode, UsageError


def add_render_options(parser: argparse.ArgumentParser) -> None:
    """Options ``build`` and ``diff`` share."""
    parser.add_argument(
        "--offline", action="store_true", help="use only the chart and remote-base caches, never the network"
    )
    parser.add_argument(
        "--age-key",
        metavar="FILE",
        help="age key file to decrypt SOPS secrets (default: SOPS_AGE_KEY, "
        "SOPS_AGE_KEY_FILE, then sops' default key file; without a key encrypted values "
        "render as placeholders)",
    )
    parser.add_argument(
        "--show-secrets",
        action="store_true",
        help="show Secret values instead of <redacted>, and render with the decrypted SOPS values "
        "instead of stand-ins (<redacted #digest>, equal for equal values)",
    )
    parser.add_argument(
        "--kube-version",
        metavar="V",
        help="Kubernetes version charts see (default: kubernetes-version in .homeops.yaml, else 1.33.0)",
    )
    parser.add_argument(
        "--api-versions",
        metavar="LIST",
        default="",
        help="extra API versions charts see, comma-separated (group/version[/Kind]); the "
        "cluster's own CRDs are always included",
    )
    parser.add_argument(
        "--no-render-cache",
        action="store_true",
        help="render every HelmRelease again instead of reusing identical earlier renders",
    )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "build",
        help="render what Flux would apply",
        description="Render what Flux would apply: Kustomizations as kustomize-controller builds them, "
        "HelmReleases as helm-controller renders their charts.",
        epilog="A single argument that names an existing folder is the PATH, anything else the NAME "
        "(a producer's name or namespace/name). Exit codes: 0 all rendered, 3 some producer failed "
        "(listed on stderr; the others are printed), 2 usage error.",
    )
    parser.add_argument(
        "what",
        choices=("ks", "hr", "all"),
        help="ks: Flux Kustomizations; hr: rendered HelmReleases; all: both",
    )
    parser.add_argument("args", nargs="*", metavar="[NAME] [PATH]", help="producer name, repository folder")
    parser.add_argument("--output", "-o", choices=("yaml", "json"), default="yaml")
    parser.add_argument("--cluster", help="only this cluster")
    add_render_options(parser)


def split_name_path(args: Sequence[str]) -> tuple[str | None, str]:
    if len(args) > 2:
        raise UsageError("too many arguments", hint="homeops build ks|hr|all [NAME] [PATH]")
    if len(args) == 2:
        return args[0], args[1]
    if len(args) == 1:
        return (None, args[0]) if os.path.isdir(args[0]) else (args[0], ".")
    return None, "."


def render_options(args: argparse.Namespace, kubernetes_version: str | None) -> Any:
    from ...render.flux import DEFAULT_KUBE_VERSION, RenderOptions
    from ...render.secrets import age_key_material

    return RenderOptions(
        offline=args.offline,
        age_key=age_key_material(args.age_key),
        age_key_only=bool(args.age_key),
        show_secrets=args.show_secrets,
        kube_version=args.kube_version or kubernetes_version or DEFAULT_KUBE_VERSION,
        api_versions=tuple(v.strip() for v in args.api_versions.split(",") if v.strip()),
        render_cache=not args.no_render_cache,
    )


def matches(producer: str, name: str) -> bool:
    _, namespace, short = producer.split("/", 2) if producer.count("/") >= 2 else ("", "", producer)
    return name in (short, f"{namespace}/{short}", producer)


def report_problems(results: Sequence[Any], stream: TextIO) -> int:
    """Failures, skips and placeholders on ``stream``; returns the number of failures."""
    failed = [r for r in results if r.error is not None]
    for r in results:
        where = f"[{r.cluster}] " if r.cluster != "default" else ""
        if r.error is not None:
            print(f"homeops: {where}{r.producer}: failed: {r.error}", file=stream)
        elif r.skipped is not None:
            print(f"homeops: {where}{r.producer}: not rendered: {r.skipped}", file=stream)
        if r.error is None and r.placeholders:
            print(f"homeops: {where}{r.producer}: rendered with placeholders:", file=stream)
            for text in r.placeholders:
                print(f"  {text}", file=stream)
    report_warnings(results, stream)
    hints = sorted({r.hint for r in failed if r.hint})
    for hint in hints:
        print(f"  hint: {hint}", file=stream)
    if failed:
        print(f"homeops: {len(failed)} of {len(results)} producers failed to render", file=stream)
    return len(failed)


def report_warnings(results: Sequence[Any], stream: TextIO) -> None:
    """What was rendered without being checked, each warning once with the producers it concerns."""
    seen: dict[str, list[str]] = {}
    for r in results:
        for text in getattr(r, "warnings", ()):
            producers = seen.setdefault(text, [])
            if r.producer not in producers:
                producers.append(r.producer)
    for text, producers in seen.items():
        more = f" and {len(producers) - 3} more" if len(producers) > 3 else ""
        print(f"homeops: warning: {text} ({', '.join(producers[:3])}{more})", file=stream)


def run(args: argparse.Namespace) -> int:
    from ...render.flux import FolderFiles, decryptor_for, releases_of, render
    from ...render.secrets import REDACTED, redact, scrub
    from ...render.snapshot import Snapshot
    from ...report.style import progress_bar
    from ...workspace import open_workspace
    from ...yamlout import dump_all

    name, path = split_name_path(args.args)
    workspace = open_workspace(path, offline=args.offline)  # remote kustomize bases too
    options = render_options(args, workspace.config.kubernetes_version)
    files = FolderFiles(workspace.root)
    decryptor = decryptor_for(files, options)
    if decryptor.enabled:
        # substituteFrom sees the values of SOPS Secrets (stand-ins unless shown), in memory only.
        workspace.secret_values = decryptor.secret_values
    snapshot = Snapshot.of(workspace.flux)
    if args.cluster and args.cluster not in snapshot.clusters:
        known = ", ".join(sorted(snapshot.clusters)) or "none"
        raise UsageError(f"no cluster named {args.cluster!r}", hint=f"clusters: {known}")
    ks_keys = [
        k for k in snapshot.entries
        if args.what in ("ks", "all") and (not args.cluster or k[0] == args.cluster)
        and (name is None or matches(str(k[1]), name))
    ]  # fmt: skip
    hr_keys = [
        k for k in releases_of(snapshot)
        if args.what in ("hr", "all") and (not args.cluster or k[0] == args.cluster)
        and (name is None or matches(str(k[1]), name))
    ]  # fmt: skip
    if name is not None and not ks_keys and not hr_keys:
        raise UsageError(
            f"no {_what(args.what)} named {name!r}", hint="'homeops get ks' and 'homeops get hr' list them"
        )
    results = render(snapshot, files, kustomizations=ks_keys, releases=hr_keys, options=options,
                     progress=progress_bar(sys.stderr), decryptor=decryptor)  # fmt: skip
    objects = [obj for r in results for obj in r.objects]
    if not args.show_secrets:
        sensitive = decryptor.sensitive()
        objects = [scrub(redact(obj), sensitive, lambda _s: REDACTED) for obj in objects]
    if args.output == "json":
        sys.stdout.write(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}, indent=2,
                                    default=str) + "\n")  # fmt: skip
    else:
        sys.stdout.write(dump_all(objects))
    failed = report_problems(results, sys.stderr)
    return int(ExitCode.FAILURE if failed else ExitCode.OK)


def _what(what: str) -> str:
    return {"ks": "Kustomization", "hr": "HelmRelease"}.get(what, "Kustomization or HelmRelease")
