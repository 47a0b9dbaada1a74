"""Render ``.minijinja.toml`` setups (Talos configs rendered by minijinja-cli) with Jinja2.

Such repos pipe minijinja-cli's output straight to ``talosctl``/``op inject``; nothing rendered is
committed. So configure renders every ``*.j2`` template outside the makejinja inputs to prove it
renders (strict undefined, valid YAML), and writes none of them.

What is emulated of minijinja-cli 2.x, from its documented config keys:

* ``.minijinja.toml`` at the repo root (the file ``MINIJINJA_CONFIG_FILE`` points at), then the
  ``MINIJINJA_*`` environment variables over it, as minijinja-cli loads them;
* ``trim-blocks``, ``lstrip-blocks``, ``strict`` (undefined is an error), ``newline`` (exactly one
  trailing newline: MiniJinja drops the template's own, the CLI prints one), ``syntax`` delimiters,
  ``defines`` (template variables; ``-D`` on the homeops CLI adds more);
* ``env = true``: the environment as ``ENV`` (never otherwise, as in minijinja-cli);
* ``autoescape``: ``none``, ``html``, ``json``, and ``auto`` (json for .yaml/.yml/.json, html for
  .html/.xml, by the name without ``.j2``); json escaping prints values as JSON;
* MiniJinja filters Jinja2 lacks: ``split``, ``lines``, ``bool``; tests ``startingwith``,
  ``endingwith``, ``containing``; includes resolve from the template's folder, then the repo root.

Not emulated: ``py-compat`` method differences (Jinja2 allows Python string methods always), fuel,
``safe-paths``, data files given on minijinja-cli's command line.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, Where
from . import linemap
from .model import TemplateError, Work

if TYPE_CHECKING:
    from jinja2 import Environment

CONFIG_FILE = ".minijinja.toml"
_FLAGS = ("newline", "trim-blocks", "lstrip-blocks", "strict", "env", "include", "py-compat")


def find(repo_root: Path) -> Path | None:
    path = repo_root / CONFIG_FILE
    return path if path.is_file() else None


def load_config(path: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """The effective minijinja-cli configuration: defaults, the TOML, then ``MINIJINJA_*``."""
    config: dict[str, Any] = {
        "autoescape": "auto",
        "newline": True,
        "trim-blocks": False,
        "lstrip-blocks": False,
        "strict": False,
        "env": False,
        "include": True,
        "syntax": {},
        "defines": {},
    }
    try:
        config.update(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {CONFIG_FILE}: {exc}", where=Where(CONFIG_FILE)) from exc
    for key in _FLAGS:
        value = environ.get("MINIJINJA_" + key.upper().replace("-", "_"))
        if value is not None:
            config[key] = value.lower() in ("1", "true", "yes", "on")
    if "MINIJINJA_AUTOESCAPE" in environ:
        config["autoescape"] = environ["MINIJINJA_AUTOESCAPE"]
    if config["autoescape"] not in ("auto", "none", "html", "json"):
        raise ConfigError(
            f"autoescape = {config['autoescape']!r} is not one of auto, none, html, json",
            where=Where(CONFIG_FILE),
        )
    return config


class MinijinjaStep:
    name = "render (minijinja)"

    def __init__(self, toml: Path) -> None:
        self.toml = toml

    def run(self, work: Work) -> None:
        from ..load.tree import SourceTree

        config = load_config(self.toml, os.environ)
        work.setups.append(f"minijinja ({CONFIG_FILE})")
        tree = SourceTree(work.repo_root)
        taken = tuple(f"{d}/" for d in work.template_dirs)
        templates = [f for f in tree.files() if f.endswith(".j2") and not f.startswith(taken)]
        errors: list[tuple[Where, str]] = []
        for rel in templates:
            problem = self._render(work, config, rel)
            if problem is not None:
                errors.append(problem)
            else:
                work.rendered_only.append(rel)
        if errors:
            where, message = errors[0]
            more = "".join(f"\n  {w}: {m}" for w, m in errors[1:])
            raise TemplateError(
                message + (f"\n  and {len(errors) - 1} more:{more}" if more else ""),
                where=where,
                hint="define the missing values (homeops configure -D name=value) or fix the templates",
            )

    def _render(self, work: Work, config: dict[str, Any], rel: str) -> tuple[Where, str] | None:
        from jinja2 import TemplateSyntaxError, UndefinedError

        env = _environment(work, config, rel)
        try:
            template = env.get_template(Path(rel).name)
        except TemplateSyntaxError as exc:
            return Where(rel, exc.lineno), f"template syntax error: {exc.message}"
        context = {**config["defines"], **work.options.defines}
        if config["env"]:
            context["ENV"] = dict(os.environ)
        try:
            text, _ = linemap.render_traced(env, template, context)
        except (KeyboardInterrupt, SystemExit):
            raise
        except UndefinedError as exc:
            return _where(exc, work.repo_root, rel), f"undefined variable: {exc.message}"
        except Exception as exc:
            return _where(exc, work.repo_root, rel), f"{type(exc).__name__}: {exc}"
        if config["newline"]:
            text += "\n"
        target = work.scratch / "minijinja" / rel[: -len(".j2")]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        if target.suffix in (".yaml", ".yml"):
            from ..load import yamlio

            parsed = yamlio.parse(text)
            if parsed.failure is not None:
                return Where(
                    rel
                ), f"renders to invalid YAML (line {parsed.failure.line}: {parsed.failure.reason})"
        return None


def _where(exc: BaseException, root: Path, rel: str) -> Where:
    found = linemap.template_frame(exc)
    if found is None:
        return Where(rel)
    try:
        return Where(Path(found[0]).resolve().relative_to(root.resolve()).as_posix(), found[1])
    except ValueError:
        return Where(rel, found[1])


def _environment(work: Work, config: dict[str, Any], rel: str) -> Environment:
    from jinja2 import Environment, StrictUndefined, Undefined, select_autoescape
    from markupsafe import Markup

    from .makejinja_setup import confined_loader, loud_undefined

    syntax = {k.replace("-", "_"): v for k, v in config["syntax"].items()}
    delimiters = {
        f"{name}_string": syntax[name]
        for name in (
            "block_start",
            "block_end",
            "variable_start",
            "variable_end",
            "comment_start",
            "comment_end",
        )
        if name in syntax
    }
    if syntax.get("line_statement_prefix"):
        delimiters["line_statement_prefix"] = syntax["line_statement_prefix"]
    if syntax.get("line_comment_prefix"):
        delimiters["line_comment_prefix"] = syntax["line_comment_prefix"]
    folder = (work.repo_root / rel).parent
    undefined: type[Undefined] = StrictUndefined if config["strict"] else Undefined
    if not config["strict"] and not work.options.allow_undefined:
        undefined = loud_undefined(Undefined)
    mode = _escape_mode(config["autoescape"], rel)
    env = Environment(
        loader=confined_loader([folder, work.repo_root] if config["include"] else [folder], work.repo_root),
        trim_blocks=bool(config["trim-blocks"]),
        lstrip_blocks=bool(config["lstrip-blocks"]),
        keep_trailing_newline=False,
        undefined=undefined,
        autoescape=select_autoescape(default=True, default_for_string=True) if mode == "html" else False,
        finalize=(lambda v: v if isinstance(v, Markup) else Markup(json.dumps(v, default=str)))
        if mode == "json"
        else None,
        **delimiters,
    )
    env.filters.update(split=_split, lines=lambda s: str(s).splitlines(), bool=_bool)
    env.tests.update(
        startingwith=lambda s, p: str(s).startswith(p),
        endingwith=lambda s, p: str(s).endswith(p),
        containing=lambda s, x: x in s,
    )
    return env


def _escape_mode(setting: str, rel: str) -> str:
    if setting != "auto":
        return setting
    name = rel[: -len(".j2")] if rel.endswith(".j2") else rel
    ext = name.rsplit(".", 1)[-1]
    if ext in ("htm", "html", "xml", "xhtml"):
        return "html"
    if ext in ("json", "json5", "yml", "yaml"):
        return "json"
    return "none"


def _split(value: Any, sep: str | None = None, maxsplits: int | None = None) -> list[str]:
    return str(value).split(sep, -1 if maxsplits is None else maxsplits)


def _bool(value: Any) -> bool:
    return bool(value)
