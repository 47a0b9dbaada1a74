"""``homeops add app NAME``: write an app in the repository's own layout and conventions."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any

from ...errors import ExitCode, UsageError

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class Intermixed(argparse.ArgumentParser):
    """A parser whose positionals may come after options (``add app NAME -n media PATH``)."""

    _inside = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._inside:
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "add",
        help="add an app to the repository, in its own layout and conventions",
        description="Add things to a repository the way its other apps are written.",
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True, parser_class=Intermixed)
    app = kinds.add_parser(
        "app",
        help="the app triad: Flux Kustomization + app/ (HelmRelease, ExternalSecret, claim) + db/",
        description="Write an app as the repository's other apps are written (file names, anchors, "
        "postBuild APP, chart source, gateways, secret store, storage class), with dependsOn on what it "
        "uses, and wire it into the parent kustomization.yaml (comments and order kept). Nothing is "
        "written if any step fails.",
        epilog="Exit codes: 0 ok, 2 usage (bad name, app exists, unknown layout), 3 failure.",
    )
    app.add_argument("name", metavar="NAME", help="app name (a DNS-1123 label)")
    app.add_argument("path", nargs="?", default=".", metavar="PATH", help="repository (default: .)")
    app.add_argument("--namespace", "-n", help="namespace (flat and clusters layouts)")
    app.add_argument(
        "--route",
        choices=("internal", "external", "none"),
        default="internal",
        help="expose through the internal or external Gateway (default: internal)",
    )
    app.add_argument(
        "--storage",
        choices=("pvc", "nfs", "none"),
        default="none",
        help="a claim for /config, the repository's NFS share at /media, or nothing",
    )
    secret = app.add_mutually_exclusive_group()
    secret.add_argument(
        "--secret", metavar="ITEM", help="vault item the ExternalSecret reads (default: NAME)"
    )
    secret.add_argument("--no-secret", action="store_true", help="no ExternalSecret")
    app.add_argument(
        "--database",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="a CloudNativePG database in db/ (DATABASE_URL from its app secret)",
    )
    app.add_argument(
        "--image",
        metavar="REPO:TAG[@DIGEST]",
        help="container image (default: the example image, it-tools); without a digest the "
        "tag is marked '# homeops: pin digest'",
    )
    app.add_argument("--port", type=int, help="HTTP port of the container (default: 8080)")
    app.add_argument("--cluster", help="cluster to add the app to (repositories with several)")
    app.add_argument("--env", help="layered repositories: environment the app starts in (default: staging)")
    app.add_argument(
        "--storage-class", help="storage class for the claim and database (default: the repository's)"
    )


def _image(text: str | None) -> Any:
    from ...model.values import ImageRef
    from ...scaffold.catalog import EXAMPLE_IMAGE

    if text is None:
        return EXAMPLE_IMAGE
    image = ImageRef.parse(text)
    if not image.repository or " " in text:
        raise UsageError(f"{text!r} is not an image reference", hint="use REPO:TAG or REPO:TAG@sha256:DIGEST")
    if image.digest is not None and not _DIGEST.match(image.digest):
        raise UsageError(
            f"{image.digest!r} is not a sha256 digest", hint="a digest is sha256: and 64 hex digits"
        )
    return image


def run(args: argparse.Namespace) -> int:
    import difflib

    from ...scaffold.add import add_app
    from ...scaffold.app import AppOptions
    from ...scaffold.catalog import EXAMPLE_PORT

    options = AppOptions(
        name=args.name,
        namespace=args.namespace,
        route=args.route,
        storage=args.storage,
        secret=None if args.no_secret else (args.secret or args.name),
        database=args.database,
        image=_image(args.image),
        port=args.port if args.port is not None else EXAMPLE_PORT,
        environment=args.env,
        storage_class=args.storage_class,
    )
    result = add_app(args.path, options, cluster=args.cluster)
    for rel in result.created:
        print(f"created {rel}")
    for rel in result.changed:
        after = _read(args.path, rel)
        sys.stdout.writelines(
            difflib.unified_diff(
                result.before[rel].splitlines(keepends=True),
                after.splitlines(keepends=True),
                fromfile=f"a/{rel}",
                tofile=f"b/{rel}",
            )
        )
    layout = result.conventions.layout
    print(
        f"added app {args.name!r} ({layout} layout, cluster {result.conventions.cluster}): "
        f"{', '.join(result.plan.kustomizations)} in {result.plan.entry}",
        file=sys.stderr,
    )
    for note in result.plan.notes:
        print(f"  todo: {note}", file=sys.stderr)
    return int(ExitCode.OK)


def _read(root: str, rel: str) -> str:
    from pathlib import Path

    return (Path(root) / rel).read_text(encoding="utf-8")
