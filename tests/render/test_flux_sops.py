"""SOPS round trip while rendering: a key generated here, the real sops binary, nothing decrypted shown or
stored unless asked.

The secrets hold what charts mangle when they print a value (quotes, ``<``, backslashes, a newline, a
number, a three-character value), and a test chart prints them in every way templates do: quoted,
base64, JSON, YAML, upper-cased, inside ``fail``. Each secret carries a distinctive core, so a leak
shows whatever escaping or encoding the chart applied around it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from render_testlib import REPO, cli, copy_repo, documents

from homeops.secrets import keys
from homeops.secrets.sops import encrypt
from services import GitRemote, git_remote

SECRET_FILE = "kubernetes/apps/demo/echo/app/secret.sops.yaml"
CLUSTER_SECRET_FILE = "kubernetes/flux/apps/cluster-secrets.sops.yaml"
CHART_TEMPLATE = "charts/echo/templates/leaks.yaml"


def secrets(version: int) -> dict[str, str | int]:
    """The decrypted values of one revision: each holds a core that no escaping changes."""
    return {
        "password": f'p"w<Qx7Zk9Lm{version}>\\ok',
        "apiKey": f"Ak9Rt2Wq{version}",
        "pin": 482139 + version,
        "short": f"z~{version}",
        "multiline": f"Line1-Hv3Np{version}\nLine2-Jc8Ty{version}",
        "greeting": f"Sb4Gx8Pe{version}",
    }


def cores(version: int) -> list[str]:
    return [f"Qx7Zk9Lm{version}", f"Ak9Rt2Wq{version}", str(482139 + version), f"z~{version}",
            f"Hv3Np{version}", f"Jc8Ty{version}", f"Sb4Gx8Pe{version}"]  # fmt: skip


def leaks(text: str, version: int) -> list[str]:
    """Every secret of ``version`` found in ``text``: its core in any case, or the base64 of its value."""
    found = [core for core in cores(version) if core.lower() in text.lower()]
    for value in secrets(version).values():
        encoded = base64.b64encode(str(value).encode()).decode()
        if encoded.rstrip("=") in text:
            found.append(f"base64 of {value!r}")
    return found


LEAKS_TEMPLATE = """\
{{- if .Values.auth }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-leaks
  annotations:
    checksum/auth: {{ .Values.auth | toJson | sha256sum }}
data:
  quoted: {{ .Values.auth.password | quote }}
  b64: {{ .Values.auth.password | b64enc }}
  short: {{ .Values.auth.short | quote }}
  pin: {{ .Values.auth.pin | quote }}
  multiline: {{ .Values.auth.multiline | quote }}
  upper: {{ .Values.auth.apiKey | default "" | upper | quote }}
  joined: {{ printf "%s:%s" .Values.auth.apiKey .Values.auth.password | quote }}
  greeting: {{ .Values.greeting | quote }}
  yaml: |
    {{- toYaml .Values.auth | nindent 4 }}
{{- if .Values.failWithSecret }}
{{ fail (printf "refusing %s and %v" .Values.auth.password .Values.auth.pin) }}
{{- end }}
{{- end }}
"""


def write_secrets(root: Path, version: int) -> None:
    """The two SOPS files of a revision: echo's values and the cluster's substitution variables."""
    values = secrets(version)
    doc = yaml.safe_dump({"auth": {"apiKey": values["apiKey"], "pin": values["pin"]}})
    echo = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "echo-secret"},
        "stringData": {
            "password": values["password"],
            "short": values["short"],
            "multiline": values["multiline"],
            "values.yaml": doc,
        },
    }
    cluster = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "cluster-secrets", "namespace": "flux-system"},
        "data": {"SECRET_GREETING": base64.b64encode(str(values["greeting"]).encode()).decode()},
    }
    for rel, obj in ((SECRET_FILE, echo), (CLUSTER_SECRET_FILE, cluster)):
        (root / rel).write_bytes(encrypt(yaml.safe_dump(obj).encode(), filename=rel, repo_root=root))


def prepare(root: Path, public: str) -> None:
    """The fixture repository wired to two SOPS Secrets: echo's ``valuesFrom`` and the cluster's
    ``substituteFrom``; the echo chart prints the values in every way a template can."""
    (root / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: .*\\.sops\\.yaml\n    encrypted_regex: ^(data|stringData)$\n"
        f"    age: {public}\n"
    )
    (root / CHART_TEMPLATE).write_text(LEAKS_TEMPLATE)
    app = root / "kubernetes/apps/demo/echo/app"
    edit(app / "kustomization.yaml", "  - ./secret.yaml\n", "  - ./secret.yaml\n  - ./secret.sops.yaml\n")
    edit(
        app / "helmrelease.yaml",
        "    - kind: Secret\n      name: echo-optional\n",
        "    - kind: Secret\n      name: echo-secret\n"
        + "".join(
            f"    - kind: Secret\n      name: echo-secret\n"
            f"      valuesKey: {key}\n      targetPath: auth.{key}\n"
            for key in ("password", "short", "multiline")
        )
        + "    - kind: Secret\n      name: echo-optional\n",
    )
    edit(root / "kubernetes/apps/demo/echo/ks.yaml", "GREETING: hello", "GREETING: ${SECRET_GREETING}")
    # tools reads no secret itself: a substituted one is all that makes its render sensitive.
    edit(root / "kubernetes/apps/demo/tools/ks.yaml", 'TOOLS_TAG: "3.1"', "TOOLS_TAG: ${SECRET_GREETING}")
    edit(
        root / "kubernetes/flux/apps/apps.yaml",
        "      CLUSTER_NAME: main\n",
        "      CLUSTER_NAME: main\n"
        "    substituteFrom:\n      - kind: Secret\n        name: cluster-secrets\n",
    )
    write_secrets(root, 1)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


@pytest.fixture(autouse=True)
def _sops_environment(isolated_env: None) -> None:
    """No key of the person running the tests may leak in."""


@pytest.fixture
def key(tmp_path: Path) -> tuple[str, Path]:
    public, private = keys.generate_age_key()
    key_file = tmp_path / "keys.txt"
    keys.write_key(key_file, public, private)
    return public, key_file


@pytest.fixture
def repo(tmp_path: Path, key: tuple[str, Path]) -> tuple[Path, Path]:
    """The fixture repository with SOPS values; and the key file."""
    root = copy_repo(tmp_path)
    prepare(root, key[0])
    return root, key[1]


def rendered(out: str, name: str) -> dict[str, str]:
    config = next(d for d in documents(out) if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name)
    return dict(config["data"])


STAND_IN = re.compile(r"<redacted #[0-9a-f]{12}>")


@pytest.mark.parametrize("output", ["yaml", "json"])
def test_decrypted_values_never_reach_the_output_unless_asked(
    repo: tuple[Path, Path], capsys: pytest.CaptureFixture[str], output: str
) -> None:
    root, key_file = repo
    code, out, err = cli(capsys, "build", "all", str(root), "--age-key", str(key_file), "-o", output)
    assert code == 0, err
    assert leaks(out + err, 1) == []
    items = json.loads(out)["items"] if output == "json" else documents(out)
    data = next(i for i in items if i["metadata"]["name"] == "echo-leaks")["data"]
    # Every place a value is printed shows a stand-in, the same one for the same value.
    assert STAND_IN.fullmatch(data["quoted"]) and STAND_IN.fullmatch(data["short"])
    assert STAND_IN.fullmatch(data["pin"]) and STAND_IN.fullmatch(data["multiline"])
    assert data["joined"] == f"{data['upper'].lower()}:{data['quoted']}"
    assert STAND_IN.search(data["greeting"]) and data["yaml"].count("<redacted #") == 5
    values = json.loads(rendered(out, "echo-rendered")["values.json"]) if output == "yaml" else None
    if values is not None:
        assert values["auth"]["password"] == data["quoted"]
        assert values["greeting"].startswith(data["greeting"].split(" from ")[0])


def test_with_show_secrets_the_real_values_are_rendered(
    repo: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, key_file = repo
    code, out, err = cli(
        capsys, "build", "hr", "echo", str(root), "--age-key", str(key_file), "--show-secrets"
    )
    assert code == 0, err
    data = rendered(out, "echo-leaks")
    values = secrets(1)
    # targetPath goes through Helm's --set parser, for which a backslash escapes the next character.
    assert data["quoted"] == str(values["password"]).replace("\\", "") and data["pin"] == str(values["pin"])
    assert data["multiline"] == values["multiline"] and data["short"] == values["short"]
    assert data["greeting"].startswith(str(values["greeting"]))
    assert "placeholders" not in err
    code, out, _ = cli(capsys, "build", "ks", "echo", str(root), "--age-key", str(key_file), "--show-secrets")
    secret = next(d for d in documents(out) if d["metadata"]["name"] == "echo-secret")
    assert secret["stringData"]["password"] == values["password"] and "sops" not in secret


def test_the_key_can_come_from_the_environment(
    repo: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, key_file = repo
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file))
    code, out, _ = cli(capsys, "build", "hr", "echo", str(root), "--show-secrets")
    assert code == 0 and rendered(out, "echo-leaks")["upper"] == str(secrets(1)["apiKey"]).upper()


def test_an_explicit_age_key_wins_over_the_environment(
    repo: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # The right key is in the environment, a wrong one is named with --age-key: sops must not fall back.
    root, key_file = repo
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file))
    other = tmp_path / "other.key"
    other.write_text(keys.generate_age_key()[1] + "\n")
    code, out, err = cli(capsys, "build", "hr", "echo", str(root), "--age-key", str(other), "--show-secrets")
    assert leaks(out + err, 1) == []
    assert code != 0 or "placeholders" in err


def test_a_template_error_shows_no_decrypted_value(
    repo: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, key_file = repo
    edit(root / "kubernetes/apps/demo/echo/app/helmrelease.yaml", "  values:\n",
         "  values:\n    failWithSecret: true\n")  # fmt: skip
    code, out, err = cli(capsys, "build", "hr", "echo", str(root), "--age-key", str(key_file))
    assert code == 3
    assert "refusing <redacted #" in err
    assert leaks(out + err, 1) == []


def test_without_a_key_placeholders_are_marked(
    repo: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = repo
    code, out, err = cli(capsys, "build", "hr", "echo", str(root), "--show-secrets")
    assert code == 0, err
    values = json.loads(rendered(out, "echo-rendered")["values.json"])
    assert values["auth"]["password"].startswith("<sops-encrypted #")  # targetPath: a marked placeholder
    assert "apiKey" not in values["auth"]  # an encrypted document cannot be merged
    assert "HelmRelease/demo/echo: rendered with placeholders:" in err
    assert "Secret demo/echo-secret key 'password': SOPS-encrypted and no age key was given" in err


def encrypt_whole(root: Path, public: str) -> None:
    """The SOPS files encrypted without ``encrypted_regex``: kind, name and namespace too."""
    (root / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: .*\\.sops\\.yaml\n    age: {public}\n"
    )
    write_secrets(root, 1)
    assert "kind: ENC[" in (root / SECRET_FILE).read_text()


def test_a_document_encrypted_whole_is_applied_as_what_it_decrypts_to(
    repo: tuple[Path, Path], key: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """kustomize-controller decrypts every SOPS document after the build: the Secret keeps its kind and
    name (not stand-ins, they are no secret value) and feeds echo's ``valuesFrom``."""
    root, key_file = repo
    encrypt_whole(root, key[0])
    code, out, err = cli(capsys, "build", "ks", "echo", str(root), "--age-key", str(key_file))
    assert code == 0, err
    secret = next(d for d in documents(out) if d["metadata"]["name"] == "echo-secret")
    assert (secret["apiVersion"], secret["kind"]) == ("v1", "Secret")
    assert secret["stringData"]["password"].startswith("<redacted")
    assert leaks(out + err, 1) == []
    code, out, err = cli(capsys, "build", "hr", "echo", str(root), "--age-key", str(key_file))
    assert code == 0, err
    assert STAND_IN.fullmatch(rendered(out, "echo-leaks")["quoted"])
    assert leaks(out + err, 1) == []


def test_without_a_key_a_document_encrypted_whole_may_be_the_values_secret(
    repo: tuple[Path, Path], key: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = repo
    encrypt_whole(root, key[0])
    code, out, err = cli(capsys, "build", "hr", "echo", str(root))
    assert code == 0, err
    values = json.loads(rendered(out, "echo-rendered")["values.json"])
    assert values["auth"]["password"].startswith("<sops-encrypted #")
    assert f"Secret demo/echo-secret key 'password': may be {SECRET_FILE}, SOPS-encrypted whole" in err


def test_nothing_decrypted_reaches_a_file(
    repo: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root, key_file = repo
    for extra in ((), ("--show-secrets",)):
        for what in ("ks", "hr", "all"):
            assert cli(capsys, "build", what, str(root), "--age-key", str(key_file), *extra)[0] == 0
    for place in (tmp_path, Path(os.environ["HOMEOPS_CACHE_DIR"])):
        for path in place.rglob("*"):
            if path.is_file() and path != key_file:
                assert leaks(path.read_bytes().decode("utf-8", "replace"), 1) == [], path


# -- diff ------------------------------------------------------------------------------------------------


@pytest.fixture
def remote(tmp_path: Path, key: tuple[str, Path]) -> Iterator[GitRemote]:
    """A Git repository whose last commit rotates every secret of the one before."""
    with git_remote(tmp_path / "git") as git:
        shutil.copytree(REPO, git.work, dirs_exist_ok=True)
        prepare(git.work, key[0])
        git.commit({}, "version 1")
        write_secrets(git.work, 2)
        yield git


@pytest.mark.parametrize("output", ["text", "unified", "markdown", "json", "html"])
def test_diff_shows_that_secrets_changed_never_what_they_were_or_became(
    remote: GitRemote, key: tuple[str, Path], capsys: pytest.CaptureFixture[str], output: str
) -> None:
    code, out, err = cli(capsys, "diff", str(remote.work), "--base", "HEAD", "--age-key", str(key[1]),
                         "-o", output)  # fmt: skip
    assert code == 1, err
    assert leaks(out + err, 1) == [] and leaks(out + err, 2) == []
    assert "echo-leaks" in out and "echo-secret" in out
    if output == "json":
        fields = {
            f["path"] for c in json.loads(out)["changes"] if c["name"] == "echo-leaks" for f in c["fields"]
        }
        assert {"data.quoted", "data.pin", "data.short", "data.greeting"} <= fields


def test_diff_with_show_secrets_shows_both_values(
    remote: GitRemote, key: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "diff", str(remote.work), "--base", "HEAD", "--age-key", str(key[1]),
                       "-o", "json", "--show-secrets")  # fmt: skip
    assert code == 1
    change = next(c for c in json.loads(out)["changes"] if c["name"] == "echo-leaks")
    quoted = next(f for f in change["fields"] if f["path"] == "data.quoted")
    assert "Qx7Zk9Lm1" in quoted["before"] and "Qx7Zk9Lm2" in quoted["after"]


def test_a_stand_in_is_not_validated_against_the_chart_schema(
    repo: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The schema sees a stand-in, not the secret: a violation there is a warning, not an error; with the
    secrets shown it is validated for real."""
    root, key_file = repo
    schema = {"properties": {"auth": {"properties": {"password": {"type": "string", "pattern": "^[a-z]+$"}}}}}
    (root / "charts/echo/values.schema.json").write_text(json.dumps(schema))
    code, out, err = cli(capsys, "build", "hr", "echo", str(root), "--age-key", str(key_file))
    assert code == 0, err
    assert "values.auth.password holds a stand-in for a SOPS-encrypted value and was not validated" in err
    assert leaks(out + err, 1) == []
    code, _, err = cli(capsys, "build", "hr", "echo", str(root), "--age-key", str(key_file), "--show-secrets")
    assert code == 3 and "values.auth.password" in err and "does not match '^[a-z]+$'" in err
