"""A per-recipient template as a stencil: the text every recipient shares, and the holes where one
recipient's values go.

A campaign fills the same ~55 KB template for every recipient, and only a few short values differ
(the name, the address, the unsubscribe, reply and tracked-link URLs). Filling the template once
with a unique sentinel per value and splitting on the sentinels gives the static pieces; a composer
can then encode them once per campaign and per message write only the values (sending/bodies.py).

That is exact only for a template that prints each value as it is (HTML-escaped when autoescaped)
and otherwise only asks whether a value is empty: the second-stage templates that
`render_issue` writes are of this kind (`[[% name %]]`, `[[% links[3] %]]`,
`[[@ if open_url @]]…`). `stencil_fields` checks the parsed template and refuses anything else — a
filter, a call, a comparison, a loop — so a template of another shape is filled by Jinja per
recipient (`stencil` returns None), whatever it looks like. Which branches a template takes
depends on which values are empty (and on how many links there are), so a stencil is made for one
such shape (`shape`) and serves every recipient of that shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2 import nodes

# Private-use characters around a hole's key: they survive HTML escaping unchanged, and a template
# that contains either anyway is not made into a stencil.
_OPEN, _CLOSE = "\ue000", "\ue001"
_HOLE = re.compile(f"{_OPEN}([a-z_]+(?:\\[[0-9]+\\])?){_CLOSE}")

Piece = str  # static text at even positions, a hole's key at odd positions


def stencil_fields(env: jinja2.Environment, source: str, fields: Mapping[str, Any]) -> bool:
    """Whether the template `source` only prints the `fields` as they are (a string field by name,
    a tuple field by a constant index) and only tests them by `if field` (with else/elif).
    Anything else — filters, calls, tests, comparisons, loops, assignments, other names — is
    refused: the stencil could not reproduce it."""
    if _OPEN in source or _CLOSE in source:
        return False
    try:
        tree = env.parse(source)
    except jinja2.TemplateSyntaxError:
        return False
    return all(_plain_node(node, fields) for node in tree.body)


def _plain_node(node: nodes.Node, fields: Mapping[str, Any]) -> bool:
    if isinstance(node, nodes.Output):
        return all(_plain_expr(expr, fields) for expr in node.nodes)
    if isinstance(node, nodes.If):
        test = node.test
        if not (isinstance(test, nodes.Name) and test.ctx == "load" and test.name in fields):
            return False
        branches = [*node.body, *node.elif_, *node.else_]
        return all(_plain_node(child, fields) for child in branches)
    return False


def _plain_expr(expr: nodes.Node, fields: Mapping[str, Any]) -> bool:
    if isinstance(expr, nodes.TemplateData):
        return True
    if isinstance(expr, nodes.Const):
        return isinstance(expr.value, str)
    if isinstance(expr, nodes.Name):
        return expr.ctx == "load" and isinstance(fields.get(expr.name), str)
    if isinstance(expr, nodes.Getitem):
        target, index = expr.node, expr.arg
        return (
            isinstance(target, nodes.Name)
            and isinstance(fields.get(target.name), tuple)
            and isinstance(index, nodes.Const)
            and type(index.value) is int
            and index.value >= 0
        )
    return False


def shape(values: Mapping[str, Any]) -> tuple[int, ...]:
    """What decides a plain template's branches: which values are empty, how many items a tuple
    holds (an index past the end is an error, which Jinja reports)."""
    return tuple(len(v) if isinstance(v, tuple) else int(bool(v)) for v in values.values())


def stencil(template: jinja2.Template, values: Mapping[str, Any]) -> list[Piece] | None:
    """The template as pieces for recipients of `values`' shape: static text at even positions,
    at odd ones the key of a hole (`name`, `links[3]`: `str.format` syntax). None when the fill
    fails (the Jinja path then reports the error per recipient as before).

    Only for templates `stencil_fields` accepted; each non-empty value is a sentinel here."""
    marked: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, tuple):
            marked[key] = tuple(f"{_OPEN}{key}[{n}]{_CLOSE}" for n in range(len(value)))
        else:
            marked[key] = f"{_OPEN}{key}{_CLOSE}" if value else ""
    try:
        filled = template.render(marked)
    except jinja2.TemplateError:
        return None
    return _HOLE.split(filled)
