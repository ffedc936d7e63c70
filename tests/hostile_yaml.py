"""Hostile spec texts (issue 11, §4), shared by the library, web and API tests: each is
(text, line the error names, words of the reason). Before the loader limits each was a 500,
a RecursionError or a 10-20 s parse."""

from __future__ import annotations

#: A "billion laughs": 9**7 values from 200 bytes.
ALIAS_BOMB = "".join(
    f"{name}: &{name} [{', '.join([prev] * 9)}]\n"
    for name, prev in zip("abcdefg", ['"lol"', "*a", "*b", "*c", "*d", "*e", "*f"], strict=True)
)

HOSTILE_YAML: list[tuple[str, int, str]] = [
    (ALIAS_BOMB, 5, "more than 10,000 values, counting what aliases repeat"),
    ("a: &a [*a]\n", 1, "an alias refers to a value that contains it"),
    ("a: 1\nb: " + "[" * 900 + "]" * 900 + "\n", 2, "nested deeper than 32 levels"),
    ("a: 1\nb: !!python/name:os.system\n", 2, "tag !!python/name:os.system is not allowed"),
    ("a: 1\nb: !foo bar\n", 2, "tag !foo is not allowed"),
    ("a: 1\nb: !!binary aGk=\n", 2, "tag !!binary is not allowed"),
    ("a: 1\nb: !!set {x: null}\n", 2, "tag !!set is not allowed"),
    ("a: {<<: *b}\n", 1, "found undefined alias"),
    ("b: &b {x: 1}\na: {<<: *b, y: 2}\n", 2, "merge keys (<<) are not supported"),
    ("id: x\n1: y\n", 2, "the key '1' must be text"),
    ("id: x\n? [a, b]\n: y\n", 2, "mapping keys must be plain values"),
    ("version: " + "9" * 5000 + "\n", 1, "a number with more than 100 digits"),
    ("id: x\nb: !!int 12x\n", 2, "cannot read '12x'"),
    ("id: x\nb: !!bool maybe\n", 2, "cannot read 'maybe'"),
    ("id: x\ntitle: \ud800\n", 2, "character '\\ud800' (#xd800) is not allowed"),
    ("id: é\ntitle: a\x00b\n", 2, "character '\\x00' (#x0000) is not allowed"),
    ('id: x\ntitle: "a\\0b"\n', 2, "character '\\x00' (#x0000) is not allowed"),
    ("- 1\n- 2\n", 1, "the spec must be a mapping of fields"),
    ("a: 1\n---\nb: 2\n", 2, "expected a single document"),
    (
        "a: &a 1\nb: [" + ", ".join(["*a"] * 101) + "]\n",
        2,
        "more than 100 aliases",
    ),
]
