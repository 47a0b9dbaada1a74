"""Which template line produced each output line (read the templates below to check the numbers)."""

from __future__ import annotations

from jinja2 import DictLoader, Environment

from homeops.configure import linemap

TEMPLATE = """\
---
#| a comment |#
name: #{ name }#
#% if enabled %#
enabled: true
#% else %#
enabled: false
#% endif %#
items:
#% for item in items %#
  - #{ item }#
#% endfor %#

tail: fixed
cert: |
  #{ cert | indent(2) }#
"""


def _env(**templates: str) -> Environment:
    return Environment(
        loader=DictLoader(templates),
        block_start_string="#%",
        block_end_string="%#",
        variable_start_string="#{",
        variable_end_string="}#",
        comment_start_string="#|",
        comment_end_string="|#",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def test_lines_follow_blocks_loops_and_substitutions() -> None:
    env = _env(t=TEMPLATE)
    template = env.get_template("t")
    values = {"name": "x", "enabled": False, "items": ["a", "b"], "cert": "L1\nL2\nL3"}
    text, lines = linemap.render_traced(env, template, values)
    assert text == template.render(values)
    assert text.splitlines() == [
        "---",
        "name: x",
        "enabled: false",
        "items:",
        "  - a",
        "  - b",
        "",
        "tail: fixed",
        "cert: |",
        "  L1",
        "  L2",
        "  L3",
    ]
    # The lines of a multi-line value all map to the expression's line (16).
    assert lines == [1, 3, 7, 9, 11, 11, 13, 14, 15, 16, 16, 16]


def test_includes_map_to_the_include_statement() -> None:
    env = _env(outer="a: 1\n#% include 'inner' %#\nz: 26\n", inner="b: 2\nc: 3\n")
    text, lines = linemap.render_traced(env, env.get_template("outer"), {})
    assert text == "a: 1\nb: 2\nc: 3\nz: 26\n"
    assert lines == [1, 2, 2, 3]


def test_storage_round_trip() -> None:
    lines = [1, 2, 3, 0, 7, 7, 8]
    encoded = linemap.encode(lines)
    assert encoded == "1:1+3,5:7+1,6:7+2"
    assert [linemap.lookup(encoded, i) for i in range(1, 9)] == [1, 2, 3, None, 7, 7, 8, None]


def test_realign_to_sops_ciphertext() -> None:
    plain = "---\napiVersion: v1\nkind: Secret\nstringData:\n  a: hello\n  b: world\n"
    cipher = (
        "apiVersion: v1\nkind: Secret\nstringData:\n"
        "    a: ENC[AES256_GCM,data:x]\n    b: ENC[AES256_GCM,data:y]\n"
        "sops:\n    age:\n        - recipient: age1x\n    mac: ENC[x]\n"
    )
    assert linemap.realign(plain, [1, 2, 3, 4, 5, 6], cipher) == [2, 3, 4, 5, 6, 0, 0, 0, 0]
