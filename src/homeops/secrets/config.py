"""``.sops.yaml``: its creation rules, and which rule sops picks for a file.

Matching follows sops (``config/config.go``): rules are tried in order, a rule without ``path_regex``
matches every file, otherwise the first rule whose ``path_regex`` *finds* (unanchored search) the file's
path relative to the directory of ``.sops.yaml``. sops compiles patterns as Go RE2; the few RE2 spellings
Python's ``re`` lacks are translated, and Python-only constructs RE2 rejects are reported as errors.
Pure Python, no subprocess: ``homeops check`` calls this for every encrypted file.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError, Where
from ..load import yamlio
from ..load.tree import SourceTree
from ..load.walk import LeadsOutside, read_inside
from ..records import FrozenRecord

CONFIG_NAME = ".sops.yaml"
#: sops does not read this name (it warns and ignores it); reported so users can rename it.
ALTERNATE_NAME = ".sops.yml"

#: Options choosing which values get encrypted; sops allows at most one per rule.
CRYPT_OPTIONS = (
    "encrypted_regex",
    "unencrypted_regex",
    "encrypted_suffix",
    "unencrypted_suffix",
    "encrypted_comment_regex",
    "unencrypted_comment_regex",
)


class KeyGroup(FrozenRecord):
    """One entry of ``key_groups`` (age and PGP keys; other key types are kept in ``raw`` only)."""

    __slots__ = ("age", "pgp")

    age: tuple[str, ...]
    pgp: tuple[str, ...]

    def __init__(self, age: tuple[str, ...] = (), pgp: tuple[str, ...] = ()) -> None:
        object.__setattr__(self, "age", age)
        object.__setattr__(self, "pgp", pgp)


class CreationRule(FrozenRecord):
    """One entry of ``creation_rules``."""

    __slots__ = (
        "age",
        "encrypted_regex",
        "encrypted_suffix",
        "index",
        "key_groups",
        "line",
        "mac_only_encrypted",
        "path_regex",
        "pgp",
        "raw",
        "shamir_threshold",
        "unencrypted_regex",
        "unencrypted_suffix",
    )
    _unshown = ("raw",)
    _uncompared = ("raw",)

    index: int
    """0-based position in ``creation_rules`` (first match wins)."""
    line: int
    """1-based line of the rule in ``.sops.yaml`` (0 for rules built in memory)."""
    path_regex: str
    """Empty: the rule matches every file."""
    age: tuple[str, ...]
    pgp: tuple[str, ...]
    key_groups: tuple[KeyGroup, ...]
    encrypted_regex: str
    unencrypted_regex: str
    encrypted_suffix: str
    unencrypted_suffix: str
    mac_only_encrypted: bool
    shamir_threshold: int
    raw: Mapping[str, Any]
    """The rule as written, handed back to sops when homeops builds a configuration in memory."""

    def __init__(
        self,
        index: int,
        line: int,
        path_regex: str,
        age: tuple[str, ...] = (),
        pgp: tuple[str, ...] = (),
        key_groups: tuple[KeyGroup, ...] = (),
        encrypted_regex: str = "",
        unencrypted_regex: str = "",
        encrypted_suffix: str = "",
        unencrypted_suffix: str = "",
        mac_only_encrypted: bool = False,
        shamir_threshold: int = 0,
        raw: Mapping[str, Any] | None = None,
    ) -> None:
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "path_regex", path_regex)
        object.__setattr__(self, "age", age)
        object.__setattr__(self, "pgp", pgp)
        object.__setattr__(self, "key_groups", key_groups)
        object.__setattr__(self, "encrypted_regex", encrypted_regex)
        object.__setattr__(self, "unencrypted_regex", unencrypted_regex)
        object.__setattr__(self, "encrypted_suffix", encrypted_suffix)
        object.__setattr__(self, "unencrypted_suffix", unencrypted_suffix)
        object.__setattr__(self, "mac_only_encrypted", mac_only_encrypted)
        object.__setattr__(self, "shamir_threshold", shamir_threshold)
        object.__setattr__(self, "raw", {} if raw is None else raw)

    @property
    def recipients(self) -> tuple[str, ...]:
        """Age recipients and PGP fingerprints of the rule, key groups included, in order, unique."""
        found: list[str] = [*self.age, *self.pgp]
        for group in self.key_groups:
            found.extend(group.age)
            found.extend(group.pgp)
        return tuple(dict.fromkeys(found))

    def matches(self, rel_path: str) -> bool:
        """Whether sops would consider this rule for ``rel_path`` (relative to ``.sops.yaml``)."""
        if not self.path_regex:
            return True
        return compile_go_regex(self.path_regex).search(rel_path) is not None

    def problems(self) -> list[str]:
        """What sops would reject in this rule (it reports them when the rule is used)."""
        found = []
        used = [name for name in CRYPT_OPTIONS if self.raw.get(name)]
        if len(used) > 1:
            found.append(f"uses {' and '.join(used)}: sops allows only one of them per rule")
        for name, pattern in (
            ("path_regex", self.path_regex),
            ("encrypted_regex", self.encrypted_regex),
            ("unencrypted_regex", self.unencrypted_regex),
        ):
            if pattern:
                try:
                    compile_go_regex(pattern)
                except ConfigError as exc:
                    found.append(f"{name}: {exc.message}")
        for recipient in self.age + tuple(r for g in self.key_groups for r in g.age):
            if not re.fullmatch(r"age1[0-9a-z]+|ssh-\S+ \S+.*", recipient):
                found.append(f"age recipient {recipient!r} is not an age public key (age1…) or SSH key")
        return found


class SopsConfig(FrozenRecord):
    """A parsed ``.sops.yaml``."""

    __slots__ = ("path", "rules", "stores", "text")
    _unshown = (
        "stores",
        "text",
    )

    path: str
    """Repo-relative path of the file (``.sops.yaml``), or ``<memory>`` for a built configuration."""
    rules: tuple[CreationRule, ...]
    stores: Mapping[str, Any]
    """The ``stores`` section (indentation of YAML and JSON output)."""
    text: bytes
    """The exact bytes handed to sops."""

    def __init__(
        self,
        path: str,
        rules: tuple[CreationRule, ...],
        stores: Mapping[str, Any] | None = None,
        text: bytes = b"",
    ) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "rules", rules)
        object.__setattr__(self, "stores", {} if stores is None else stores)
        object.__setattr__(self, "text", text)

    def rule_for(self, rel_path: str) -> CreationRule | None:
        """The rule sops uses to encrypt ``rel_path`` (repo-relative, forward slashes), or None.

        Raises :class:`ConfigError` when a ``path_regex`` tried before the match does not compile,
        as sops fails there too.
        """
        for rule in self.rules:
            try:
                if rule.matches(rel_path):
                    return rule
            except ConfigError as exc:
                raise ConfigError(
                    f"creation rule {rule.index + 1}: path_regex: {exc.message}",
                    where=Where(self.path, rule.line),
                    hint="fix the pattern: sops uses Go regular expressions (RE2)",
                ) from None
        return None

    def problems(self) -> list[tuple[int, str]]:
        """(line, message) for everything sops would reject in this file."""
        return [
            (rule.line, f"creation rule {rule.index + 1}: {p}")
            for rule in self.rules
            for p in rule.problems()
        ]

    @classmethod
    def build(cls, rules: Sequence[Mapping[str, Any]], stores: Mapping[str, Any] | None = None) -> SopsConfig:
        """A configuration made in memory from raw rules (as they would be written in ``.sops.yaml``)."""
        document: dict[str, Any] = {"creation_rules": [dict(r) for r in rules]}
        if stores:
            document["stores"] = dict(stores)
        text = yaml.safe_dump(document, sort_keys=False).encode("utf-8")
        return parse_sops_config(text, "<memory>")


def load_sops_config(tree_or_root: SourceTree | str | Path) -> SopsConfig | None:
    """The ``.sops.yaml`` at the root of a repository, or None when there is none.

    Raises :class:`ConfigError` when the file is not YAML or not shaped like a sops configuration.
    """
    root = tree_or_root.root if isinstance(tree_or_root, SourceTree) else Path(tree_or_root)
    try:
        text = read_inside(root, CONFIG_NAME)
    except FileNotFoundError:
        return None
    except LeadsOutside as exc:
        raise ConfigError(str(exc), where=Where(CONFIG_NAME), hint="put the file itself there") from exc
    except OSError as exc:
        raise ConfigError(
            f"cannot read {CONFIG_NAME}: {exc.strerror or exc}", where=Where(CONFIG_NAME)
        ) from exc
    return parse_sops_config(text, CONFIG_NAME)


def parse_sops_config(text: bytes, path: str = CONFIG_NAME) -> SopsConfig:
    """Parse the content of a ``.sops.yaml``."""
    parsed = yamlio.parse(text)
    if parsed.failure is not None:
        raise ConfigError(
            f"not valid YAML: {parsed.failure.reason}",
            where=Where(path, parsed.failure.line),
            hint="sops will refuse this file too; fix the YAML",
        )
    documents = [d for d in parsed.documents if d is not None]
    if not documents:
        return SopsConfig(path, (), {}, text)
    data = documents[0]
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping with creation_rules", where=Where(path, parsed.lines[0]))
    raw_rules = data.get("creation_rules")
    if raw_rules is None:
        raw_rules = []
    if not isinstance(raw_rules, list):
        raise ConfigError("creation_rules must be a list", where=Where(path, parsed.lines[0]))
    lines = _rule_lines(text, len(raw_rules))
    rules = tuple(_rule(i, lines[i], raw, path) for i, raw in enumerate(raw_rules))
    stores = data.get("stores")
    return SopsConfig(path, rules, stores if isinstance(stores, dict) else {}, text)


def _rule(index: int, line: int, raw: Any, path: str) -> CreationRule:
    if not isinstance(raw, dict):
        raise ConfigError(f"creation rule {index + 1} is not a mapping", where=Where(path, line))

    def text(name: str) -> str:
        value = raw.get(name)
        return "" if value is None else str(value)

    groups = []
    for group in raw.get("key_groups") or []:
        if isinstance(group, dict):
            groups.append(KeyGroup(_key_list(group.get("age")), _key_list(group.get("pgp"))))
    threshold = raw.get("shamir_threshold")
    return CreationRule(
        index=index,
        line=line,
        path_regex=text("path_regex"),
        age=_key_list(raw.get("age")),
        pgp=_key_list(raw.get("pgp")),
        key_groups=tuple(groups),
        encrypted_regex=text("encrypted_regex"),
        unencrypted_regex=text("unencrypted_regex"),
        encrypted_suffix=text("encrypted_suffix"),
        unencrypted_suffix=text("unencrypted_suffix"),
        mac_only_encrypted=raw.get("mac_only_encrypted") is True,
        shamir_threshold=threshold if isinstance(threshold, int) else 0,
        raw=raw,
    )


def _key_list(value: Any) -> tuple[str, ...]:
    """A key field as sops reads it: a comma-separated string or a list of strings."""
    if value is None:
        return ()
    items = (
        value.split(",")
        if isinstance(value, str)
        else [str(v) for v in value]
        if isinstance(value, list)
        else []
    )
    return tuple(item.strip() for item in items if item.strip())


def _rule_lines(text: bytes, count: int) -> list[int]:
    lines = [0] * count
    try:
        nodes = yamlio.compose(yamlio.decode(text))
    except UnicodeDecodeError:
        return lines
    if nodes:
        for i in range(count):
            lines[i] = yamlio.locate(nodes[0], ["creation_rules", i])
    return lines


# -- Go RE2 patterns in Python ------------------------------------------------------------------

_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}


@functools.lru_cache(maxsize=512)
def compile_go_regex(pattern: str) -> re.Pattern[str]:
    """Compile a Go (RE2) regular expression with Python's ``re``, as closely as sops would read it."""
    translated = _translate(pattern)
    try:
        return re.compile(translated)
    except re.error as exc:
        raise ConfigError(f"invalid regular expression {pattern!r}: {exc}") from None


def _translate(pattern: str) -> str:
    out: list[str] = []
    i = 0
    in_class = False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "Q":  # \Q...\E quotes a literal
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                out.append(re.escape(literal))
                i = len(pattern) if end < 0 else end + 2
                continue
            if nxt == "z":
                out.append("\\Z")
            elif nxt.isdigit() and nxt != "0":
                raise ConfigError(f"invalid regular expression {pattern!r}: Go (RE2) has no backreferences")
            elif nxt in "pP":
                raise ConfigError(
                    f"regular expression {pattern!r}: Unicode classes (\\p) are not supported here"
                )
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if char == "[" and pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                name = pattern[i + 2 : end] if end > 0 else ""
                negated = name.startswith("^")
                if name.lstrip("^") in _POSIX_CLASSES and not negated:
                    out.append(_POSIX_CLASSES[name])
                    i = end + 2
                    continue
            if char == "]":
                in_class = False
            out.append(char)
            i += 1
            continue
        if char == "[":
            in_class = True
            out.append(char)
            # A ']' right after '[' or '[^' is a literal in both dialects.
            for prefix in ("[^]", "[]"):
                if pattern.startswith(prefix, i):
                    out.append(prefix[1:])
                    i += len(prefix)
                    break
            else:
                i += 1
            continue
        if char == "(" and pattern.startswith("(?", i):
            if pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
                raise ConfigError(f"invalid regular expression {pattern!r}: Go (RE2) has no lookaround")
            if pattern.startswith("(?<", i):  # Go 1.22 named group spelling
                out.append("(?P<")
                i += 3
                continue
        out.append(char)
        i += 1
    return "".join(out)
