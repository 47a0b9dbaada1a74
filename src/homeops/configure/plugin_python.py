"""Which Python runs a template's makejinja plugins, and running them with another one.

A template's plugins are its own Python code (cluster-template: ``template/scripts/plugin.py``, which
validates ``cluster.toml`` with pydantic). They may need a newer Python than homeops runs on, and
packages homeops does not bring; the template says which in its ``pyproject.toml``
(``requires-python``, ``dependencies``). When this interpreter cannot run them (their syntax is too
new, a package is missing), the render runs in one that can: ``$HOMEOPS_TEMPLATE_PYTHON``, the
template's own environment (``.venv``, what ``uv sync`` makes), or a newer ``python3.X`` that has
the packages. homeops' own renderer runs there (its source is put on that interpreter's path), so
the result is the same: outputs in the private render tree, template lines, strict undefined values.
Without such an interpreter the error names exactly the Python and the packages to get.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ExitCode, HomeopsError, MissingTool, Where
from .model import ConfigureOptions, Output, TemplateError, ValidationFailed, Work

PYPROJECT = "pyproject.toml"
ENV_VARIABLE = "HOMEOPS_TEMPLATE_PYTHON"
RENDERER = "makejinja"
"""The distribution the plugins import and homeops' renderer needs in another interpreter."""


@dataclass(frozen=True, slots=True)
class Needs:
    """What a template's plugins need, as its ``pyproject.toml`` declares it."""

    python: str | None = None
    """``requires-python`` (``>=3.14``), None when not declared."""
    packages: tuple[str, ...] = ()
    """Distribution names of the dependencies other than makejinja (``pydantic``)."""
    pins: dict[str, str] = field(default_factory=dict)
    """Distribution name → its requirement as written (``pydantic==2.13.5``), for the hint."""

    def python_ok(self, version: Sequence[int]) -> bool:
        if self.python is None:
            return True
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            return SpecifierSet(self.python).contains(".".join(map(str, version[:3])), prereleases=True)
        except InvalidSpecifier:
            return True


def needs(root: Path) -> Needs:
    """The template's declared needs (nothing declared: no ``pyproject.toml``, or no ``[project]``)."""
    import tomllib

    path = root / PYPROJECT
    try:
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project")
    except (OSError, tomllib.TOMLDecodeError):
        return Needs()
    if not isinstance(project, dict):
        return Needs()
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    python = project.get("requires-python")
    packages: list[str] = []
    pins: dict[str, str] = {}
    for text in project.get("dependencies") or []:
        try:
            requirement = Requirement(str(text))
        except InvalidRequirement:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        pins[name] = str(requirement)
        if name != RENDERER:
            packages.append(name)
    return Needs(str(python) if python else None, tuple(packages), pins)


def plugin_sources(config: Any) -> list[Path]:
    """The Python files the plugins are imported from (tests beside them left out)."""
    found: list[Path] = []
    for base in config.import_paths:
        if base.is_dir():
            found.extend(
                p for p in sorted(base.rglob("*.py"))
                if not p.name.startswith("test_") and p.name != "conftest.py" and "__pycache__" not in p.parts
            )  # fmt: skip
    return found


@dataclass(frozen=True, slots=True)
class Fitness:
    """Whether an interpreter can run the plugins, and if not, why."""

    python: str
    """The interpreter (``sys.executable`` for this one)."""
    version: tuple[int, ...]
    missing: tuple[str, ...] = ()
    """Needed distributions it lacks."""
    syntax: tuple[tuple[str, int], ...] = ()
    """(file, line) of plugin code it cannot even parse."""
    python_ok: bool = True

    @property
    def fits(self) -> bool:
        return not self.missing and not self.syntax

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))


_PROBE = """\
import importlib.metadata as m, json, sys
names, files = json.loads(sys.argv[1])
missing = []
for name in names:
    try:
        m.version(name)
    except m.PackageNotFoundError:
        missing.append(name)
syntax = []
for path in files:
    try:
        with open(path, "rb") as handle:
            compile(handle.read(), path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        syntax.append([path, exc.lineno or 0])
print(json.dumps({"version": list(sys.version_info[:3]), "missing": missing, "syntax": syntax}))
"""


def fitness_here(config: Any, wanted: Needs) -> Fitness:
    """Whether this interpreter can run the plugins (it brings makejinja itself)."""
    import importlib.metadata

    missing = []
    for name in wanted.packages:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    syntax = []
    for path in plugin_sources(config):
        try:
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        except SyntaxError as exc:
            syntax.append((str(path), exc.lineno or 0))
        except OSError:
            continue
    version = tuple(sys.version_info[:3])
    return Fitness(sys.executable, version, tuple(missing), tuple(syntax), wanted.python_ok(version))


def probe(python: str, root: Path, config: Any, wanted: Needs) -> Fitness | None:
    """Whether ``python`` can run the plugins with homeops' renderer; None when it does not run."""
    from .. import proc
    from ..errors import ToolError

    files = [str(p) for p in plugin_sources(config)]
    names = [RENDERER, *wanted.packages]
    try:
        result = proc.run([python, "-B", "-c", _PROBE, json.dumps([names, files])], cwd=root, timeout=60.0,
                          what=f"{python} (probing it)")  # fmt: skip
        found = json.loads(result.stdout.decode("utf-8", "replace").strip().splitlines()[-1])
    except (HomeopsError, ToolError, ValueError, IndexError):
        return None
    version = tuple(int(v) for v in found["version"])
    syntax = tuple((str(f), int(line)) for f, line in found["syntax"])
    return Fitness(python, version, tuple(found["missing"]), syntax, wanted.python_ok(version))


def candidates(root: Path) -> Iterator[str]:
    """Interpreters worth probing, best first: the one asked for, the template's own environment, then
    every ``python3.X`` newer than this one (on PATH, then pyenv's)."""
    import shutil

    chosen = os.environ.get(ENV_VARIABLE)
    if chosen:
        yield chosen
        return  # asked for that one: no guessing
    for venv in (".venv", "venv"):
        python = root / venv / "bin" / "python"
        if python.is_file():
            yield str(python)
    here = sys.version_info[:2]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for minor in range(30, here[1], -1):
        found = shutil.which(f"python3.{minor}")
        if found is not None:
            yield found
        if pyenv.is_dir():
            yield from (str(p / "bin" / "python3") for p in sorted(pyenv.glob(f"3.{minor}.*"), reverse=True))


def choose(root: Path, config: Any) -> str | None:
    """The interpreter to run the plugins with: None for this one, else the path of another.

    Raises :class:`MissingTool` naming the Python and the packages the plugins need when neither this
    interpreter nor any other found can run them.
    """
    if not (config.plugins or config.loaders):
        return None
    wanted = needs(root)
    here = fitness_here(config, wanted)
    if here.fits:
        return None
    rejected: list[Fitness] = []
    seen = {os.path.realpath(sys.executable)}
    for python in candidates(root):
        real = os.path.realpath(python)
        if real in seen:
            continue
        seen.add(real)
        found = probe(python, root, config, wanted)
        if found is None:
            continue
        if found.fits and found.python_ok:
            return python
        rejected.append(found)
    raise _unfit(root, wanted, here, rejected)


def _unfit(root: Path, wanted: Needs, here: Fitness, rejected: Sequence[Fitness]) -> MissingTool:
    """The error naming what the plugins need and how to get it."""
    reasons = []
    where = None
    if here.syntax:
        path, line = here.syntax[0]
        where = Where(_rel(root, path), line)
        newer = f"Python {wanted.python}" if wanted.python else "a newer Python"
        reasons.append(f"its code is written for {newer} (Python {here.version_text} cannot parse it)")
    elif not here.python_ok and wanted.python:
        reasons.append(f"it asks for Python {wanted.python}")
    if here.missing:
        reasons.append(f"it imports {_names(here.missing)}, not installed for homeops' Python")
    python = wanted.python or "(a newer one)"
    packages = [wanted.pins.get(name, name) for name in (RENDERER, *wanted.packages)]
    error = MissingTool(
        f"Python {python} with {', '.join(packages)}",
        _how(wanted, packages, rejected),
    )
    declared = f" ({PYPROJECT})" if wanted.python or wanted.packages else ""
    error.message = (
        f"the template's makejinja plugins cannot run on the Python homeops runs on "
        f"({here.version_text}): {'; '.join(reasons)}. They need Python {python} with "
        f"{', '.join(packages)}{declared}"
    )
    error.where = where
    return error


def _how(wanted: Needs, packages: Sequence[str], rejected: Sequence[Fitness]) -> str:
    quoted = " ".join(f'"{p}"' if any(c in p for c in "<>=!~ ") else p for p in packages)
    minimum = _minimum(wanted.python)
    python = f"python{minimum}" if minimum else "python3.X"
    lines = [
        f"create the template's own environment: 'uv sync' (reads {PYPROJECT}), or "
        f"'{python} -m venv .venv && .venv/bin/pip install {quoted}'; homeops then runs the plugins with "
        f".venv/bin/python ({ENV_VARIABLE}=/path/to/python picks another interpreter)",
    ]
    for found in rejected:
        why = []
        if not found.python_ok:
            why.append(f"Python {found.version_text} does not satisfy {wanted.python}")
        if found.syntax:
            why.append(f"Python {found.version_text} cannot parse {Path(found.syntax[0][0]).name}")
        if found.missing:
            why.append(f"lacks {', '.join(found.missing)}")
        lines.append(f"tried {found.python}: {'; '.join(why)}")
    return "\n  ".join(lines)


def _minimum(spec: str | None) -> str | None:
    """``3.14`` for ``>=3.14`` (the lowest version a specifier names with ``>=``/``~=``/``==``)."""
    if not spec:
        return None
    import re

    found = re.search(r"(?:>=|~=|==)\s*(\d+\.\d+)", spec)
    return found.group(1) if found else None


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)


def _rel(root: Path, path: str) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path


# -- running the render in another interpreter --------------------------------------------------------


_BOOT = """\
import sys
sys.path.insert(0, sys.argv[1])
from homeops.configure.plugin_python import child_main
child_main(sys.argv[2])
"""


def render_elsewhere(python: str, toml: Path, work: Work) -> None:
    """Render with homeops' makejinja renderer running in ``python``: outputs land in
    ``work.rendered_dir`` as an in-process render puts them; errors come back as the same exceptions."""
    from .. import proc

    request = work.scratch / "render-request.json"
    response = work.scratch / "render-response.json"
    request.write_text(json.dumps({
        "toml": str(toml), "repo_root": str(work.repo_root), "scratch": str(work.scratch),
        "rendered_dir": str(work.rendered_dir), "defines": dict(work.options.defines),
        "allow_undefined": work.options.allow_undefined, "response": str(response),
    }, default=str))  # fmt: skip
    source = str(Path(__file__).resolve().parents[2])
    result = proc.run(
        [python, "-B", "-c", _BOOT, source, str(request)],
        cwd=work.repo_root,
        timeout=900.0,
        check=False,
        what=f"{python} (the template's plugins)",
    )
    try:
        answer = json.loads(response.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise TemplateError(
            f"rendering with {python} failed (exit code {result.returncode})"
            + "".join(f"\n  {t}" for t in tail),
            where=Where(toml.name),
            hint=f"run it again with {ENV_VARIABLE} pointing at another interpreter, or fix that environment",
        ) from None
    if answer.get("error"):
        raise _error_from(answer["error"], python)
    work.warnings.extend(answer["warnings"])
    work.skipped.update(answer["skipped"])
    work.empty_dirs.extend(answer["empty_dirs"])
    for path, source_rel, lines, secret, mode, mtime in answer["outputs"]:
        content = None if secret else (work.rendered_dir / path).read_bytes()
        work.outputs[path] = Output(path, source_rel, tuple(lines), secret, mode, mtime, content)
    work.warnings.append(
        f"{toml.name}: the template's plugins need what homeops' own Python lacks; they ran with "
        f"{python} (Python {answer['version']})"
    )


def _error_from(data: dict[str, Any], python: str) -> HomeopsError:
    where = Where(data["where"][0], data["where"][1]) if data.get("where") else None
    kind = data.get("kind")
    if kind == "ValidationFailed":
        issues = [(Where(p, line) if p else Where(""), message) for p, line, message in data["issues"]]
        return ValidationFailed(issues, hint=data.get("hint"))
    cls: type[HomeopsError] = {"TemplateError": TemplateError, "ConfigError": ConfigError}.get(
        str(kind), HomeopsError
    )  # MissingTool and the rest: a HomeopsError with their message and exit code
    if kind == "internal":
        return TemplateError(f"{data['message']} (in {python})", where=where, hint=data.get("hint"))
    error = cls(data["message"], where=where, hint=data.get("hint"))
    error.exit_code = ExitCode(int(data.get("exit_code", error.exit_code)))
    return error


def child_main(request_path: str) -> None:
    """The other interpreter's side: render as :class:`~.makejinja_setup.MakejinjaStep` does in-process
    and write the outcome for :func:`render_elsewhere` (never raises: its answer carries the error)."""
    from .makejinja_setup import _Renderer, load_config

    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    root = Path(request["repo_root"])
    work = Work(
        repo_root=root,
        scratch=Path(request["scratch"]),
        options=ConfigureOptions(defines=request["defines"], allow_undefined=request["allow_undefined"]),
        rendered_dir=Path(request["rendered_dir"]),
    )
    answer: dict[str, Any] = {"version": ".".join(map(str, sys.version_info[:3]))}
    try:
        config, warnings = load_config(root, Path(request["toml"]))
        _Renderer(work, root, config).run()
        outputs = [
            [o.path, o.source, list(o.lines), o.secret, o.mode, o.mtime] for o in work.outputs.values()
        ]
        answer.update(
            warnings=[*warnings, *work.warnings],
            skipped=work.skipped,
            empty_dirs=work.empty_dirs,
            outputs=outputs,
        )
    except HomeopsError as exc:
        answer["error"] = _error_to(exc)
    except Exception as exc:  # a bug, or the plugin failing: reported, with its type
        answer["error"] = {"kind": "internal", "message": f"{type(exc).__name__}: {exc}"}
    Path(request["response"]).write_text(json.dumps(answer, default=str), encoding="utf-8")


def _error_to(exc: HomeopsError) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": type(exc).__name__,
        "message": exc.message,
        "where": [exc.where.path, exc.where.line] if exc.where is not None else None,
        "hint": exc.hint,
        "exit_code": int(exc.exit_code),
    }
    if isinstance(exc, ValidationFailed):
        data["issues"] = [[w.path, w.line, m] for w, m in exc.issues]
    return data
