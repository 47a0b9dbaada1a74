"""Render a Jinja template while recording which template line produced each output line.

How: the template's render generator is stepped chunk by chunk. After each chunk the generator's
frame says which line of the compiled Python code yielded it, and Jinja's debug table maps that
code line to a template line. Constant text (``yield 'literal'``) is matched to the template's
constant nodes from that line on (Jinja's parser knows the line each starts on, after whitespace
control), so every line of a multi-line literal gets its own template line; a value from a ``#{ }#``
expression maps to the expression's line.

Right for the common cases: fixed text with ``#{ }#`` substitutions, ``#% if %#`` / ``#% for %#``
blocks (loop bodies map to the body's lines on every iteration), comments, whitespace control.
Limits: output of an ``include``, a macro call or a ``filter`` block maps to the line of the
statement that produced it; a multi-line value maps every line to the expression's line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import GeneratorType, TracebackType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from jinja2 import Environment, Template


def render_traced(env: Environment, template: Template, context: Mapping[str, Any]) -> tuple[str, list[int]]:
    """The rendered text (as ``template.render`` gives it) and the template line of each output line.

    ``lines[i]`` is the 1-based template line of output line ``i + 1`` (0 when unknown). Exceptions
    raised while rendering propagate unchanged (see :func:`template_frame`).
    """
    source = _source_of(env, template)
    code_lines = env.compile(source, template.name, template.filename, raw=True).splitlines()
    tracker = _Tracker(_constant_pieces(env, source, template))
    gen = cast(
        "GeneratorType[str, None, None]", template.root_render_func(template.new_context(dict(context)))
    )
    chunks: list[str] = []
    while True:
        try:
            chunk = next(gen)
        except StopIteration:
            break
        frame = gen.gi_frame
        code_line = frame.f_lineno if frame is not None else 0
        anchor = template.get_corresponding_lineno(code_line) if code_line else 0
        literal = 0 < code_line <= len(code_lines) and _is_literal_yield(code_lines[code_line - 1])
        tracker.feed(chunk, code_line, anchor, literal)
        chunks.append(chunk)
    return "".join(chunks), tracker.lines


def _source_of(env: Environment, template: Template) -> str:
    assert env.loader is not None and template.name is not None
    source, _, _ = env.loader.get_source(env, template.name)
    return source


def _is_literal_yield(code: str) -> bool:
    text = code.lstrip()
    return text.startswith(("yield '", 'yield "'))


class _Tracker:
    """Turns (chunk, code line, anchor line, literal?) events into a template line per output line.

    A literal chunk is the text of one or more consecutive constant nodes of the template (Jinja joins
    neighbours into one ``yield``); it is matched to them, which gives the line each starts on.
    """

    def __init__(self, pieces: list[tuple[int, str]]) -> None:
        self.pieces = pieces
        """(line, text) of each constant piece of output, in template order."""
        self.lines: list[int] = []
        self._at_line_start = True
        self._next = 0
        """Index of the piece after the last one matched."""
        self._code_line = 0
        """Line of the compiled code that yielded the last chunk (it goes back only in loops)."""

    def _match(self, chunk: str, at: int) -> list[tuple[int, str]] | None:
        joined: list[tuple[int, str]] = []
        size = 0
        for line, text in self.pieces[at:]:
            if not chunk.startswith(text, size):
                return None
            joined.append((line, text))
            size += len(text)
            if size == len(chunk):
                self._next = at + len(joined)
                return joined
        return None

    def _locate(self, chunk: str, anchor: int, forward: bool) -> list[tuple[int, str]] | None:
        # The compiled code follows the template; it only goes back when a loop starts over.
        lowest = self._next if forward else 0
        for i in range(lowest, len(self.pieces)):
            if self.pieces[i][0] >= anchor and (found := self._match(chunk, i)) is not None:
                return found
        for i in range(len(self.pieces)):
            if (found := self._match(chunk, i)) is not None:
                return found
        return None

    def feed(self, chunk: str, code_line: int, anchor: int, literal: bool) -> None:
        if not chunk:
            return
        forward = code_line >= self._code_line
        self._code_line = code_line
        pieces = self._locate(chunk, anchor, forward) if literal else None
        if pieces is None:
            pieces = [(anchor, chunk)]
            step_lines = False
        else:
            step_lines = True
        for line, text in pieces:
            for i, ch in enumerate(text):
                if self._at_line_start:
                    self.lines.append(line + text.count("\n", 0, i) if step_lines else line)
                    self._at_line_start = False
                if ch == "\n":
                    self._at_line_start = True


def _constant_pieces(env: Environment, source: str, template: Template) -> list[tuple[int, str]]:
    """(line, text) of the constant output of a template, in order, as the compiled code emits it."""
    from jinja2 import nodes
    from jinja2.optimizer import optimize

    tree: nodes.Node = env.parse(source, template.name, template.filename)
    if env.optimized:
        tree = optimize(tree, env)
    pieces: list[tuple[int, str]] = []
    for output in tree.find_all(nodes.Output):
        for child in output.nodes:
            if isinstance(child, nodes.TemplateData):
                pieces.append((child.lineno, child.data))
            elif isinstance(child, nodes.Const) and isinstance(child.value, str | int | float):
                pieces.append((child.lineno, str(child.value)))
    pieces.sort(key=lambda piece: piece[0])
    return pieces


def template_frame(exc: BaseException) -> tuple[str, int] | None:
    """(template file, line) of the innermost template frame of a rendering exception."""
    found: tuple[str, int] | None = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        template = tb.tb_frame.f_globals.get("__jinja_template__")
        if template is not None:
            found = (
                template.filename or template.name or "<template>",
                template.get_corresponding_lineno(tb.tb_lineno),
            )
        tb = tb.tb_next
    return found


# -- storage ---------------------------------------------------------------------------------------


def encode(lines: list[int]) -> str:
    """Compact text form: ``out:tmpl+count`` runs where template lines step by one, comma-separated."""
    runs: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i] <= 0:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j] == lines[j - 1] + 1:
            j += 1
        runs.append(f"{i + 1}:{lines[i]}+{j - i}")
        i = j
    return ",".join(runs)


def decode(text: str) -> Iterator[tuple[int, int, int]]:
    """The (first output line, its template line, count) runs of :func:`encode`."""
    for run in filter(None, text.split(",")):
        head, _, count = run.partition("+")
        out, _, tmpl = head.partition(":")
        yield int(out), int(tmpl), int(count)


def lookup(text: str, output_line: int) -> int | None:
    for out, tmpl, count in decode(text):
        if out <= output_line < out + count:
            return tmpl + output_line - out
    return None


def realign(plain: str, plain_lines: list[int], cipher: str) -> list[int]:
    """Carry a line map from a plaintext YAML file over to its SOPS-encrypted form.

    SOPS keeps keys and their order and replaces values, so lines are matched on their key part (the
    text up to the first ``: ``, indentation aside); the ``sops:`` metadata block maps to nothing.
    """
    import difflib

    def keys(text: str) -> list[str]:
        return [_key_part(line) for line in text.splitlines()]

    old, new = keys(plain), keys(cipher)
    mapped = [0] * len(new)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            a, b = block.a + k, block.b + k
            if a < len(plain_lines) and old[a]:
                mapped[b] = plain_lines[a]
    raw = cipher.splitlines()
    meta = next((i for i, line in enumerate(raw) if line.rstrip() == "sops:"), len(raw))
    return mapped[:meta] + [0] * (len(new) - meta)


def _key_part(line: str) -> str:
    # Indentation is left out: sops re-indents (4 spaces unless .sops.yaml sets stores.yaml.indent).
    body = line.strip()
    marker = ""
    if body.startswith("- "):
        marker, body = "- ", body[2:]
    head, sep, _ = body.partition(": ")
    if sep:
        return marker + head + ":"
    if body.endswith(":"):
        return marker + body
    return marker + "…"
