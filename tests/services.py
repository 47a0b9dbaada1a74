"""Real services on loopback for tests: an OCI registry, a Helm HTTP repository, a Git remote.

* :func:`oci_registry` runs Debian's ``docker-registry`` (distribution 2.8) on a free port with storage
  in a temporary folder; ``auth="token"`` puts it behind a token service (also started here, on
  loopback) that issues RS256 JWTs signed by ``openssl``, as Docker Hub or GHCR do.
* :func:`helm_http_repo` serves a folder with the standard library's ``http.server`` and records the
  paths it was asked for.
* :func:`git_remote` is a bare repository reached by a ``file://`` URL, with a work tree to commit,
  tag and push from.

Tests that need a missing program call :func:`require` and are skipped with the reason.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from homeops import proc

REGISTRY_BINARY = "/usr/bin/docker-registry"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Loopback services are reached directly, whatever proxy the environment names."""


def require(program: str) -> str:
    """The path of ``program``, or skip the test saying how to install it."""
    if program == "docker-registry":
        if os.access(REGISTRY_BINARY, os.X_OK):
            return REGISTRY_BINARY
        found = shutil.which("docker-registry")
        if found:
            return found
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    found = shutil.which(program)
    if found is None:
        pytest.skip(f"{program} is not installed")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, *, timeout: float = 15.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"service exited early with code {process.returncode}")
        try:
            with _DIRECT.open(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers: 401 from a registry behind auth is ready too
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"service at {url} did not start within {timeout}s")


# --- OCI registry -----------------------------------------------------------------------------


@dataclass
class OciRegistry:
    """A running registry; ``host`` is ``127.0.0.1:<port>``."""

    host: str
    storage: Path
    process: subprocess.Popen[bytes]
    users: dict[str, str] = field(default_factory=dict)
    token_requests: list[str] = field(default_factory=list)

    def url(self, repository: str) -> str:
        return f"oci://{self.host}/{repository}"

    def push(self, archive: Path, repository: str = "charts") -> str:
        """Push a chart archive with Helm's own push; returns the manifest digest."""
        import helm_python

        with helm_python.Chart.load(archive) as chart:
            ref = f"oci://{self.host}/{repository}/{chart.name}:{chart.version.replace('+', '_')}"
        # Helm reads credentials from this Docker-style file, never the tester's own configuration
        # (writing it directly is what a login would do, minus the login's slow probing).
        creds = self.storage.parent / "helm-registry.json"
        auths = {}
        if self.users:
            user, password = next(iter(self.users.items()))
            auths[self.host] = {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
        creds.write_text(json.dumps({"auths": auths}))
        with helm_python.RegistryClient(plain_http=True, credentials_file=creds) as client:
            client.push(archive, f"oci://{self.host}/{repository}", plain_http=True)
            return str(client.resolve(ref)["digest"])

    def push_artifact(self, repository: str, tag: str, layers: list[tuple[str, bytes]]) -> str:
        """Push an arbitrary OCI artifact (no auth) through the distribution API; returns its digest."""
        base = f"http://{self.host}/v2/{repository}"
        config = b"{}"
        descriptors = []
        for media_type, data in [("application/vnd.oci.image.config.v1+json", config), *layers]:
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            start = urllib.request.Request(f"{base}/blobs/uploads/", method="POST")
            with _DIRECT.open(start, timeout=10) as reply:
                location = urllib.parse.urljoin(base, reply.headers["Location"])
            joiner = "&" if "?" in location else "?"
            put = urllib.request.Request(f"{location}{joiner}digest={digest}", data=data, method="PUT")
            put.add_header("Content-Type", "application/octet-stream")
            _DIRECT.open(put, timeout=10).close()
            descriptors.append({"mediaType": media_type, "digest": digest, "size": len(data)})
        manifest = json.dumps(
            {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "config": descriptors[0], "layers": descriptors[1:]}
        ).encode()  # fmt: skip
        put = urllib.request.Request(f"{base}/manifests/{tag}", data=manifest, method="PUT")
        put.add_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        _DIRECT.open(put, timeout=10).close()
        return "sha256:" + hashlib.sha256(manifest).hexdigest()

    def blob_file(self, digest: str) -> Path:
        """Where the registry keeps a blob on disk (for tests that tamper with storage)."""
        hexdigest = digest.removeprefix("sha256:")
        return self.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def oci_registry(
    workdir: Path, *, auth: str | None = None, users: Mapping[str, str] | None = None
) -> Iterator[OciRegistry]:
    """Run ``docker-registry``; ``auth="token"`` requires a Bearer token from a loopback token service."""
    binary = require("docker-registry")
    workdir.mkdir(parents=True, exist_ok=True)
    storage = workdir / "storage"
    port = free_port()
    config = [
        "version: 0.1",
        "log:",
        "  level: error",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {storage}",
        "  delete:",
        "    enabled: true",
        "http:",
        f"  addr: 127.0.0.1:{port}",
    ]
    token_service: _TokenService | None = None
    if auth == "token":
        require("openssl")
        token_service = _TokenService(workdir / "token", dict(users or {}))
        config += [
            "auth:",
            "  token:",
            f"    realm: {token_service.realm}",
            f"    service: {_TokenService.SERVICE}",
            f"    issuer: {_TokenService.ISSUER}",
            f"    rootcertbundle: {token_service.cert}",
        ]
    elif auth is not None:
        raise ValueError(f"unknown auth mode {auth!r}")
    (workdir / "config.yml").write_text("\n".join(config) + "\n")
    log = open(workdir / "registry.log", "wb")
    process = subprocess.Popen([binary, "serve", str(workdir / "config.yml")], stdout=log, stderr=log)
    registry = OciRegistry(f"127.0.0.1:{port}", storage, process, dict(users or {}))
    if token_service is not None:
        registry.token_requests = token_service.requests
    try:
        _wait_http(f"http://127.0.0.1:{port}/v2/", process=process)
        yield registry
    finally:
        registry.stop()
        log.close()
        if token_service is not None:
            token_service.close()


class _TokenService:
    """The token endpoint of the Docker registry token protocol, on loopback."""

    SERVICE = "homeops-test-registry"
    ISSUER = "homeops-test-issuer"

    def __init__(self, workdir: Path, users: dict[str, str]) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.key = workdir / "key.pem"
        self.cert = workdir / "cert.pem"
        proc.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=homeops-test-token", "-keyout", str(self.key), "-out", str(self.cert),
            ]
        )  # fmt: skip
        der = proc.run(["openssl", "x509", "-in", str(self.cert), "-outform", "DER"]).stdout
        self.x5c = base64.b64encode(der).decode()
        self.users = users
        self.requests: list[str] = []
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                service.requests.append(self.path)
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                subject = service.check(self.headers.get("Authorization"))
                if subject is None:
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps({"token": service.token(subject, query.get("scope", []))}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def check(self, header: str | None) -> str | None:
        if not header or not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user if self.users.get(user) == password else None

    def token(self, subject: str, scopes: list[str]) -> str:
        access = []
        for scope in scopes:
            for item in scope.split(" "):
                kind, name, actions = item.split(":")[0], ":".join(item.split(":")[1:-1]), item.split(":")[-1]
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {
            "iss": self.ISSUER,
            "sub": subject,
            "aud": self.SERVICE,
            "exp": now + 600,
            "nbf": now - 60,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = proc.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)], input=signing_input.encode()
        ).stdout
        return f"{signing_input}.{_b64url(signature)}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- Helm HTTP repository ---------------------------------------------------------------------


@dataclass
class HttpRepo:
    url: str
    folder: Path
    requests: list[str]
    server: http.server.ThreadingHTTPServer

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def helm_http_repo(folder: Path) -> Iterator[HttpRepo]:
    """Serve ``folder`` (index.yaml and .tgz files) over HTTP on loopback."""
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def do_GET(self) -> None:
            requests.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    repo = HttpRepo(f"http://127.0.0.1:{server.server_address[1]}", folder, requests, server)
    try:
        yield repo
    finally:
        with contextlib.suppress(OSError):
            repo.stop()


# --- Git remote -------------------------------------------------------------------------------

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "homeops tests",
    "GIT_AUTHOR_EMAIL": "tests@homeops.invalid",
    "GIT_COMMITTER_NAME": "homeops tests",
    "GIT_COMMITTER_EMAIL": "tests@homeops.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclass
class GitRemote:
    url: str
    bare: Path
    work: Path

    def git(self, *args: str) -> str:
        return proc.run(["git", *args], cwd=self.work, env=_GIT_ENV).text.strip()

    def commit(self, files: Mapping[str, str | bytes | Path], message: str) -> str:
        """Write ``files`` (text, bytes, or a folder to copy) into the work tree, commit, push."""
        for rel, content in files.items():
            target = self.work / rel
            if isinstance(content, Path):
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(content, target)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode() if isinstance(content, str) else content)
        self.git("add", "-A")
        self.git("commit", "--quiet", "-m", message)
        self.git("push", "--quiet", "origin", "HEAD:refs/heads/main")
        return self.git("rev-parse", "HEAD")

    def tag(self, name: str, *, annotated: bool = False) -> None:
        if annotated:
            self.git("tag", "-a", name, "-m", f"release {name}")
        else:
            self.git("tag", name)
        self.git("push", "--quiet", "origin", f"refs/tags/{name}")


@contextlib.contextmanager
def git_remote(workdir: Path) -> Iterator[GitRemote]:
    """A bare repository with a ``main`` branch, reachable by ``file://``."""
    require("git")
    bare = workdir / "remote.git"
    work = workdir / "work"
    proc.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare)], env=_GIT_ENV)
    proc.run(["git", "init", "--quiet", "--initial-branch=main", str(work)], env=_GIT_ENV)
    remote = GitRemote(bare.as_uri(), bare, work)
    remote.git("remote", "add", "origin", remote.url)
    yield remote
