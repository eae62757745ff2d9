"""Rendering an issue once per campaign into the parts every message shares.

Contract (the rest of the mailer relies on exactly this):
- `render_issue(content, settings) -> RenderedIssue` is pure and runs once per issue/campaign:
  Jinja2 fills templates/newsletter/email.mjml.j2, mjml-python compiles, premailer inlines CSS
  (keeping @media rules), and the result becomes a small per-recipient template; the plain text
  comes from its own template; the PDF edition is printed once (rendering/pdf_edition.py).
- `Personalizer(rendered)` compiles the per-recipient templates once; `.render(personal)` fills only
  the fields of `Personal` (autoescaped) and is the only work done per recipient.

Why two template stages: MJML and premailer (libxml2) rewrite their input — libxml2
percent-encodes `{{ }}` inside href attributes and CSS is full of braces — so per-recipient fields
travel through them as opaque alphanumeric sentinels. Only after premailer are the sentinels
swapped for placeholders of a second Jinja environment whose delimiters (`[[% … %]]`) are
neutralised wherever they occur in the issue's own text, so neither CSS nor user text can ever act
as template syntax.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import lxml.html

from mailer.content.document import IssueContent
from mailer.rendering.context import issue_context
from mailer.rendering.environment import (
    TEMPLATE_ROOT,
    compile_counts,
    compile_mjml,
    fill_template,
    second_stage_env,
    template_envs,
)
from mailer.rendering.errors import RenderError
from mailer.rendering.inline import URL_HOLE, required_text
from mailer.rendering.links import SENTINEL_PREFIX, Link, LinkTable, second_stage
from mailer.rendering.pdf_edition import render_pdf
from mailer.rendering.stencil import shape, stencil, stencil_fields
from mailer.settings import Settings

EMAIL_TEMPLATE = "newsletter/email.mjml.j2"
TEXT_TEMPLATE = "newsletter/email.txt.j2"

MAX_HTML_BYTES = 102 * 1024  # Gmail clips a message whose HTML reaches 102 KB


@dataclass(frozen=True)
class Personal:
    """The only fields that vary between recipients of one campaign."""

    email: str
    name: str = ""
    unsubscribe_url: str = ""
    preferences_url: str = ""
    # The reader's reply+TOKEN address: "Talk to <partner>" writes there, so the message reaches
    # the partner through the inquiry record with the reader's context. Empty (previews, the web
    # edition): the partner's own address.
    reply_address: str = ""
    # The reader's signed redirect for each link of the issue's link table (rendering/links.py),
    # in table order; empty: the links go straight to their URLs and the footer's note that links
    # are tracked is left out.
    links: tuple[str, ...] = ()
    # The open-tracking pixel's URL (MAILER_TRACK_OPENS); empty: no pixel.
    open_url: str = ""


@dataclass(frozen=True)
class RenderedIssue:
    """Everything a campaign's messages share; stored with the campaign so every worker uses it."""

    subject: str
    preheader: str
    html_template: str  # inlined HTML, per-recipient fields as template placeholders
    text_template: str  # plain text, per-recipient fields as template placeholders
    pdf: bytes
    pdf_filename: str  # e.g. "MI-SecurityChatter-040925.pdf"
    # The issue's links in the order `Personal.links` follows (empty: click tracking was off).
    links: tuple[Link, ...] = ()
    # Whether the editions link to a public web edition (`IssueContent.web_edition`); the
    # composer leaves the List-Archive header out when they do not (a private list's campaign).
    web_edition: bool = True


# --------------------------------------------------------------------------------------------
# Stage one: Jinja → MJML → premailer, with per-recipient fields as sentinels
# --------------------------------------------------------------------------------------------

# Letters only: survives MJML, premailer, libxml2 attribute encoding and text wrapping untouched.
_SENTINEL_PREFIX = SENTINEL_PREFIX
_SENTINELS = {
    name: f"{_SENTINEL_PREFIX}{name.title().replace('_', '')}Qx"
    for name in (
        "email",
        "name",
        "unsubscribe_url",
        "preferences_url",
        "recipient",
        "reply_address",
        "if_tracked",
        "end_tracked",
        "open_pixel",
    )
}
_HTML_SNIPPETS = {
    "email": "[[% email %]]",
    "name": "[[% name %]]",
    "unsubscribe_url": "[[% unsubscribe_url %]]",
    "preferences_url": "[[% preferences_url %]]",
    "recipient": (
        "[[@ if name @]][[% name %]] ([[% email %]])[[@ else @]][[% email %]][[@ endif @]]"
    ),
    "reply_address": "[[% reply_address %]]",
    # Around what only a tracked message says (the footer's note that links are tracked).
    "if_tracked": "[[@ if links @]]",
    "end_tracked": "[[@ endif @]]",
    "open_pixel": (
        '[[@ if open_url @]]<img src="[[% open_url %]]" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0;">[[@ endif @]]'
    ),
}
# Same placeholders (the text environment simply does not escape); no pixel in plain text.
_TEXT_SNIPPETS = {**_HTML_SNIPPETS, "open_pixel": ""}


def preload() -> None:
    """Load premailer (and its cssutils) now rather than at the first rendering (a worker,
    before its pool forks); commands that only start or list campaigns never load it."""
    import premailer  # noqa: F401


# The firm's briefing shipped in the package (`mailer demo` sends it): what `warm_up` renders.
SAMPLE_ISSUE = (
    Path(__file__).resolve().parent.parent / "samples" / "security-chatter-2025-04-09.txt"
)


def warm_up(settings: Settings) -> None:
    """Render the packaged sample issue once, cut to its first item, and throw it away.

    For a worker's main process, before its pool forks. A process's first rendering costs
    about 0.8 s of CPU more than the next ones, none of it the issue's: Jinja compiling the
    three templates, cssutils compiling the validation expressions premailer's CSS parse uses,
    cffi parsing the C types WeasyPrint passes to Pango and HarfBuzz, pyphen reading its
    hyphenation dictionary, fontTools and pydyf loading. Done here once, every pool process
    inherits it and a campaign's start renders at the warm cost. Raises what `render_issue`
    raises (the caller decides whether a failed warm-up matters: the real rendering reports
    the same error when a campaign starts).
    """
    from mailer.content.briefing import parse_briefing

    sample = parse_briefing(SAMPLE_ISSUE.read_text(encoding="utf-8"), path=str(SAMPLE_ISSUE))
    render_issue(replace(sample, items=sample.items[:1]), settings)


def _inline_css(html: str) -> str:
    """Inline every CSS rule that can be inlined; keep the style blocks so @media still applies."""
    from premailer import Premailer  # here: ~0.3 s to import, needed only when rendering

    compile_counts["premailer"] += 1
    inliner = Premailer(
        html,
        keep_style_tags=True,
        strip_important=False,
        remove_classes=False,
        disable_validation=True,
        allow_network=False,
        cssutils_logging_level=logging.CRITICAL,
    )
    out = inliner.transform(pretty_print=False)
    if not out.lstrip().lower().startswith("<!doctype"):
        out = "<!doctype html>\n" + out
    return out


# After a closing block tag, the end of an Outlook conditional comment, or a cell's opening tag:
# places where a line break is whitespace that HTML ignores.
_BLOCK_END = re.compile(r"(</(?:p|div|table|tr|h[1-6]|ol|ul|li)>|<!\[endif\]-->|<td\b[^>]*>)(?!\n)")


def _short_lines(html: str) -> str:
    """A line break after each closing block tag (and the like, see _BLOCK_END) on the lines
    that carry a recipient's fields.

    Quoted-printable encodes each line whole, and a composer re-encodes per message only the lines
    that differ between recipients: MJML leaves the call to action and the footer on one line of
    about 10 KB. Between blocks a newline is only whitespace, which HTML ignores there; the other
    lines stay long, since each line costs a dictionary look-up per message.
    """
    return "\n".join(
        _BLOCK_END.sub("\\1\n", line) if _SENTINEL_PREFIX in line else line
        for line in html.split("\n")
    )


def _snippets(base: dict[str, str], content: IssueContent) -> dict[str, str]:
    """The placeholders of one issue: without a reader's reply address (previews, the web
    edition), "Talk to" writes to the partner. The address is percent-encoded as in any mailto
    URL, which also leaves it no character that second-stage template syntax could use."""
    partner = quote(content.partner.email, safe="@")
    fallback = f"[[@ if reply_address @]][[% reply_address %]][[@ else @]]{partner}[[@ endif @]]"
    return {**base, "reply_address": fallback}


def _to_second_stage(rendered: str, snippets: dict[str, str]) -> str:
    """Neutralise `[[` in the issue's own output, then turn sentinels into placeholders."""
    out = second_stage(rendered.replace("[[", '[[% "[[" %]]'))
    for key, sentinel in _SENTINELS.items():
        out = out.replace(sentinel, snippets[key])
    return out


def _check_no_sentinels(content: IssueContent) -> None:
    texts = [content.title, content.summary, content.call_to_action, content.partner.name]
    for item in content.items:
        texts += [item.headline, *item.paragraphs, item.source.title, item.source.outlet]
        texts.append(item.source.url or "")
    texts.append(content.more_info_url or "")
    if any(_SENTINEL_PREFIX in t for t in texts):
        raise RenderError(f"the issue's text contains the reserved word {_SENTINEL_PREFIX!r}")


# --------------------------------------------------------------------------------------------
# Stage two: the per-recipient templates
# --------------------------------------------------------------------------------------------


_HTML_ENV = second_stage_env(html=True)
_TEXT_ENV = second_stage_env(html=False)


@lru_cache(maxsize=64)
def compile_personal_template(kind: str, source: str) -> jinja2.Template:
    """Compile a per-recipient template once per distinct source (cached by content).

    Campaigns hand the same RenderedIssue to many Personalizers (one per worker or batch); the cache
    makes every one after the first free.
    """
    compile_counts[f"personal-{kind}"] += 1
    env = _HTML_ENV if kind == "html" else _TEXT_ENV
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(
            f"per-recipient {kind} template, line {exc.lineno}: {exc.message}"
        ) from exc


class Personalizer:
    """Fills a rendered issue for one recipient at a time; nothing but a template fill per call.

    `stencils()` gives the same templates as static pieces and holes (rendering/stencil.py), for
    a composer that writes only the values per recipient; `render()` is the reference it must
    match, and the path for any template a stencil cannot reproduce."""

    def __init__(self, rendered: RenderedIssue):
        self.rendered = rendered
        self._html = compile_personal_template("html", rendered.html_template)
        self._text = compile_personal_template("text", rendered.text_template)
        self._plain: bool | None = None  # whether stencils can stand for the templates
        self._stencils: dict[tuple[int, ...], tuple[list[str], list[str]] | None] = {}

    def _check_links(self, values: dict[str, Any]) -> None:
        if values["links"] and len(values["links"]) != len(self.rendered.links):
            raise RenderError(
                f"{len(values['links'])} tracked links for an issue with "
                f"{len(self.rendered.links)} links"
            )

    def render(self, personal: Personal) -> tuple[str, str]:
        values = asdict(personal)
        self._check_links(values)
        return self._html.render(values), self._text.render(values)

    def stencils(self, values: dict[str, Any]) -> tuple[list[str], list[str]] | None:
        """(HTML, text) as pieces for recipients whose values (`asdict(Personal)`, same order)
        have the shape of `values` — static text at even positions, hole keys at odd ones — or
        None: fill these recipients with `render()`. Made once per shape."""
        key = shape(values)
        if key not in self._stencils:
            self._check_links(values)
            made = None
            if self._plain is None:  # parsed on first use: previews never need it
                fields = asdict(Personal(email=""))
                self._plain = stencil_fields(
                    _HTML_ENV, self.rendered.html_template, fields
                ) and stencil_fields(_TEXT_ENV, self.rendered.text_template, fields)
            if self._plain:
                html, text = stencil(self._html, values), stencil(self._text, values)
                made = (html, text) if html is not None and text is not None else None
            self._stencils[key] = made
        return self._stencils[key]


# --------------------------------------------------------------------------------------------
# Guards
# --------------------------------------------------------------------------------------------


def _flat(text: str) -> str:
    return " ".join(text.split())


def html_visible_text(html: str) -> str:
    """The text a reader sees: body only, without hidden blocks such as the preheader."""
    doc = lxml.html.document_fromstring(html)
    for el in doc.xpath("//head|//style|//script"):
        el.drop_tree()
    for el in doc.xpath("//*[@style]"):
        style = el.get("style", "").replace(" ", "").lower()
        if "display:none" in style and el.getparent() is not None:
            el.drop_tree()
    for el in doc.xpath("//p|//div|//li|//td|//br|//h1|//h2|//h3"):
        el.tail = " " + (el.tail or "")  # blocks read apart, however the markup was minified
    return _flat(doc.text_content())


def required_texts(content: IssueContent, part: str = "html") -> list[tuple[str, str]]:
    """(what, text) pairs every edition must contain; what names it in an error.

    Prose is what a reader sees of it (rendering/inline.required_text): inline Markdown without its
    marks, and in the text part (`part="text"`) each link as `text (URL)` with the URL, which is
    the reader's own there, as a URL_HOLE that any URL fills."""

    def shown(text: str) -> str:
        return required_text(text, content.markup, part)

    need: list[tuple[str, str]] = [("summary", shown(content.summary))]
    for n, item in enumerate(content.items, 1):
        need.append((f"item {n} headline", item.headline))
        for p, para in enumerate(item.paragraphs, 1):
            need.append((f"item {n} paragraph {p}", shown(para)))
        need.append((f"item {n} source outlet", item.source.outlet))
        need.append((f"item {n} source title", item.source.title))
        if item.source.author:
            need.append((f"item {n} source author", item.source.author))
    need.append(("call to action", shown(content.call_to_action)))
    need.append(("partner email", content.partner.email))
    return need


def _shows(flat: str, value: str) -> bool:
    """Whether `flat` contains `value`, each URL_HOLE in it standing for one URL."""
    if URL_HOLE not in value:
        return value in flat
    pattern = r"\S+".join(re.escape(piece) for piece in value.split(URL_HOLE))
    return re.search(pattern, flat) is not None


def check_content(content: IssueContent, edition: str, text: str, part: str = "html") -> None:
    """Raise RenderError naming every required piece of the issue missing from `text`."""
    flat = _flat(text)
    missing = [
        f"{what} ({_flat(value).replace(URL_HOLE, 'URL')[:60]!r})"
        for what, value in required_texts(content, part)
        if _flat(value) and not _shows(flat, _flat(value))
    ]
    if missing:
        raise RenderError(f"the {edition} lost content: missing " + "; ".join(missing))


def _sample_personal(settings: Settings, links: int) -> Personal:
    """A realistic recipient for the guards (URL lengths as the composer makes them)."""
    return Personal(
        email="reader.with.a.long.address@subsidiary.example.com",
        name="Sample Reader",
        unsubscribe_url=f"{settings.public_url}/u/{'t' * 30}",
        preferences_url=f"{settings.public_url}/u/{'t' * 30}",
        links=tuple(f"{settings.public_url}/r/{'t' * 30}" for _ in range(links)),
        open_url=f"{settings.public_url}/o/{'t' * 30}" if settings.track_opens else "",
    )


# --------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------


def render_email_parts(
    content: IssueContent, settings: Settings, *, template_dir: Path | None = None
) -> tuple[str, str, dict[str, Any]]:
    """The two per-recipient templates (HTML, text) and the context, guarded against losses.

    `context["links"]` is the issue's link table (empty when click tracking is off)."""
    root = Path(template_dir) if template_dir is not None else TEMPLATE_ROOT
    _check_no_sentinels(content)
    html_env, text_env = template_envs(str(root))
    context = issue_context(content, settings)
    context["personal"] = dict(_SENTINELS)
    table = LinkTable(enabled=settings.track_clicks)
    context["track"] = table
    context["links_tracked"] = settings.track_clicks

    mjml_source = fill_template(html_env, EMAIL_TEMPLATE, context)
    html = _short_lines(_inline_css(compile_mjml(mjml_source, EMAIL_TEMPLATE)))
    html_template = _to_second_stage(html, _snippets(_HTML_SNIPPETS, content))

    text = fill_template(text_env, TEXT_TEMPLATE, context)
    text_template = _to_second_stage(text, _snippets(_TEXT_SNIPPETS, content))

    context["links"] = tuple(table.links)
    sample = asdict(_sample_personal(settings, len(table.links)))
    sample_html, sample_text = (
        compile_personal_template("html", html_template).render(sample),
        compile_personal_template("text", text_template).render(sample),
    )
    check_content(content, f"HTML email ({EMAIL_TEMPLATE})", html_visible_text(sample_html))
    check_content(content, f"text part ({TEXT_TEMPLATE})", sample_text, part="text")
    size = len(sample_html.encode("utf-8"))
    if size >= MAX_HTML_BYTES:
        raise RenderError(
            f"the HTML email is {size / 1024:.1f} KB; Gmail clips messages of 102 KB or more — "
            "shorten the issue or split it"
        )
    return html_template, text_template, context


def render_issue(
    content: IssueContent, settings: Settings, *, template_dir: Path | None = None
) -> RenderedIssue:
    """Render an issue once: HTML and text per-recipient templates, and the PDF edition.

    `template_dir` replaces the packaged templates/ folder (its newsletter/ and pdf/ subfolders),
    which is how a firm restyles the briefing without touching code.
    """
    html_template, text_template, context = render_email_parts(
        content, settings, template_dir=template_dir
    )
    pdf = render_pdf(content, settings, template_dir=template_dir)
    return RenderedIssue(
        subject=context["subject"],
        preheader=context["preheader"],
        html_template=html_template,
        text_template=text_template,
        pdf=pdf,
        pdf_filename=context["pdf_filename"],
        links=context["links"],
        web_edition=content.web_edition,
    )


def personalize_many(rendered: RenderedIssue, people: Iterable[Personal]) -> list[tuple[str, str]]:
    """Convenience for previews and tests: one Personalizer, many recipients."""
    p = Personalizer(rendered)
    return [p.render(person) for person in people]
