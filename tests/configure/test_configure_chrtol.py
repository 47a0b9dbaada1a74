"""Reproduce Chrtol/home-cluster's committed rendered files from its templates.

The repo keeps ``templates/**/*.j2`` next to the rendered ``kubernetes/``, ``talos/`` and ``bootstrap/``
trees; its inputs (``cluster.yaml``, ``nodes.yaml``, side files) are git-ignored and its makejinja
plugin is not in the corpus. ``tests/testdata/configure/chrtol/`` holds inputs reconstructed from the
rendered files, ``tests/testdata/configure/plugin/plugin.py`` the plugin (filters ``basename``,
``nthhost``; functions ``age_key``, ``cloudflare_tunnel_id``, ``cloudflare_tunnel_secret``,
``github_deploy_key``, ``github_push_token``, ``talos_patches``; data defaults incl.
``spegel_enabled`` and ``cilium_bgp_enabled``). The repo's age key is not available, so encryption is
skipped here (secrets are compared as structure against the committed ciphertext instead).

Result: 85 plain outputs. 76 are byte-identical to the committed files; 2 are byte-identical to the
files at the place the owner moved them to (external-dns ``helmrelease.yaml``/``kustomization.yaml``
into ``external-dns/app/``); 1, ``talos/patches/README.md``, cannot be compared (the corpus keeps no
docs); exactly 6 differ, each because the owner edited the generated file by hand afterwards (rule 2
of the domain: "editing generated files directly loses changes on the next configure"):

* ``kubernetes/apps/default/kustomization.yaml``: ``./hajimari/ks.yaml`` added (an app with no template);
* ``kubernetes/apps/kube-system/kustomization.yaml``: five apps added (snapshot-controller, …);
* ``kubernetes/apps/kube-system/cilium/ks.yaml``: a ``cilium-crd`` Kustomization added;
* ``kubernetes/apps/network/external/ks.yaml``: external-dns split into ``app/`` and ``adguard-home/``;
* ``kubernetes/flux/meta/kustomization.yaml``: ``./helm`` and ``./oci`` added;
* ``talos/patches/controller/cluster.yaml``: ``externalCloudProvider`` (Proxmox CSI) added.

Of the 6 rendered secrets, 5 are in the repo; their structure (keys, and every value SOPS left in
clear text) equals the committed ciphertext's, except ``cluster-secrets.sops.yaml`` which has two keys
added by hand (``SECRET_TIMEZONE``, ``SECRET_DOMAIN_NAME``). The external-dns secret was moved too.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from configure_testlib import TESTDATA, copy_repo, install_inputs

from homeops.configure import ConfigureOptions, Status, Work, configure, default_steps, load_ledger
from homeops.configure.encrypt import EncryptStep

REPO = "Chrtol__home-cluster"
RECIPIENT = "age1am64psa3hmwqnc924p9vuphyp4txekclpsysx6fkqtktgzppgusqfah833"

EDITED_BY_HAND = {
    "kubernetes/apps/default/kustomization.yaml",
    "kubernetes/apps/kube-system/kustomization.yaml",
    "kubernetes/apps/kube-system/cilium/ks.yaml",
    "kubernetes/apps/network/external/ks.yaml",
    "kubernetes/flux/meta/kustomization.yaml",
    "talos/patches/controller/cluster.yaml",
}
MOVED_BY_HAND = {
    "kubernetes/apps/network/external/external-dns/helmrelease.yaml": "external-dns/app/helmrelease.yaml",
    "kubernetes/apps/network/external/external-dns/kustomization.yaml": "external-dns/app/kustomization.yaml",
}
NOT_IN_CORPUS = {"talos/patches/README.md"}


@pytest.fixture
def chrtol(corpus: Path, tmp_path: Path) -> Path:
    repo = copy_repo(corpus / REPO, tmp_path / "repo")
    install_inputs(repo, TESTDATA / "chrtol")
    # Only the public half is knowable; the private half feeds an encrypted file we cannot compare.
    (repo / "age.key").write_text(f"# public key: {RECIPIENT}\nAGE-SECRET-KEY-1NOTTHEREALKEYNOTTHEREALKEY\n")
    return repo


@pytest.mark.corpus
def test_reproduces_the_committed_rendered_files(chrtol: Path, corpus: Path) -> None:
    committed = corpus / REPO
    result = configure(chrtol, ConfigureOptions(encrypt=False))
    plain = [f.path for f in result.files if f.status is not Status.SKIPPED]
    assert len(plain) == 85

    identical, different, absent = [], set(), set()
    for rel in plain:
        original = committed / rel
        if not original.exists():
            absent.add(rel)
        elif original.read_bytes() == (chrtol / rel).read_bytes():
            identical.append(rel)
        else:
            different.add(rel)
    assert different == EDITED_BY_HAND
    assert absent == set(MOVED_BY_HAND) | NOT_IN_CORPUS
    assert len(identical) == 85 - 6 - 3
    for rel, moved in MOVED_BY_HAND.items():
        where = committed / "kubernetes/apps/network/external" / moved
        assert where.read_bytes() == (chrtol / rel).read_bytes()

    # The rendered .sops.yaml names the repo's real recipient (from the plugin's age_key()).
    assert RECIPIENT in (chrtol / ".sops.yaml").read_text()
    # Secrets were never written in plaintext.
    skipped = {f.path for f in result.files if f.status is Status.SKIPPED}
    assert skipped and all(".sops." in p for p in skipped)
    for rel in skipped:
        target = chrtol / rel
        assert not target.exists() or b"ENC[AES256_GCM" in target.read_bytes()


def _leaves(data: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    if isinstance(data, dict):
        return {k: v for key, value in data.items() for k, v in _leaves(value, (*path, key)).items()}
    if isinstance(data, list):
        return {k: v for i, value in enumerate(data) for k, v in _leaves(value, (*path, i)).items()}
    return {path: data}


class _Capture:
    """A step that keeps the rendered plaintext of the secrets (the test plays the encrypt step)."""

    name = "capture"

    def __init__(self) -> None:
        self.secrets: dict[str, bytes] = {}

    def run(self, work: Work) -> None:
        for rel, output in work.outputs.items():
            if output.secret:
                self.secrets[rel] = (work.rendered_dir / rel).read_bytes()


@pytest.mark.corpus
def test_rendered_secrets_match_the_committed_ciphertext_structure(chrtol: Path, corpus: Path) -> None:
    capture = _Capture()
    steps = [s for s in default_steps(chrtol) if not isinstance(s, EncryptStep)] + [capture]
    configure(chrtol, ConfigureOptions(dry_run=True), steps=steps)
    assert len(capture.secrets) == 6

    extra_keys: dict[str, set[tuple[Any, ...]]] = {}
    for rel, plaintext in sorted(capture.secrets.items()):
        committed = corpus / REPO / rel
        if not committed.exists():
            assert rel == "kubernetes/apps/network/external/external-dns/secret.sops.yaml"
            continue
        encrypted = [d for d in yaml.safe_load_all(committed.read_bytes()) if d]
        for doc in encrypted:
            doc.pop("sops")
        ours = _leaves([d for d in yaml.safe_load_all(plaintext) if d])
        theirs = _leaves(encrypted)
        assert set(ours) <= set(theirs), rel
        extra_keys[rel] = set(theirs) - set(ours)
        for key, value in ours.items():
            if isinstance(theirs[key], str) and theirs[key].startswith("ENC["):
                continue
            assert theirs[key] == value, (rel, key)
    assert extra_keys.pop("kubernetes/components/common/cluster-secrets.sops.yaml") == {
        (0, "stringData", "SECRET_TIMEZONE"),
        (0, "stringData", "SECRET_DOMAIN_NAME"),
    }
    assert all(not keys for keys in extra_keys.values())

    # AES-GCM keeps the length: the reconstructed domain has the length of the committed one.
    committed = (corpus / REPO / "kubernetes/components/common/cluster-secrets.sops.yaml").read_text()
    data = re.search(r"SECRET_DOMAIN: ENC\[AES256_GCM,data:([^,]*),", committed)
    assert data is not None
    assert len(base64.b64decode(data.group(1))) == len("cftollefsen.com")


@pytest.mark.corpus
def test_ledger_maps_outputs_back_to_templates(chrtol: Path) -> None:
    configure(chrtol, ConfigureOptions(encrypt=False))
    ledger = load_ledger(chrtol)
    assert ledger is not None
    talconfig = "talos/talconfig.yaml"
    assert ledger.source_of(talconfig) == "templates/config/talos/talconfig.yaml.j2"
    template = (chrtol / "templates/config/talos/talconfig.yaml.j2").read_text().splitlines()
    output = (chrtol / talconfig).read_text().splitlines()
    # The third node's hardware address: a #{ }# line inside a for loop.
    line = next(i for i, text in enumerate(output, 1) if "bc:24:11:c5:fc:46" in text)
    source, tline = ledger.template_line(talconfig, line) or ("", 0)
    assert source == "templates/config/talos/talconfig.yaml.j2"
    assert template[tline - 1].strip() == 'hardwareAddr: "#{ item.mac_addr | lower }#"'
    # Fixed text after an #% if %# ... #% else %# block.
    line = output.index("# Global patches") + 1
    assert template[ledger.template_line(talconfig, line)[1] - 1] == "# Global patches"  # type: ignore[index]
    assert ledger.template_line(talconfig, len(output) + 5) is None
    assert ledger.template_line("kubernetes/not-generated.yaml", 1) is None

    assert ledger.edited_by_hand(chrtol) == []
    hand = chrtol / "kubernetes/apps/default/kustomization.yaml"
    hand.write_text(hand.read_text() + "  - ./hajimari/ks.yaml\n")
    assert ledger.edited_by_hand(chrtol) == ["kubernetes/apps/default/kustomization.yaml"]
