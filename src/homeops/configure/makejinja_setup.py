"""Render a repository's makejinja setup (``makejinja.toml``) into the private render tree.

The repository's own configuration is honoured as the makejinja CLI reads it when ``task configure``
runs it from the repo root: the TOML is loaded by makejinja's own settings loader (``MAKEJINJA_*``
environment variables apply), and makejinja's own functions load the data files, build the Jinja
environment (delimiters, whitespace, undefined) and load the plugins. The walk over the inputs mirrors
``makejinja.app`` 2.8 and 2.9 (include/exclude patterns, plugin path filters, first input wins,
``jinja_suffix``, ``keep_jinja_suffix``, ``keep_empty``, ``copy_metadata``, ``force``, ``file_data``),
with two differences: files go to the render tree instead of the output folder (whose repo-relative
layout is kept), and each template is rendered with line tracking (:mod:`.linemap`).

Stricter than makejinja, unless ``allow_undefined``: an undefined value that would print as empty
text is an error naming the template and line, whatever ``undefined`` says (``debug`` excepted).
``exec_pre``, ``exec_post`` (shell commands) and ``clean`` (deletes the output folder, often the
repo root) are refused.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, HomeopsError, MissingTool, Where
from ..load.walk import inside
from . import linemap, plugin_python
from .model import Output, TemplateError, ValidationFailed, Work

if TYPE_CHECKING:
    from jinja2 import Environment, Undefined

CONFIG_FILE = "makejinja.toml"


def is_secret(rel: str) -> bool:
    """A ``*.sops.*`` output, which must be encrypted (``.sops.yaml`` is the plaintext rules file)."""
    name = rel.rsplit("/", 1)[-1]
    return ".sops." in name and name not in (".sops.yaml", ".sops.yml")


def find(repo_root: Path) -> Path | None:
    path = repo_root / CONFIG_FILE
    return path if path.is_file() else None


def load_config(repo_root: Path, toml: Path) -> tuple[Any, list[str]]:
    """makejinja's own ``Config`` for this TOML, and any warnings its loader printed."""
    try:
        import typed_settings as ts
        from makejinja.config import Config
    except ImportError as exc:  # pragma: no cover - makejinja is a dependency
        raise MissingTool("makejinja", "pip install makejinja (a dependency of homeops)") from exc
    rel = toml.name
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            config = ts.load(Config, appname="makejinja", config_files=[toml], config_files_var=None)
    except Exception as exc:
        raise ConfigError(
            f"cannot load the makejinja configuration: {exc}",
            where=Where(rel),
            hint="see makejinja's documentation for the option names of makejinja.toml",
        ) from exc
    warnings = [f"{rel}: {line}" for line in printed.getvalue().splitlines() if line.strip()]
    for option in ("exec_pre", "exec_post"):
        if getattr(config, option):
            raise ConfigError(
                f"makejinja option {option} runs shell commands; homeops configure does not run them",
                where=Where(rel, _toml_line(toml, option)),
                hint=f"run those commands yourself, or remove {option} from {rel}",
            )
    if config.clean:
        raise ConfigError(
            "makejinja option clean deletes the output folder; homeops configure refuses it",
            where=Where(rel, _toml_line(toml, "clean")),
            hint=f"remove clean from {rel}: configure replaces outputs without deleting anything",
        )
    root = repo_root.resolve()
    # import_paths matter only with plugins (its default, ".", is wherever homeops runs)
    options = ("inputs", "data", "import_paths") if getattr(config, "loaders", None) else ("inputs", "data")
    for option in options:
        for path in getattr(config, option, None) or ():
            real = Path(path).resolve()
            if real != root and root not in real.parents:
                raise ConfigError(
                    f"{option} entry {path} is outside the repository; configure reads only the repository",
                    where=Where(rel, _toml_line(toml, option)),
                    hint=f"keep the templates, data files and plugins inside the repository ({rel})",
                )
    for path in (*config.inputs, *config.data):
        if not path.exists():
            raise ConfigError(
                f"{_rel(root, path)} does not exist (listed in {rel})",
                where=Where(rel, _toml_line(toml, "inputs" if path in config.inputs else "data")),
                hint=_missing_hint(root, path),
            )
    _plugin_inputs_exist(root, config)
    output = config.output.resolve()
    if output != root and root not in output.parents:
        raise ConfigError(f"output {config.output} is outside the repository", where=Where(rel))
    return config, warnings


def confined_loader(searchpath: Sequence[str | Path], root: Path) -> Any:
    """Jinja's ``FileSystemLoader`` over ``searchpath`` that finds no template a symlink leads out of
    ``root`` (the repository): an ``include`` of one is "not found", and its file is never opened."""
    import posixpath

    from jinja2 import FileSystemLoader, TemplateNotFound
    from jinja2.loaders import split_template_path

    real_root = os.path.realpath(root)

    class _Confined(FileSystemLoader):
        def get_source(self, environment: Any, template: str) -> Any:
            pieces = split_template_path(template)
            for folder in self.searchpath:
                candidate = posixpath.join(folder, *pieces)
                if os.path.isfile(candidate):
                    if not inside(real_root, candidate):
                        raise TemplateNotFound(template, f"{template!r} leads outside the repository")
                    break
            return super().get_source(environment, template)

    return _Confined([str(p) for p in searchpath])


def _missing_hint(root: Path, path: Path) -> str:
    sample = path.with_name(path.stem + ".sample" + path.suffix)
    if sample.exists():
        init = init_command(root)
        return f"copy {sample.name} to {path.name} and fill it in" + (
            f" (what '{init}' does)" if init else ""
        )
    return "create it, or fix the path in makejinja.toml"


def _plugin_inputs_exist(root: Path, config: Any) -> None:
    """The input files the plugins read themselves (cluster-template's ``cluster.toml``, not a makejinja
    ``data`` file) exist: a sample beside a missing file that the plugin code names is a file to fill in."""
    from .plugin_python import plugin_sources

    sources = plugin_sources(config)
    for sample in sorted(root.glob("*.sample.*")):
        stem, _, suffix = sample.name.partition(".sample")
        wanted = root / f"{stem}{suffix}"
        if wanted.exists():
            continue
        for source in sources:
            with contextlib.suppress(OSError):
                lines = source.read_text(encoding="utf-8", errors="replace").splitlines()
                for number, line in enumerate(lines, 1):
                    if re.search(rf"[\"']{re.escape(wanted.name)}[\"']", line):
                        raise ConfigError(
                            f"{wanted.name} does not exist (the template's plugin reads it)",
                            where=Where(_rel(root, source), number),
                            hint=_missing_hint(root, wanted),
                        )


_RECIPE_INIT = re.compile(r"(?m)^init(?:[ \t][^:\n]*)?:(?!=)")


def init_command(root: Path) -> str | None:
    """The command of the repository's own task runner that creates its input files from the samples:
    ``just init`` (cluster-template today), ``just MODULE init``, ``task init`` (before 2026), or None."""
    for name in ("justfile", ".justfile", "Justfile"):
        text = _text(root / name)
        if text is None:
            continue
        if _RECIPE_INIT.search(text):
            return "just init"
        for module in re.finditer(r"(?m)^mod\??[ \t]+([\w-]+)(?:[ \t]+['\"]([^'\"]+)['\"])?", text):
            place = root / (module.group(2) or module.group(1))
            for candidate in (
                place,
                place / "mod.just",
                place / "justfile",
                root / f"{module.group(1)}.just",
            ):
                found = _text(candidate) if candidate.is_file() else None
                if found is not None and _RECIPE_INIT.search(found):
                    return f"just {module.group(1)} init"
    taskfiles = [root / n for n in ("Taskfile.yaml", "Taskfile.yml", "taskfile.yaml", "taskfile.yml")]
    if any(p.is_file() for p in taskfiles):
        for path in [*taskfiles, *sorted((root / ".taskfiles").glob("**/Taskfile.y*ml"))]:
            text = _text(path)
            if text is not None and re.search(r"(?m)^[ \t]+:?init:[ \t]*$", text):
                return "task init"
    return None


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _toml_line(toml: Path, key: str) -> int:
    for i, line in enumerate(toml.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if re.match(rf"\s*{re.escape(key)}\s*=", line):
            return i
    return 0


def _rel(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


class MakejinjaStep:
    """Validate the inputs, then render every template into ``work.rendered_dir``."""

    name = "render (makejinja)"

    def __init__(self, toml: Path) -> None:
        self.toml = toml

    def run(self, work: Work) -> None:
        root = work.repo_root.resolve()
        config, warnings = load_config(root, self.toml)
        work.warnings.extend(warnings)
        work.setups.append(f"makejinja ({_rel(root, self.toml)})")
        work.template_dirs.extend(_rel(root, p) for p in config.inputs if p.is_dir())
        self._validate(work, root, config)
        python = plugin_python.choose(root, config)
        if python is None:
            _Renderer(work, root, config).run()
        else:
            plugin_python.render_elsewhere(python, self.toml, work)

    def _validate(self, work: Work, root: Path, config: Any) -> None:
        from . import validate

        files, issues = validate.load(root, data_files(config))
        if not issues and validate.applies(files):
            words = _identifiers(root, config)
            issues, warnings = validate.validate(files, words.__contains__)
            work.warnings.extend(warnings)
        if issues:
            raise ValidationFailed(issues, hint="fix these values and run configure again")


def data_files(config: Any) -> list[Path]:
    """The files makejinja reads its ``data`` from, in its order. ``collect_files`` returns paths in
    makejinja 2.8 and (path, path relative to its ``data`` entry) pairs from 2.9 on."""
    from makejinja.app import collect_files

    return [item[0] if isinstance(item, tuple) else item for item in collect_files(config.data)]


def _identifiers(root: Path, config: Any) -> set[str]:
    """Identifiers in the templates' Jinja tags, and strings in the plugins: the input keys they use."""
    words: set[str] = set()
    d = config.delimiter
    tags = re.compile(
        "|".join(
            f"{re.escape(start)}(.*?){re.escape(end)}"
            for start, end in ((d.variable_start, d.variable_end), (d.block_start, d.block_end))
        ),
        re.DOTALL,
    )
    identifier = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
    quoted = re.compile(r"[\"']([A-Za-z_][A-Za-z0-9_]*)[\"']")
    for base in config.inputs:
        for path in [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file()):
            with contextlib.suppress(OSError):
                text = path.read_text(encoding="utf-8", errors="replace")
                for match in tags.finditer(text):
                    words.update(identifier.findall("".join(g for g in match.groups() if g)))
    for base in config.import_paths:
        if base.is_dir() and base.resolve() != root:
            for path in sorted(base.rglob("*.py")):
                with contextlib.suppress(OSError):
                    # Plugins name input keys as strings: data.get("node_cidr"), data["nodes"].
                    words.update(quoted.findall(path.read_text(encoding="utf-8", errors="replace")))
    return words


class _Renderer:
    def __init__(self, work: Work, root: Path, config: Any) -> None:
        import attrs

        self.work = work
        self.root = root
        data_vars = {**config.data_vars, **work.options.defines}
        self.config = attrs.evolve(config, quiet=True, data_vars=data_vars)
        self.rendered_files: dict[Path, Path] = {}
        self.rendered_dirs: dict[Path, Path] = {}
        self.errors: list[tuple[Where, str]] = []

    def run(self) -> None:
        from makejinja import app

        config = self.config
        with _plugin_imports(config.import_paths), contextlib.chdir(self.root):
            try:
                data = app.load_data(config)
                env = app.init_jinja_env(config, data)
                # The inputs' templates as makejinja finds them, but none through a symlink leading out.
                from jinja2 import ChoiceLoader

                folders = [path for path in config.inputs if path.is_dir()]
                env.loader = ChoiceLoader([*_file_loaders(env), confined_loader(folders, self.root)])
                env.undefined = _undefined_class(config, self.work.options.allow_undefined)
                plugins = [
                    app.load_plugin(name, env, data, config)
                    for name in itertools.chain(config.plugins, config.loaders)
                ]
            except (KeyboardInterrupt, SystemExit):
                raise
            except ModuleNotFoundError as exc:
                raise _missing_module(exc, config) from exc
            except FileNotFoundError as exc:
                if not _program_missing(exc):
                    raise _setup_error(exc) from exc
                raise MissingTool(
                    str(exc.filename),
                    f"the template's makejinja plugin runs '{exc.filename}': install it and put it on PATH",
                ) from exc
            except Exception as exc:
                raise _setup_error(exc) from exc
            filters: list[Callable[[Path], bool]] = []
            for plugin in plugins:
                if hasattr(plugin, "path_filters"):
                    filters.extend(plugin.path_filters())
            for user_input in config.inputs:
                if user_input.is_file():
                    self._input_file(app, env, user_input)
                elif user_input.is_dir():
                    self._input_dir(app, env, user_input, filters)
        if self.errors:
            raise _template_errors(self.errors)
        for output_dir in self.rendered_dirs:
            rel = self._out_rel(output_dir)
            if config.keep_empty and rel:
                self.work.empty_dirs.append(rel)

    # -- the walk, as makejinja.app does it ----------------------------------------------------

    def _input_file(self, app: Any, env: Environment, input_path: Path) -> None:
        relative = Path(input_path.name)
        output = app.generate_output_path(self.config, relative)
        if output not in self.rendered_files:
            self._render_file(env, input_path, str(relative), output, enforce_suffix=False)
        self.rendered_files[output] = input_path

    def _input_dir(
        self, app: Any, env: Environment, base: Path, filters: Sequence[Callable[[Path], bool]]
    ) -> None:
        config = self.config
        paths = (p for pattern in config.include_patterns for p in sorted(base.glob(pattern)))
        enforce = bool(config.jinja_suffix)
        for input_path in paths:
            relative = input_path.relative_to(base)
            output = app.generate_output_path(config, relative)
            excluded = any(input_path.match(x) for x in config.exclude_patterns)
            if excluded or any(not keep(input_path) for keep in filters):
                continue
            if not inside(str(self.root), str(input_path)):
                continue  # a symlink leading out of the repository: as absent, like the repository walk
            if input_path.is_file() and output not in self.rendered_files:
                self._render_file(env, input_path, str(relative), output, enforce_suffix=enforce)
                self.rendered_files[output] = input_path
            elif input_path.is_dir() and output not in self.rendered_dirs:
                self.rendered_dirs[output] = input_path

    def _out_rel(self, output: Path) -> str:
        from ..journal import confine

        rel = Path(os.path.relpath(os.path.normpath(self.root / output), self.root)).as_posix()
        if rel == ".":
            return ""
        confine(self.root, rel)  # an output a symlink leads out of the repository is refused
        return rel

    def _render_file(
        self, env: Environment, input_path: Path, name: str, output: Path, *, enforce_suffix: bool
    ) -> None:
        from makejinja.app import load_file_data

        config = self.config
        rel = self._out_rel(output)
        if not config.force and (self.root / rel).exists():
            self.work.skipped[rel] = "exists and makejinja.toml has force = false"
            return
        source_rel = _rel(self.root, input_path)
        st = input_path.stat()
        if input_path.suffix == config.jinja_suffix or not enforce_suffix:
            rendered = self._render(env, name, load_file_data(name, config))
            if rendered is None:
                return
            text, lines, source_rel = rendered
            if text.strip() == "" and not config.keep_empty:
                return
            payload = text.encode("utf-8")
            keep_meta = bool(config.copy_metadata)
        else:
            payload = input_path.read_bytes()
            lines = list(range(1, payload.count(b"\n") + 2))
            keep_meta = True  # makejinja copies such files with shutil.copy2
        target = self.work.rendered_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(payload)
        self.work.outputs[rel] = Output(
            path=rel,
            source=source_rel,
            lines=tuple(lines),
            secret=is_secret(rel),
            mode=stat.S_IMODE(st.st_mode) if keep_meta else None,
            mtime=st.st_mtime if keep_meta else None,
            content=None if is_secret(rel) else payload,
        )

    def _render(
        self, env: Environment, name: str, file_data: dict[str, Any]
    ) -> tuple[str, list[int], str] | None:
        from jinja2 import TemplateSyntaxError, UndefinedError

        try:
            template = env.get_template(name)
        except TemplateSyntaxError as exc:
            where = Where(_rel(self.root, Path(exc.filename)) if exc.filename else name, exc.lineno)
            self.errors.append((where, f"template syntax error: {exc.message}"))
            return None
        source_rel = _rel(self.root, Path(template.filename)) if template.filename else name
        try:
            text, lines = linemap.render_traced(env, template, file_data)
        except (KeyboardInterrupt, SystemExit):
            raise
        except UndefinedError as exc:
            self.errors.append((self._where(exc, source_rel), f"undefined variable: {exc.message}"))
            return None
        except Exception as exc:
            self.errors.append((self._where(exc, source_rel), f"{type(exc).__name__}: {exc}"))
            return None
        return text, lines, source_rel

    def _where(self, exc: BaseException, fallback: str) -> Where:
        found = linemap.template_frame(exc)
        if found is None:
            return Where(fallback)
        return Where(_rel(self.root, Path(found[0])), found[1])


def _file_loaders(env: Any) -> list[Any]:
    """The loaders of ``env`` for the single-file inputs (makejinja reads those itself, up front)."""
    from jinja2 import ChoiceLoader, FileSystemLoader

    loader = env.loader
    found = loader.loaders if isinstance(loader, ChoiceLoader) else [loader]
    return [item for item in found if not isinstance(item, FileSystemLoader)]


def _setup_error(exc: BaseException) -> TemplateError:
    return TemplateError(
        f"cannot set up makejinja (data files, plugins): {type(exc).__name__}: {exc}",
        where=Where(CONFIG_FILE),
        hint="check the data files and the plugins listed in makejinja.toml",
    )


def _program_missing(exc: FileNotFoundError) -> bool:
    """Whether a plugin tried to run a program that is not installed (``subprocess`` raised it)."""
    traceback = exc.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename.endswith(("subprocess.py", "os.py")):
            return exc.filename is not None
        traceback = traceback.tb_next
    return False


def _missing_module(exc: ModuleNotFoundError, config: Any) -> HomeopsError:
    """A plugin that is not where makejinja.toml says, or a package a plugin imports that is missing."""
    plugins = {name.split(":", 1)[0].split(".", 1)[0] for name in (*config.plugins, *config.loaders)}
    if exc.name is None or exc.name.split(".", 1)[0] in plugins:
        return ConfigError(
            f"the makejinja plugin module {exc.name!r} is not in import_paths",
            where=Where(CONFIG_FILE),
            hint="check loaders/plugins and import_paths in makejinja.toml",
        )
    package = exc.name.split(".", 1)[0]
    return MissingTool(
        f"Python package {package!r} (the template's makejinja plugin imports it)",
        f"install it for the Python homeops runs on ({sys.executable} -m pip install {package}), or declare "
        "the plugin's packages in the repository's pyproject.toml and create its environment ('uv sync'): "
        "homeops then runs the plugin with .venv/bin/python",
    )


def _template_errors(errors: list[tuple[Where, str]]) -> TemplateError:
    where, message = errors[0]
    if len(errors) > 1:
        rest = "\n".join(f"  {w}: {m}" for w, m in errors[1:])
        message = f"{message}\n  and {len(errors) - 1} more:\n{rest}"
    return TemplateError(
        message, where=where, hint="fix the templates or their input values; nothing was written"
    )


def _undefined_class(config: Any, allow: bool) -> type[Undefined]:
    from jinja2 import DebugUndefined, StrictUndefined

    base: type[Undefined] = config.undefined.value
    if allow or issubclass(base, (StrictUndefined, DebugUndefined)):
        return base
    return loud_undefined(base)


def loud_undefined(base: type[Undefined]) -> type[Undefined]:
    """``base``, except that printing the value is an error instead of empty text."""

    class PrintedUndefined(base):  # type: ignore[valid-type,misc]
        __slots__ = ()

        def __str__(self) -> str:
            self._fail_with_undefined_error()
            return ""  # pragma: no cover - the line above raises

        __html__ = __str__

    return PrintedUndefined


@contextlib.contextmanager
def _plugin_imports(paths: Sequence[Path]) -> Iterator[None]:
    """Make the plugins importable for this run only, without writing ``__pycache__`` into the repo."""
    resolved = [p.resolve() for p in paths]
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    saved_bytecode = sys.dont_write_bytecode
    sys.path.extend(str(p) for p in resolved)
    sys.dont_write_bytecode = True
    try:
        yield
    finally:
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_bytecode
        for name in set(sys.modules) - saved_modules:
            module_file = getattr(sys.modules.get(name), "__file__", None)
            if module_file and any(Path(module_file).resolve().is_relative_to(p) for p in resolved):
                del sys.modules[name]
