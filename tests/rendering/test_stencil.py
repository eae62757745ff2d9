"""Which per-recipient templates a stencil may stand for (rendering/stencil.py): only those that
print the values as they are and test them by `if`; anything else is filled by Jinja per
recipient."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from markupsafe import escape

from mailer.rendering.email_edition import Personal, compile_personal_template
from mailer.rendering.environment import second_stage_env
from mailer.rendering.stencil import stencil, stencil_fields

FIELDS = asdict(Personal(email=""))
HTML = second_stage_env(html=True)


@pytest.mark.parametrize(
    "source",
    [
        "Hi [[% name %]] <[[% email %]]>",
        "[[@ if name @]][[% name %]][[@ elif email @]]x[[@ else @]]y[[@ endif @]]",
        '[[@ if links @]]<a href="[[% links[2] %]]">[[@ endif @]][[% "[[" %]]',
    ],
)
def test_plain_templates_are_accepted(source: str) -> None:
    assert stencil_fields(HTML, source, FIELDS)


@pytest.mark.parametrize(
    "source",
    [
        "[[% name|upper %]]",
        "[[% name ~ '!' %]]",
        '[[@ if name == "Ana" @]]VIP[[@ endif @]]',
        "[[@ if not name @]]friend[[@ endif @]]",
        "[[@ for link in links @]][[% link %]][[@ endfor @]]",
        "[[% links %]]",
        "[[% links[-1] %]]",
        "[[% links[name] %]]",
        "[[% name[0] %]]",
        "[[% nickname %]]",
        "[[@ set x = name @]][[% x %]]",
        "[[% name.upper() %]]",
        "[[% name %]] \ue000",
        "[[% name",
    ],
)
def test_anything_else_is_refused(source: str) -> None:
    assert not stencil_fields(HTML, source, FIELDS)


def test_a_stencil_filled_with_escaped_values_is_the_jinja_fill() -> None:
    source = (
        '<p title="[[% name %]]">[[@ if name @]][[% name %]][[@ else @]]reader[[@ endif @]]'
        '</p><a href="[[% links[1] %]]">[[% email %]]</a>'
    )
    template = compile_personal_template("html", source)
    for name in ("<b>\"Ann\" & 'Bo'</b>", ""):
        values = asdict(Personal(email="a&b@example.com", name=name, links=("u0", "u<1>")))
        pieces = stencil(template, values)
        assert pieces is not None
        filled = "".join(
            p if n % 2 == 0 else str(escape(eval_key(p, values))) for n, p in enumerate(pieces)
        )
        assert filled == template.render(values)
        assert ("name" in pieces) == bool(name)


def eval_key(key: str, values: dict[str, object]) -> object:
    """`name` or `links[1]`, as str.format reads a hole's key."""
    return ("{" + key + "}").format_map(values)
