"""HTTP GET for chart sources: timeouts, a size cap, credentials never sent across hosts, readable errors.

Standard-library ``urllib`` only. Every failure becomes a :class:`ChartSourceError` saying what was
fetched, from where, and what to do (check credentials, the URL, TLS trust, the network).
"""

from __future__ import annotations

import base64
import ipaddress
import urllib.parse
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from .errors import ChartSourceError

if TYPE_CHECKING:
    import urllib.request
    from email.message import Message

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


@cache
def _opener(direct: bool) -> urllib.request.OpenerDirector:
    """The opener for a host; ``direct``: loopback, never sent through a proxy (as Go's
    ProxyFromEnvironment does). Built on first use: a build from the cache never fetches, and
    ``urllib.request`` with ``ssl`` and ``http.client`` is a noticeable part of its start-up."""
    import urllib.request

    return (
        urllib.request.build_opener(urllib.request.ProxyHandler({}))
        if direct
        else urllib.request.build_opener()
    )


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
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers=dict(headers or {}), method="GET")
    if authorization:
        request.add_unredirected_header("Authorization", authorization)
    shown = display_url(url)
    opener = _opener(_is_loopback(url))
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
    import ssl  # loaded already by whatever failed

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
