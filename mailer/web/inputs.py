"""The characters no admin or API request may carry into the database, refused in one place.

PostgreSQL cannot store a NUL (U+0000) in text ("A string literal cannot contain NUL"), and no
UTF-8 holds a lone surrogate (U+D800–U+DFFF, which a JSON body can spell as "\\ud800"): either
reaching a query was a 500. So:

- a path holding one, or any other control character, names nothing that exists: an admin page
  or API operation answers it with its 404 before it runs (`unfit_path`; the API after the
  token's check, which comes first there);
- a query parameter, form field or JSON member holding one is refused by the same route classes
  (`unstorable_input`): a 422 that names the field, as an admin page or as the API's JSON
  `detail`.

The public pages keep their own, gentler rules (a NUL dropped from a subscriber's name; a bad
unsubscribe link's own "This link is not valid"; an unknown slug's 404), so they are not checked
here; tests/web/test_app.py asks every route, public ones too, with a NUL in each path parameter.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request

from subscribers.text import has_control_characters

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _shown(name: str) -> str:
    """A field name as the message prints it: its unstorable characters spelled as escapes."""
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m[0]):04x}", name)


def _problem(text: str) -> str | None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found[0] == "\x00":
        return "a NUL character (U+0000)"
    return f"an invalid character (a lone surrogate, U+{ord(found[0]):04X})"


def unfit_path(request: Request) -> bool:
    """Whether the request's path holds a character no admin or API address has (a control
    character, a NUL among them, or a lone surrogate): such a path is a page that does not
    exist. (The scope's path: `request.url.path` has lost any tab or line feed.)"""
    path = request.scope["path"]
    return has_control_characters(path) or _UNSTORABLE.search(path) is not None


def _in_json(document: Any) -> tuple[str, str] | None:
    """(the member's path, the problem) of the first unstorable text in a JSON document, keys
    included; walked without recursion (a deeply nested body must not overflow the stack)."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            problem = _problem(value)
            if problem:
                return where or "the body", problem
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                name = f"{where}.{_shown(key)}" if where else _shown(key)
                problem = _problem(key)
                if problem:
                    return name, problem
                stack.append((name, item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{n}]", item) for n, item in reversed(list(enumerate(value))))
    return None


def _message(kind: str, name: str, problem: str) -> str:
    return (
        f"The {kind} “{name}” holds {problem}, which cannot be stored: remove it (it is often "
        "pasted in unseen along with copied text) and send the request again."
    )


async def unstorable_input(request: Request) -> str | None:
    """What is wrong with the request's query parameters, form fields or JSON body, naming the
    field, or None when everything in them can be stored. Reading the form or body here is what
    the route would do next (Starlette keeps what was read for it)."""
    for key, value in request.query_params.multi_items():
        problem = _problem(key) or _problem(value)
        if problem:
            return _message("query parameter", _shown(key), problem)
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(FORM_TYPES):
        form = await request.form()  # an unreadable form is the 400 the route would give
        for key, item in form.multi_items():
            problem = _problem(key) or (_problem(item) if isinstance(item, str) else None)
            if problem:
                return _message("form field", _shown(key), problem)
    elif "json" in content_type:
        body = await request.body()  # over the upload limit: the 413 the route would give
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):  # not JSON (or not UTF-8): FastAPI answers it
            return None
        found = _in_json(document)
        if found:
            return _message("JSON member", *found)
    return None
