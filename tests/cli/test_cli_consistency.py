"""The CLI behaves the same way everywhere: global flags in any position, exit codes that ``--debug``
does not change, ``-o json`` on every listing, unambiguous names for ``graph --impact``/``--why``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homeops.cli.main import main

TESTDATA = Path(__file__).resolve().parent.parent / "testdata"
FLAT = TESTDATA / "repos" / "flat"
CLUSTERS = TESTDATA / "repos" / "clusters"
WARNINGS = TESTDATA / "rules" / "IMG001" / "fail"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- global flags ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("--color", "always", "check", str(WARNINGS)),
        ("check", "--color", "always", str(WARNINGS)),
        ("check", str(WARNINGS), "--color", "always"),
        ("check", str(WARNINGS), "--color=always"),
    ],
)
def test_color_anywhere(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]) -> None:
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "\x1b[33mwarning\x1b[0m" in out


def test_color_after_the_command_wins_over_nothing_and_never_is_kept(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run(capsys, "--color", "never", "check", str(WARNINGS))
    assert "\x1b[" not in out and "IMG001 warning" in out
    _, out, _ = run(capsys, "--color", "always", "get", "ks", str(FLAT), "--color", "never")
    assert "\x1b[" not in out


@pytest.mark.parametrize("where", ["before", "after", "nested"])
def test_debug_anywhere_keeps_the_usage_exit_code_and_adds_the_traceback(
    capsys: pytest.CaptureFixture[str], where: str, tmp_path: Path
) -> None:
    missing = str(tmp_path / "nothing-here")
    argv = {
        "before": ["--debug", "check", missing],
        "after": ["check", missing, "--debug"],
        "nested": ["secrets", "status", missing, "--debug"],
    }[where]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "Traceback (most recent call last)" in err
    assert err.rstrip().splitlines()[-1].startswith("homeops: error: ")


def test_without_debug_no_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "check", str(tmp_path / "nothing-here"))
    assert code == 2 and "Traceback" not in err


def test_debug_with_a_bad_argument_is_still_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "--debug", "--no-such-option")
    assert code == 2 and "unrecognized arguments: --no-such-option" in err


def test_debug_on_an_internal_error_keeps_exit_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr("homeops.cli.commands.rules.run", broken)
    code, _, err = run(capsys, "rules", "--debug")
    assert code == 3
    assert "Traceback" in err and "RuntimeError: boom" in err and "internal error" in err
    code, _, err = run(capsys, "rules")
    assert code == 3 and "Traceback" not in err and "Run again with --debug" in err


# -- -o json on every listing ----------------------------------------------------------------------

LISTINGS = [
    ("check", str(FLAT)),
    ("get", "ks", str(FLAT)),
    ("get", "hr", str(FLAT)),
    ("get", "images", str(FLAT)),
    ("graph", str(FLAT)),
    ("graph", "--order", str(FLAT)),
    ("rules",),
    ("secrets", "status", str(FLAT)),
    ("secrets", "needed", str(FLAT)),
]


@pytest.mark.parametrize("argv", LISTINGS, ids=lambda a: " ".join(a[:2]))
def test_every_listing_has_o_json(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]) -> None:
    code, out, err = run(capsys, *argv, "-o", "json")
    assert code in (0, 1), err
    assert json.loads(out)


TABLES = [("get", "ks", str(FLAT)), ("get", "images", str(FLAT)), ("rules",), ("machines",)]


@pytest.mark.parametrize("argv", TABLES, ids=lambda a: " ".join(a[:2]))
def test_o_text_works_where_the_text_is_a_table(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    # every other command's human output is -o text: a table command takes that word too
    code, text, err = run(capsys, *argv, "-o", "text")
    assert code == 0, err
    assert run(capsys, *argv, "-o", "table")[1] == text


# -- --offline wherever the Flux tree is read --------------------------------------------------------

READERS = [
    ("check", str(FLAT), "--no-cache"),
    ("validate", str(FLAT)),
    ("graph", str(FLAT)),
    ("get", "ks", str(FLAT)),
    ("explain", str(FLAT / "kubernetes"), "--repo", str(FLAT)),
    ("simulate", str(FLAT)),
    ("report", str(FLAT), "-o", "REPORT"),
    ("build", "ks", str(FLAT)),
]


@pytest.mark.parametrize("argv", READERS, ids=lambda a: a[0])
def test_every_command_that_reads_the_tree_takes_offline(
    argv: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a remote kustomize base is fetched when the tree is read: --offline must reach that read
    import homeops.workspace

    seen: list[bool] = []
    real = homeops.workspace.open_workspace

    def recording(*args: object, **kwargs: object) -> object:
        seen.append(bool(kwargs.get("offline")))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(homeops.workspace, "open_workspace", recording)
    argv = tuple(str(tmp_path / "r.html") if a == "REPORT" else a for a in argv)
    code, _, err = run(capsys, *argv, "--offline")
    assert code in (0, 1), err
    assert seen == [True], seen


# -- graph --impact / --why with a name that is not unique ----------------------------------------


def test_a_name_in_two_clusters_is_ambiguous_and_says_how_to_choose(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "graph", str(CLUSTERS), "--impact", "cert-manager/cert-manager")
    assert code == 2 and out == ""
    assert "Kustomization/cert-manager/cert-manager in cluster main" in err
    assert "Kustomization/cert-manager/cert-manager in cluster staging" in err
    assert "--cluster main|staging" in err
    code, out, err = run(
        capsys, "graph", str(CLUSTERS), "--impact", "cert-manager/cert-manager", "--cluster", "staging"
    )
    assert code == 0, err
    assert out.splitlines()[:2] == [
        "[staging] blocks if it fails:",
        "Kustomization cert-manager/cert-manager",
    ]


def test_a_name_in_two_namespaces_is_ambiguous(capsys: pytest.CaptureFixture[str]) -> None:
    # "cilium" names the HelmRepository flux-system/cilium and the app's Kustomization and HelmRelease
    # in kube-system.
    code, _, err = run(capsys, "graph", str(CLUSTERS), "--cluster", "main", "--why", "cilium")
    assert code == 2
    assert "HelmRepository/flux-system/cilium in cluster main" in err
    assert "Kustomization/kube-system/cilium in cluster main" in err
    assert "NAMESPACE/NAME (flux-system/cilium, kube-system/cilium)" in err
    assert "--cluster" not in err


def test_an_apps_kustomization_and_helmrelease_take_the_kustomization_and_say_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "graph", str(CLUSTERS), "--cluster", "main", "--impact", "immich")
    assert code == 0
    assert out.splitlines()[1] == "Kustomization media/immich"
    assert "showing Kustomization/media/immich" in err and "also names HelmRelease/media/immich" in err


def test_a_closed_output_or_error_stream_gives_a_message_and_an_exit_code_not_a_traceback() -> None:
    # `homeops check >&-` (or a service manager that closes descriptors): Python starts with no
    # sys.stdout or sys.stderr. No answer can be written without stdout; without stderr only the
    # messages are lost.
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent / "testdata" / "rules" / "IMG001" / "pass"
    env = {**os.environ, "HOMEOPS_SERVER": "0"}
    for command in (["check", str(repo)], ["graph", str(repo)]):
        argv = [sys.executable, "-m", "homeops", *command]
        no_stdout = subprocess.run(
            argv, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            preexec_fn=lambda: os.close(1), timeout=120,
        )  # fmt: skip
        assert no_stdout.returncode == 3, no_stdout.stderr
        assert no_stdout.stderr.startswith("homeops: error: standard output is closed")
        assert "Traceback" not in no_stdout.stderr
        no_stderr = subprocess.run(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
            preexec_fn=lambda: os.close(2), timeout=120,
        )  # fmt: skip
        alone = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        assert (
            (no_stderr.returncode, no_stderr.stdout) == (alone.returncode, alone.stdout) == (0, alone.stdout)
        )
