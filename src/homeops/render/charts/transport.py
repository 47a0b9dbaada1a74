"""HTTP GET for chart sources: timeouts, a size cap, credentials never sent across hosts, readable errors.

Standard-library ``urllib`` only. Every failure becomes a :class:`ChartSourceError` saying what was
fetched, from where, and what to do (check credentials, the URL, TLS trust, the network).
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from ...localnet import local_address as _local_address
from ...localnet import local_allowed, local_reason
from .errors import ChartSourceError

DEFAULT_TIMEOUT = 30.0
MAX_BYTES = 256 * 1024 * 1024
"""No chart, index or manifest legitimately comes near this; it bounds memory on a hostile server."""


@dataclass(frozen=True, slots=True)
class BasicAuth:
    """A user name and password (or token) for a registry or chart repository."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Message
    body: bytes
    url: str
    """The final URL, after redirects."""


def _refused(url: str, why: str, what: str) -> ChartSourceError:
    return ChartSourceError(
        f"{what}: homeops does not fetch {display_url(url)}: {why}",
        source=display_url(url),
        hint="a repository may not make homeops read this machine or its network; set "
        "HOMEOPS_ALLOW_LOCAL_REMOTES=1 to allow local mirrors",
    )


class _Checked:
    """A connection that checks the address it reached (a name may resolve elsewhere the second time)."""

    what = "fetching"

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        sock = self.sock  # type: ignore[attr-defined]
        if getattr(self, "_tunnel_host", None) or sock is None:
            return  # through the user's proxy: the proxy is what was reached
        try:
            peer = str(sock.getpeername()[0])
        except OSError:
            return
        found = _local_address(peer)
        if found is not None:
            sock.close()
            host = getattr(self, "host", "")
            raise _refused(f"http://{host}/", f"{host} is a local or private address ({found})", self.what)


class _CheckedHTTP(_Checked, http.client.HTTPConnection):
    pass


class _CheckedHTTPS(_Checked, http.client.HTTPSConnection):
    pass


class _GuardedHTTP(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(http.client.HTTPConnection if req.has_proxy() else _CheckedHTTP, req)


class _GuardedHTTPS(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        context = getattr(self, "_context", None)
        return self.do_open(_CheckedHTTPS, req, context=context)


class _GuardedRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            raise _refused(newurl, "a redirect to a scheme other than http(s)", "fetching")
        why = local_reason(newurl)
        if why is not None:
            raise _refused(newurl, f"a redirect to {why}", "fetching")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_DEFAULT = urllib.request.build_opener()
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Loopback is never sent through a proxy (as Go's ProxyFromEnvironment does)."""
_GUARDED = urllib.request.build_opener(_GuardedHTTP, _GuardedHTTPS, _GuardedRedirect)
"""Public addresses only, also after a redirect and whatever a name resolves to when connecting."""


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def basic_authorization(credentials: BasicAuth) -> str:
    """The ``Authorization`` header value for HTTP Basic."""
    raw = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def display_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


def get(
    url: str,
    *,
    what: str,
    headers: Mapping[str, str] | None = None,
    authorization: str | None = None,
    accept_status: Collection[int] = (),
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = MAX_BYTES,
) -> Response:
    """GET ``url``; a status in ``accept_status`` is returned instead of raised.

    ``authorization`` is sent to ``url``'s host only: a redirect (registries send blobs to object
    storage) does not carry it along.
    """
    shown = display_url(url)
    why = local_reason(url)
    if why is not None:
        raise _refused(url, why, what)
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise _refused(url, "only http and https are fetched", what)
    request = urllib.request.Request(url, headers=dict(headers or {}), method="GET")
    if authorization:
        request.add_unredirected_header("Authorization", authorization)
    if not local_allowed():
        opener = _GUARDED
    else:
        opener = _DIRECT if _is_loopback(url) else _DEFAULT
    try:
        with opener.open(request, timeout=timeout) as reply:
            body = _read_capped(reply, max_bytes, what, shown)
            return Response(reply.status, reply.headers, body, reply.geturl())
    except urllib.error.HTTPError as exc:
        if exc.code in accept_status:
            try:
                body = exc.read(65536)
            except OSError:
                body = b""
            return Response(exc.code, exc.headers, body, exc.geturl() or url)
        raise _http_error(exc.code, exc.reason, what, shown) from None
    except urllib.error.URLError as exc:
        raise _network_error(exc.reason, what, shown, timeout) from None
    except OSError as exc:  # timeouts, resets and TLS failures while reading the body
        raise _network_error(exc, what, shown, timeout) from None


def _read_capped(reply: object, max_bytes: int, what: str, shown: str) -> bytes:
    read = reply.read  # type: ignore[attr-defined]
    body: bytes = read(max_bytes + 1)
    if len(body) > max_bytes:
        raise ChartSourceError(
            f"{what}: {shown} is larger than {max_bytes // (1024 * 1024)} MiB; refusing to download it",
            source=shown,
        )
    return body


def _http_error(code: int, reason: object, what: str, shown: str) -> ChartSourceError:
    if code in (401, 403):
        return ChartSourceError(
            f"{what}: access denied by {shown} (HTTP {code})",
            source=shown,
            hint="check the credentials for this host (Docker config 'auths' for OCI registries, "
            "the source's secretRef for chart repositories)",
        )
    if code == 404:
        return ChartSourceError(
            f"{what}: not found at {shown} (HTTP 404)",
            source=shown,
            hint="check the URL, the chart name and the version",
        )
    return ChartSourceError(f"{what}: {shown} answered HTTP {code} {reason}", source=shown)


def _network_error(reason: object, what: str, shown: str, timeout: float) -> ChartSourceError:
    if isinstance(reason, ssl.SSLCertVerificationError):
        return ChartSourceError(
            f"{what}: TLS certificate of {shown} is not trusted: {reason.verify_message}",
            source=shown,
            hint="install the issuing CA in the system trust store (or SSL_CERT_FILE), "
            "or use plain HTTP only for a registry you control (insecure)",
        )
    if isinstance(reason, ssl.SSLError):
        return ChartSourceError(
            f"{what}: TLS handshake with {shown} failed: {reason}",
            source=shown,
            hint="the server may speak plain HTTP (set insecure for a registry you control)",
        )
    if isinstance(reason, TimeoutError):
        return ChartSourceError(
            f"{what}: {shown} did not answer within {timeout:g}s",
            source=shown,
            hint="check the network, or run offline with a filled chart cache",
        )
    return ChartSourceError(
        f"{what}: cannot reach {shown}: {reason}",
        source=shown,
        hint="check the URL and the network, or run offline with a filled chart cache",
    )
