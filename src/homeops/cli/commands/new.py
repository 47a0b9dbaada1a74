"""``homeops new DIR --layout flat|clusters|layered``: a complete homelab repository, written at once."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ...errors import ExitCode


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "new",
        help="create a new homelab repository in one of the standard layouts",
        description="Write a complete Flux homelab repository in one of the seeds' layouts: the bootstrap "
        "order as dependsOn chains (cilium → coredns → spegel → cert-manager → external-secrets with a "
        "1Password store → cloudnative-pg → envoy gateways → apps), cluster settings, and an example app. "
        "The result passes 'homeops check' with no finding. Nothing is written if any step fails.",
        epilog="Secrets: with an age recipient (--age-recipient, --age-key, or the single key of sops' "
        "own key file) SECRET_DOMAIN and SECRET_ACME_EMAIL are encrypted with sops into "
        "cluster-secrets.sops.yaml; without one nothing is encrypted and they go into the settings "
        "ConfigMap, marked (they are not credentials). Exit codes: 0 ok, 2 usage (folder not empty, bad "
        "option), 3 failure, 4 sops missing.",
    )
    parser.add_argument("dir", metavar="DIR", help="folder to create (must be empty unless --force)")
    parser.add_argument(
        "--layout",
        required=True,
        choices=("flat", "clusters", "layered"),
        help="flat: kubernetes/apps/<ns>/<app>; clusters: kubernetes/main + "
        "kubernetes/staging; layered: clusters/home + infrastructure + platform-services "
        "+ tenants",
    )
    parser.add_argument("--domain", default="example.com", help="SECRET_DOMAIN (default: example.com)")
    parser.add_argument("--email", help="ACME account e-mail, SECRET_ACME_EMAIL (default: admin@DOMAIN)")
    parser.add_argument("--timezone", default="Etc/UTC", help="TIMEZONE setting (default: Etc/UTC)")
    parser.add_argument(
        "--git-url",
        default="https://github.com/example/home-ops",
        help="URL Flux pulls this repository from (clusters and layered layouts)",
    )
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument(
        "--age-recipient", metavar="AGE1…", help="age public key to encrypt the cluster secrets to"
    )
    keys.add_argument("--age-key", metavar="FILE", help="age key file whose (single) key to encrypt to")
    keys.add_argument(
        "--no-encrypt", action="store_true", help="do not look for an age key; write nothing encrypted"
    )
    parser.add_argument("--force", action="store_true", help="write into a folder that is not empty")


def run(args: argparse.Namespace) -> int:
    from ...scaffold.create import NewOptions, create_repo, find_recipient

    recipient = None if args.no_encrypt else find_recipient(args.age_recipient, args.age_key)
    options = NewOptions(
        layout=args.layout,
        domain=args.domain,
        email=args.email,
        timezone=args.timezone,
        git_url=args.git_url,
        age_recipient=recipient,
        force=args.force,
    )
    result = create_repo(args.dir, options)
    note = sys.stderr
    print(f"wrote a {args.layout} repository to {result.root} ({len(result.files)} files)", file=note)
    if result.recipient:
        print(f"encrypted {', '.join(result.encrypted)} to {result.recipient}", file=note)
    else:
        print(
            "no age key: nothing encrypted; SECRET_DOMAIN and SECRET_ACME_EMAIL are in the settings "
            "ConfigMap (see README.md)",
            file=note,
        )
    print("next: read README.md, then 'homeops check " + args.dir + "'", file=note)
    return int(ExitCode.OK)
