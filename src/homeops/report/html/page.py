"""One self-contained HTML file from plain report data: the styles, scripts and data are inlined, and a
Content-Security-Policy lets the page load nothing else (no fonts, no scripts, no tracking), so it works
the same from a ``file://`` URL, a CI artifact or a web server."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

from ... import __version__


@cache
def asset(name: str) -> str:
    """A file of ``homeops/report/html/assets`` (package data)."""
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


def script_json(value: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</script>``, no ``<!--``."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def render(template: str, *, scripts: tuple[str, ...], **context: Any) -> str:
    """Render ``templates/<template>`` with the shared style sheet and ``scripts`` inlined."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("homeops.report.html", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    code = "\n".join(asset(name) for name in scripts)
    policy = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src '{_sha256(code)}'; base-uri 'none'; form-action 'none'"
    )
    return env.get_template(template).render(
        css=asset("report.css"), script=code, policy=policy, version=__version__, **context
    )
