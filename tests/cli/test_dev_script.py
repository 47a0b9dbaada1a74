"""``./dev test`` says which Debian packages it installs as root, and why, before it asks for sudo."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("docker-registry", "git", "openssl", "ca-certificates")


def executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of ``dev`` and ``.ci/services.sh`` with a PATH that lacks openssl, a user that is not
    root, a ``sudo`` that only records what it was asked, and a venv whose pytest does nothing."""
    work = tmp_path / "work"
    (work / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / "dev", work / "dev")
    shutil.copy(ROOT / ".ci" / "services.sh", work / ".ci" / "services.sh")
    venv = work / ".venv" / "bin"
    venv.mkdir(parents=True)
    executable(venv / "python", "#!/bin/sh\necho pytest ran >&2\n")
    (work / ".venv" / ".homeops-installed").touch()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", "sh", "git"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    executable(bin_dir / "id", "#!/bin/sh\necho 1000\n")
    executable(bin_dir / "sudo", '#!/bin/sh\necho "sudo $*" >&2\n')
    return work


def test_dev_says_what_it_installs_before_sudo(checkout: Path) -> None:
    env = {"PATH": str(checkout.parent / "bin"), "HOME": str(checkout.parent)}
    done = subprocess.run(
        ["/bin/bash", str(checkout / "dev"), "test"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("dev: installing Debian packages as root: ")
    assert all(package in lines[0] for package in PACKAGES)
    assert "OCI registry" in lines[0]  # why
    assert lines[1] == "sudo sh .ci/services.sh --described"
    assert lines[2] == "pytest ran"


def test_services_script_describes_itself_in_one_line() -> None:
    done = subprocess.run(
        ["sh", str(ROOT / ".ci" / "services.sh"), "--describe"],
        capture_output=True,
        text=True,
        timeout=30,
        env=dict(os.environ),
    )
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 1
    assert all(package in done.stdout for package in PACKAGES)
