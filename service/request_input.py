"""What a request brings in, refused at the door when the app could not read or store it.

Python's ``json`` accepts what the rest of the stack cannot handle: integers of thousands
of digits (``int()`` refuses past 4,300 digits with ValueError, which webargs does not
catch), nesting that ends in RecursionError, ``NaN``/``Infinity``, and ``"\\ud800"``, a lone
surrogate that parses into a ``str`` no database driver can encode. And PostgreSQL refuses
a NUL character in any text, which a form field or query string carries as ``%00``. Each
of those was a 500.

One ``before_request`` hook checks every request of every route before its view runs
(flask-smorest/webargs parse the same JSON bytes again, so they only ever see bodies that
passed), and one JSON provider gives ``request.get_json()`` the same parser:

- a JSON body that cannot be read within the limits → 400, "The JSON body cannot be read: …";
- text the database cannot store (a lone surrogate or a NUL character) in a JSON key or
  value, a form field or a query parameter → 422, naming it as ``json.<path>``,
  ``form.<name>`` or ``query.<name>``. (Forms and query strings cannot carry surrogates:
  werkzeug decodes them with replacement characters.)
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, HTTPException, UnprocessableEntity

#: Deepest nesting of arrays and objects; the API's bodies are at most 4 levels deep.
MAX_DEPTH = 32
#: Longest number literal; far past any id, seed or answer, far below int()'s 4,300 digits.
MAX_NUMBER_CHARS = 100

_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")


class MalformedBody(ValueError):
    """The body is not JSON this server reads (a ValueError, as ``json.loads`` raises)."""


def loads(data: str | bytes) -> Any:
    """Parse JSON text within the limits above, or raise :class:`MalformedBody`."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise MalformedBody(f"it is not UTF-8 (byte {error.start})") from None
    try:
        value = json.loads(data, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except RecursionError:
        raise MalformedBody(f"it is nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as error:
        raise MalformedBody(f"{error.msg} (line {error.lineno}, column {error.colno})") from None
    depth = _depth(value)
    if depth > MAX_DEPTH:
        raise MalformedBody(f"it is nested deeper than {MAX_DEPTH} levels")
    return value


def unstorable_text(value: Any) -> tuple[list[str | int], str] | None:
    """The path and reason of the first key or string the database cannot store, if any."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            reason = _text_problem(item)
            if reason:
                return path, reason
        elif isinstance(item, dict):
            for key, child in item.items():
                reason = _text_problem(key)
                if reason:
                    return [*path, printable(key)], f"the field name {reason}"
                stack.append((child, [*path, key]))
        elif isinstance(item, list):
            stack.extend((child, [*path, index]) for index, child in enumerate(item))
    return None


class JSONProvider(DefaultJSONProvider):
    """Flask's provider, with :func:`loads` for reading (``request.get_json()`` and all)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)


def init_app(app: Flask) -> None:
    app.json = JSONProvider(app)
    app.before_request(check_request)


def check_request() -> None:
    """Refuse input the app cannot read or store, before the view sees it."""
    for location, fields in (("query", request.args), ("form", request.form)):
        for name, value in fields.items(multi=True):
            reason = _text_problem(name)
            if reason:
                _refuse_text(location, [printable(name)], f"the field name {reason}")
            reason = _text_problem(value)
            if reason:
                _refuse_text(location, [name], reason)
    if not request.is_json:
        return
    data = request.get_data(cache=True)
    if not data.strip():
        return
    try:
        value = loads(data)
    except MalformedBody as error:
        raise _refusal(BadRequest, f"The JSON body cannot be read: {error}.", None) from None
    found = unstorable_text(value)
    if found is not None:
        _refuse_text("json", *found)


def _refuse_text(location: str, path: list[str | int], reason: str) -> NoReturn:
    where = ".".join([location, *map(str, path)])
    message = f"The text {reason}; send valid Unicode text."
    messages: Any = [message]
    for key in reversed(path):
        messages = {key: messages}
    detail = f"The request is not valid: {where}: {message}"
    raise _refusal(UnprocessableEntity, detail, {location: messages})


def _refusal(kind: type[HTTPException], detail: str, messages: Any) -> HTTPException:
    """The error, with what ``service.errors.problem_response`` turns into problem details."""
    error = kind(detail)
    error.data = {"message": detail} if messages is None else {"messages": messages}  # type: ignore[attr-defined]
    return error


def _text_problem(text: str) -> str | None:
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return f"contains a NUL character (at character {match.start()})"
    code = ord(match.group())
    return f"contains a lone surrogate (\\u{code:04x} at character {match.start()})"


def printable(text: str) -> str:
    """The text with each lone surrogate or NUL replaced by U+FFFD, safe to show or store."""
    return _UNSTORABLE.sub("\ufffd", text)


def _depth(value: Any) -> int:
    """Nesting depth of arrays and objects, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                stack.extend((child, level + 1) for child in item)
    return deepest


def _integer(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise MalformedBody(f"a number has more than {MAX_NUMBER_CHARS} digits")
    return int(literal)


def _float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise MalformedBody(f"a number has more than {MAX_NUMBER_CHARS} characters")
    number = float(literal)
    if not math.isfinite(number):
        raise MalformedBody(f"the number {literal} is out of range")
    return number


def _constant(name: str) -> float:
    raise MalformedBody(f"{name} is not a JSON value")
