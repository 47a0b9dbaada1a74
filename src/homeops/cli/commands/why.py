"""``homeops why KIND/NAMESPACE/NAME [PATH]``: the chain from an object to its root cause, and what next."""

from __future__ import annotations

import argparse
import sys

from ...errors import ExitCode, UsageError
from .status import add_source_options, open_from_args

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ...doctor.scenarios import Context
    from ...doctor.view import Ref

#: Short names kubectl and flux users type, and lower-case kinds.
ALIASES = {
    "ks": "Kustomization",
    "hr": "HelmRelease",
    "es": "ExternalSecret",
    "css": "ClusterSecretStore",
    "ss": "SecretStore",
    "pvc": "PersistentVolumeClaim",
    "svc": "Service",
    "po": "Pod",
    "deploy": "Deployment",
    "sts": "StatefulSet",
    "ds": "DaemonSet",
    "gitrepo": "GitRepository",
    "ocirepo": "OCIRepository",
    "helmrepo": "HelmRepository",
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "why",
        help="why an object is not healthy: its chain down to the root cause, and what happens next",
        description="Walk from an object down what it waits on (dependsOn, sources, valuesFrom, Secrets and "
        "their ExternalSecrets and stores, pods, claims, routes) to the deepest object that is not healthy; "
        "print each hop with its evidence, then the next automatic retry or why nothing will retry.",
        epilog=(
            "Exit codes: 0 the object is healthy, 1 it is not, 2 usage error, 3 the cluster could not "
            "be read."
        ),
    )
    parser.add_argument(
        "object", metavar="KIND/NAMESPACE/NAME", help="e.g. helmrelease/media/immich, ks/flux-system/apps"
    )
    parser.add_argument("path", nargs="?", default=".", help="repository folder (default: .)")
    parser.add_argument("--output", "-o", choices=("text", "json"), default="text", help="output format")
    add_source_options(parser)


def run(args: argparse.Namespace) -> int:
    from ...doctor.report import why_json, why_text
    from ...report.style import Style

    ctx = open_from_args(args)
    ref = _resolve(args.object, ctx)
    found = ctx.explainer.why(ref)
    if args.output == "json":
        sys.stdout.write(why_json(found))
    else:
        sys.stdout.write(why_text(found, Style.for_stream(sys.stdout, args.color)))
    return int(ExitCode.OK if found.next is None else ExitCode.FINDINGS)


def _resolve(text: str, ctx: Context) -> Ref:
    import difflib

    from ...doctor.view import CLUSTER_SCOPED, Ref

    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise UsageError(
            f"{text!r} is not KIND/NAMESPACE/NAME",
            hint="e.g. helmrelease/default/echo, or clustersecretstore/onepassword",
        )
    known = {r.kind for r in ctx.view.objects} | ({r.kind for r in ctx.repo.objects} if ctx.repo else set())
    kind = ALIASES.get(parts[0].lower()) or next((k for k in known if k.lower() == parts[0].lower()), None)
    if kind is None:
        raise UsageError(f"unknown kind {parts[0]!r}", hint=f"kinds here: {', '.join(sorted(known))}")
    namespace, name = ("", parts[1]) if len(parts) == 2 else (parts[1], parts[2])
    if kind in CLUSTER_SCOPED:
        namespace = ""
    ref = Ref(kind, namespace, name)
    if ctx.view.get(ref) is None and not (ctx.repo and ref in ctx.repo.objects):
        names = [str(r) for r in ctx.view.objects if r.kind == kind]
        close = difflib.get_close_matches(str(ref), names, n=3)
        raise UsageError(
            f"no {kind} {namespace + '/' if namespace else ''}{name} in the cluster or the repository",
            hint=f"did you mean {', '.join(close)}?" if close else "'homeops status' lists the objects",
        )
    return ref
