"""The one template environment factory, the one mapping of template errors to RenderError, and
the one MJML compiler with its guard: the issue's editions, the confirmation email and the web pages
all use these, so every template is escaped, strict about undefined names and reported alike.

mjml-python does not validate: an unknown element or a wrong nesting comes out as an uncompiled
`<mj-…>` tag instead of an error, so `compile_mjml` refuses output that still holds one.
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from mjml import mjml2html

from mailer.rendering.chrome import fill, fill_marked, long_date_in
from mailer.rendering.context import language_of, reading_paragraphs, web_url
from mailer.rendering.errors import RenderError
from mailer.rendering.inline import bullets, inline_html, inline_text, prose
from mailer.rendering.links import MARKED_LINK
from subscribers.text import sentence

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent.parent / "templates"
TEXT_WIDTH = 72

# How often the expensive stages ran in this process. Operators (and tests) read it to confirm that
# a campaign compiles MJML and inlines CSS once, not once per recipient.
compile_counts: Counter[str] = Counter()


def wrap_text(
    text: str, width: int = TEXT_WIDTH, indent: str = "", first: str | None = None
) -> str:
    """Wrap prose for the text part; URLs and hyphenated words are never split.

    `first` replaces the indent of the first line (a list number with a hanging indent). A link
    marked for tracking (rendering/links.py) counts as long as its URL, not its markers, so a
    paragraph with links wraps like the reader will see it.
    """
    marked: dict[str, str] = {}

    def stand_in(m: re.Match[str]) -> str:
        key = chr(0xF0000 + len(marked)) * max(1, len(m.group(2)))  # private use: not in prose
        marked[key] = m.group(0)
        return key

    wrapped = textwrap.fill(
        MARKED_LINK.sub(stand_in, " ".join(text.split())),
        width=width,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    for key, link in marked.items():
        wrapped = wrapped.replace(key, link)
    return wrapped


def template_env(root: Path, *, html: bool) -> jinja2.Environment:
    """A Jinja environment over the template folder `root`: autoescaped when `html` (off only for
    text/plain parts, where escaping is wrong), StrictUndefined (a misspelt name is an error, not an
    empty string), with the filters the templates share.

    Built fresh on each call; `template_envs` keeps one pair per folder.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        autoescape=html,  # noqa: S701 - off only for the text/plain part, where escaping is wrong
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["longdate"] = long_date_in  # `d | longdate(lang)`: in the language
    env.filters["fill"] = fill  # `words.talk_to | fill(name=…)`: a wording's fields filled in
    # `words.x | marked(list=list_b)`: the same where a value is marked up (`<strong>…`)
    env.filters["marked"] = fill_marked if html else fill
    env.filters["wrap"] = wrap_text
    env.filters["weburl"] = web_url
    env.filters["langof"] = language_of
    env.filters["reading"] = reading_paragraphs
    env.filters["sentence"] = sentence  # "… from {{ firm }}." without a doubled stop
    # An issue's prose: `prose` cuts it for reading, `inline` shows its inline Markdown as HTML
    # (autoescaped environments) or as plain text (rendering/inline.py).
    env.filters["prose"] = prose
    env.filters["bullets"] = bullets
    env.filters["inline"] = inline_html if html else inline_text
    return env


def second_stage_env(*, html: bool) -> jinja2.Environment:
    """The per-recipient stage's environment: templates that the first stage's output became, with
    delimiters (`[[% name %]]`) no issue text can contain, so a reader's name is filled in without
    ever reading the issue as a template. Autoescaped when `html`, StrictUndefined."""
    return jinja2.Environment(
        variable_start_string="[[%",
        variable_end_string="%]]",
        block_start_string="[[@",
        block_end_string="@]]",
        comment_start_string="[[#",
        comment_end_string="#]]",
        line_statement_prefix=None,
        line_comment_prefix=None,
        autoescape=html,  # noqa: S701 - off only for the text/plain part
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=8)
def template_envs(root: str) -> tuple[jinja2.Environment, jinja2.Environment]:
    """(HTML, text) environments over a template folder, built once per folder."""
    path = Path(root)
    return template_env(path, html=True), template_env(path, html=False)


def fill_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    """Template `name` filled with `context`; RenderError naming the template and line."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template {exc.name or name}, line {exc.lineno}: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template {name} not found: {exc}") from exc
    except jinja2.UndefinedError as exc:
        raise RenderError(f"template {name}: {exc.message}") from exc
    except jinja2.TemplateError as exc:  # the rest: a filter's or a `{% raise %}`'s message
        raise RenderError(f"template {name}: {exc}") from exc


def compile_mjml(source: str, template_name: str) -> str:
    """MJML → HTML; mrml's parse errors and unknown elements become RenderErrors naming the file."""
    compile_counts["mjml"] += 1
    try:
        html = mjml2html(source, disable_comments=True, fonts={})
    except Exception as exc:  # mrml raises ValueError (and may grow other types)
        raise RenderError(f"template {template_name}: MJML error: {exc}") from exc
    leftover = re.search(r"<(mj-[a-z-]+)", html)
    if leftover:
        raise RenderError(
            f"template {template_name}: MJML left <{leftover.group(1)}> uncompiled "
            "(unknown element or wrong nesting)"
        )
    return html
