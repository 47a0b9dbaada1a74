"""A small OCI distribution client: list tags, read a manifest, download a blob, all verified.

It speaks the registry API the way Flux's source-controller does for an OCIRepository or an OCI
HelmRepository: ``/v2/<name>/tags/list`` (paginated), manifests by tag or digest, the Helm chart layer
chosen by media type. Authentication follows the registry's ``WWW-Authenticate`` challenge: a Bearer
token from the realm (anonymous or with Basic credentials) or Basic directly.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import threading
import urllib.parse
from dataclasses import dataclass
from typing import Any

from ...load import jsonio
from .errors import ChartIntegrityError, ChartSourceError
from .transport import BasicAuth, Response, basic_authorization, get

HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
LEGACY_CHART_LAYER = "application/tar+gzip"
"""What Helm before 3.7 pushed; Helm still reads it."""
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_CHALLENGE_PARAM = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass(frozen=True, slots=True)
class OciRef:
    """``oci://host[:port]/path/chart`` split into registry host and repository name."""

    host: str
    repository: str

    @property
    def url(self) -> str:
        return f"oci://{self.host}/{self.repository}"

    @property
    def name(self) -> str:
        return self.repository.rsplit("/", 1)[-1]

    @property
    def loopback(self) -> bool:
        hostname = urllib.parse.urlsplit(f"//{self.host}").hostname or ""
        if hostname == "localhost":
            return True
        try:
            return ipaddress.ip_address(hostname).is_loopback
        except ValueError:
            return False


def parse_oci_url(url: str) -> OciRef:
    """Parse an ``oci://`` URL; a ``:tag`` or ``@digest`` suffix is refused (pass those separately)."""
    if not url.startswith("oci://"):
        raise ChartSourceError(f"not an OCI URL: {url}", source=url, hint="OCI URLs start with oci://")
    rest = url[len("oci://") :].strip("/")
    host, _, repository = rest.partition("/")
    last = repository.rsplit("/", 1)[-1]
    if not host or not repository or "@" in repository or ":" in last:
        raise ChartSourceError(
            f"invalid OCI chart URL: {url}",
            source=url,
            hint="use oci://host/path/chart and give the tag, semver range or digest separately",
        )
    return OciRef(host, repository)


def is_digest(text: str) -> bool:
    return _DIGEST.fullmatch(text) is not None


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class ChartManifest:
    """A chart manifest: its own digest and the chart layer it points at."""

    digest: str
    layer_digest: str
    layer_size: int
    annotations: dict[str, str]


class Registry:
    """One repository on one registry, with the token it earned kept for later calls."""

    def __init__(
        self,
        ref: OciRef,
        *,
        insecure: bool = False,
        credentials: BasicAuth | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.ref = ref
        scheme = "http" if insecure or ref.loopback else "https"
        self.base = f"{scheme}://{ref.host}/v2/{ref.repository}"
        self._credentials = credentials
        self._timeout = timeout
        self._authorization: str | None = None
        self._lock = threading.Lock()

    # --- API -----------------------------------------------------------------------------------

    def tags(self) -> list[str]:
        """Every tag of the repository, following ``Link`` pagination."""
        url: str | None = f"{self.base}/tags/list?n=1000"
        tags: list[str] = []
        seen: set[str] = set()
        while url and url not in seen:
            seen.add(url)
            reply = self._get(url, what=f"listing tags of {self.ref.url}")
            data = _json(reply.body, self.ref.url, "tag list")
            found = data.get("tags") or []
            tags.extend(str(t) for t in found if isinstance(t, str))
            url = self._next_page(reply)
        return tags

    def manifest(self, reference: str) -> ChartManifest:
        """The manifest at a tag or digest, verified against the digest asked for and the one served."""
        what = f"reading the manifest of {self.ref.url}:{reference}"
        reply = self._get(f"{self.base}/manifests/{reference}", what=what, accept=", ".join(MANIFEST_TYPES))
        actual = sha256_digest(reply.body)
        served = reply.headers.get("Docker-Content-Digest")
        if is_digest(reference) and actual != reference:
            raise ChartIntegrityError(
                f"manifest of {self.ref.url}@{reference} has digest {actual}",
                source=self.ref.url,
                hint="the registry served different content than the pinned digest; do not trust it",
            )
        if served and served.startswith("sha256:") and served != actual:
            raise ChartIntegrityError(
                f"manifest of {self.ref.url}:{reference} has digest {actual}, the registry said {served}",
                source=self.ref.url,
            )
        return _chart_manifest(_json(reply.body, self.ref.url, "manifest"), actual, self.ref.url)

    def blob(self, digest: str, size: int) -> bytes:
        """The blob with ``digest``, verified."""
        reply = self._get(f"{self.base}/blobs/{digest}", what=f"downloading {self.ref.url}@{digest}")
        actual = sha256_digest(reply.body)
        if actual != digest or (size >= 0 and len(reply.body) != size):
            raise ChartIntegrityError(
                f"chart layer of {self.ref.url} has digest {actual} ({len(reply.body)} bytes); "
                f"the manifest promised {digest} ({size} bytes)",
                source=self.ref.url,
                hint="the download was corrupted or tampered with; try again, then report it",
            )
        return reply.body

    # --- transport with the auth handshake ------------------------------------------------------

    def _get(self, url: str, *, what: str, accept: str | None = None) -> Response:
        headers = {"Accept": accept} if accept else {}

        def attempt(authorization: str | None) -> Response:
            return get(
                url,
                what=what,
                headers=headers,
                authorization=authorization,
                accept_status=(401,),
                timeout=self._timeout,
            )

        with self._lock:
            authorization = self._authorization
        reply = attempt(authorization)
        if reply.status != 401:
            return reply
        authorization = self._answer(reply.headers.get("WWW-Authenticate", ""), what)
        with self._lock:
            self._authorization = authorization
        reply = attempt(authorization)
        if reply.status == 401:
            raise self._denied(what)
        return reply

    def _answer(self, challenge: str, what: str) -> str:
        scheme = challenge.split(" ", 1)[0].lower()
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        if scheme == "basic":
            if self._credentials is None:
                raise self._denied(what)
            return basic_authorization(self._credentials)
        if scheme != "bearer" or "realm" not in params:
            raise ChartSourceError(
                f"{what}: the registry asked for an unsupported authentication ({challenge or 'none'})",
                source=self.ref.url,
            )
        query = {"service": params.get("service", "")}
        scope = params.get("scope") or f"repository:{self.ref.repository}:pull"
        token_url = params["realm"] + ("&" if "?" in params["realm"] else "?")
        token_url += urllib.parse.urlencode({**query, "scope": scope})
        basic = basic_authorization(self._credentials) if self._credentials else None
        reply = get(
            token_url,
            what=f"{what} (token from {params['realm']})",
            authorization=basic,
            accept_status=(401, 403),
            timeout=self._timeout,
        )
        if reply.status in (401, 403):
            raise self._denied(what)
        data = _json(reply.body, self.ref.url, "token response")
        token = data.get("token") or data.get("access_token")
        if not isinstance(token, str) or not token:
            raise ChartSourceError(f"{what}: the token service returned no token", source=self.ref.url)
        return f"Bearer {token}"

    def _denied(self, what: str) -> ChartSourceError:
        who = "with the configured credentials" if self._credentials else "anonymously"
        return ChartSourceError(
            f"{what}: access denied {who}",
            source=self.ref.url,
            hint=f"add credentials for {self.ref.host} to the Docker config "
            "($DOCKER_CONFIG/config.json or ~/.docker/config.json, 'auths'), e.g. with 'docker login'",
        )

    def _next_page(self, reply: Response) -> str | None:
        link = reply.headers.get("Link")
        if not link:
            return None
        match = _LINK_NEXT.search(link)
        if match is None:
            return None
        return urllib.parse.urljoin(reply.url, str(match.group(1)))


def _json(body: bytes, source: str, what: str) -> dict[str, Any]:
    try:
        data = jsonio.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ChartSourceError(f"{source}: the registry sent an unreadable {what}", source=source)
    return data


def _chart_manifest(data: dict[str, Any], digest: str, source: str) -> ChartManifest:
    layers = [layer for layer in data.get("layers") or [] if isinstance(layer, dict)]
    by_type = {str(layer.get("mediaType")): layer for layer in layers}
    layer = by_type.get(HELM_CHART_LAYER) or by_type.get(LEGACY_CHART_LAYER)
    if layer is None:
        found = ", ".join(sorted(by_type)) or "no layers"
        raise ChartSourceError(
            f"{source}@{digest} is not a Helm chart: no layer of type {HELM_CHART_LAYER} ({found})",
            source=source,
            hint="point the source at a chart pushed with 'helm push', or select its layer by media type",
        )
    layer_digest = str(layer.get("digest", ""))
    if not is_digest(layer_digest):
        raise ChartSourceError(f"{source}@{digest}: chart layer has no sha256 digest", source=source)
    size = layer.get("size")
    annotations = data.get("annotations")
    return ChartManifest(
        digest,
        layer_digest,
        size if isinstance(size, int) else -1,
        {str(k): str(v) for k, v in annotations.items()} if isinstance(annotations, dict) else {},
    )
