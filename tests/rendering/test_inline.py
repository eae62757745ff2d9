"""Inline Markdown in each edition: real <strong>/<em>/<a> in the HTML email and the PDF's HTML,
words and `text (URL)` in the plain-text part, links tracked like the item's source link, hostile
input escaped, a briefing's text shown as written, and the check that every edition shows every
paragraph still catching a lost one.

Real Jinja, MJML, premailer and second-stage templates; the PDF's HTML is checked as WeasyPrint
receives it (the printed PDF itself is covered by test_pdf_edition.py)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import lxml.html
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from mailer.content.briefing import parse_briefing
from mailer.content.document import IssueContent
from mailer.content.inline import plain_text, runs
from mailer.content.markdown import parse_markdown
from mailer.rendering.email_edition import (
    EMAIL_TEMPLATE,
    TEXT_TEMPLATE,
    Personal,
    Personalizer,
    RenderedIssue,
    html_visible_text,
    render_email_parts,
)
from mailer.rendering.environment import TEMPLATE_ROOT
from mailer.rendering.errors import RenderError
from mailer.rendering.inline import inline_html, inline_text, prose
from mailer.rendering.links import Link
from mailer.rendering.pdf_edition import render_pdf_html
from mailer.settings import Settings
from tests.conftest import BRIEFING

ISSUE = """---
newsletter: Security Chatter
date: 2025-04-16
partner:
  name: Ana Lucía Ortega
  email: ana.ortega@miranda-partners.com
  pronoun: her
summary: A **short** summary with a [report](https://ok.example/report).
---

## Ports *under* watch

Some **bold**, some *italic*, a [link](https://ok.example/x) and `code`.

A [bad](javascript:alert(1)) one, <b>html</b> and <script>alert(2)</script>, ***nested***,
a [quoted](https://ok.example/q?a="x"onmouseover="alert(3)" "title") link and <https://auto.example/p>.

Source: Reforma, 4/14/25, Redacción: Primera nota <https://reforma.com/a>
"""
READER = Personal(email="ana.perez@client.example.com", name="Ana Pérez")


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        public_url="https://news.example.com",
        postal_address="Paseo de la Reforma 250, 06600 Ciudad de México",
        secret_key="test-secret-key-" + "x" * 32,
    )


@pytest.fixture(scope="module")
def content() -> IssueContent:
    return parse_markdown(ISSUE, path="issue.md")


@pytest.fixture(scope="module")
def parts(content: IssueContent, settings: Settings) -> tuple[str, str, tuple[Link, ...]]:
    html_t, text_t, context = render_email_parts(content, settings)
    return html_t, text_t, context["links"]


def personal(parts: tuple[str, str, tuple[Link, ...]], reader: Personal) -> tuple[str, str]:
    html_t, text_t, links = parts
    return Personalizer(RenderedIssue("s", "p", html_t, text_t, b"", "x.pdf", links)).render(reader)


def paragraph(html: str, start: str) -> lxml.html.HtmlElement:
    doc = lxml.html.document_fromstring(html)
    return doc.xpath("//p[starts-with(normalize-space(.), $s)]", s=start)[0]


def test_the_html_email_shows_real_emphasis_and_links(
    parts: tuple[str, str, tuple[Link, ...]],
) -> None:
    html, _ = personal(parts, READER)
    p = paragraph(html, "Some bold")
    assert [el.text for el in p.xpath(".//strong")] == ["bold"]
    assert [el.text for el in p.xpath(".//em")] == ["italic"]
    assert [el.text for el in p.xpath(".//code")] == ["code"]
    assert [(a.text, a.get("href")) for a in p.xpath(".//a")] == [("link", "https://ok.example/x")]
    summary = paragraph(html, "A short summary")
    assert summary.xpath(".//strong")[0].text == "short"
    # The preview line an inbox shows is what a reader sees, too.
    preheader = lxml.html.document_fromstring(html).xpath(
        "//*[@class='preheader' or contains(@style, 'display:none')]"
    )
    assert any(
        " ".join(el.text_content().split()).startswith("A short summary with a report.")
        for el in preheader
    )
    assert "**" not in html_visible_text(html)


def test_hostile_markdown_comes_out_as_text(parts: tuple[str, str, tuple[Link, ...]]) -> None:
    html, text = personal(parts, READER)
    p = paragraph(html, "A [bad]")
    shown = " ".join(p.text_content().split())
    assert "[bad](javascript:alert(1)) one, <b>html</b> and <script>alert(2)</script>" in shown
    assert "javascript:" not in " ".join(a.get("href", "") for a in p.xpath("//a"))
    assert not p.xpath(".//b|.//script")
    assert [el.text for el in p.xpath(".//strong/em|.//em/strong")] == ["nested"]
    # The quotes stay inside the href, percent-encoded: no attribute is injected.
    quoted = p.xpath(".//a[. = 'quoted']")[0]
    assert quoted.get("href") == "https://ok.example/q?a=%22x%22onmouseover=%22alert(3)%22"
    assert quoted.get("onmouseover") is None and quoted.get("title") is None
    assert "<script>" not in html and "<b>html" not in html
    assert "[bad](javascript:alert(1)) one, <b>html</b>" in " ".join(text.split())


def test_the_text_part_shows_words_and_text_url(parts: tuple[str, str, tuple[Link, ...]]) -> None:
    _, text = personal(parts, READER)
    flat = " ".join(text.split())
    assert "Some bold, some italic, a link (https://ok.example/x) and code." in flat
    assert "A short summary with a report (https://ok.example/report)." in flat
    assert "and https://auto.example/p." in flat  # an autolink: the URL once
    assert "**" not in text and "`" not in text
    assert "Ports under watch" in flat


def test_links_in_the_prose_are_tracked_like_the_source_link(
    parts: tuple[str, str, tuple[Link, ...]],
) -> None:
    *_, links = parts
    headline = "Ports under watch"
    assert Link("https://ok.example/x", "item", 1, headline) in links
    assert Link("https://reforma.com/a", "item", 1, headline) in links
    assert Link("https://ok.example/report", "other", None, "Executive summary") in links
    tracked = dataclasses.replace(
        READER, links=tuple(f"https://t.example/r/{n}" for n, _ in enumerate(links))
    )
    html, text = personal(parts, tracked)
    n = links.index(Link("https://ok.example/x", "item", 1, headline))
    a = paragraph(html, "Some bold").xpath(".//a")[0]
    assert (a.text, a.get("href")) == ("link", f"https://t.example/r/{n}")
    assert f"a link (https://t.example/r/{n}) and code." in " ".join(text.split())
    assert "https://ok.example/x" not in html + text


def test_the_pdf_shows_real_emphasis_and_links(content: IssueContent, settings: Settings) -> None:
    doc = lxml.html.document_fromstring(render_pdf_html(content, settings))
    p = paragraph(lxml.html.tostring(doc, encoding="unicode"), "Some bold")
    assert [el.text for el in p.xpath(".//strong")] == ["bold"]
    assert [(a.text, a.get("href")) for a in p.xpath(".//a")] == [("link", "https://ok.example/x")]
    assert (
        "**" not in doc.text_content() and "<script>" not in doc.text_content().split("A [bad]")[0]
    )
    assert not doc.xpath("//script|//p/b")


def test_a_briefings_text_is_shown_as_written(settings: Settings) -> None:
    """A briefing has no markup: its asterisks and brackets are what the editor wrote."""
    briefing = parse_briefing(BRIEFING.read_text(encoding="utf-8"), path=str(BRIEFING))
    item = briefing.items[0]
    literal = "A *starred* word and [a bracket](https://x.example/y) stay as written."
    issue = dataclasses.replace(
        briefing,
        items=(dataclasses.replace(item, paragraphs=(literal, *item.paragraphs)),),
    )
    html_t, text_t, context = render_email_parts(issue, settings)
    html, text = personal((html_t, text_t, context["links"]), READER)
    assert paragraph(html, "A *starred*").xpath(".//em|.//a") == []
    assert literal in " ".join(text.split())
    assert literal in " ".join(
        lxml.html.document_fromstring(render_pdf_html(issue, settings)).text_content().split()
    )


def _copy_templates(tmp_path: Path) -> Path:
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATE_ROOT, root, ignore=shutil.ignore_patterns("__pycache__", "web"))
    return root


def _edit(path: Path, old: str, new: str) -> None:
    source = path.read_text(encoding="utf-8")
    assert old in source, f"{old!r} not in {path}"
    path.write_text(source.replace(old, new), encoding="utf-8")


def test_a_template_that_shows_raw_markdown_is_refused(
    tmp_path: Path, content: IssueContent, settings: Settings
) -> None:
    """The required-texts check compares what a reader sees: `**bold**` is not `bold`."""
    root = _copy_templates(tmp_path)
    _edit(
        root / EMAIL_TEMPLATE,
        '{{ para | inline(track, "item", number, item.headline) }}',
        "{{ block }}",
    )
    with pytest.raises(RenderError, match=r"HTML email .*missing item 1 paragraph 1 \('Some bold"):
        render_email_parts(content, settings, template_dir=root)


def test_a_text_template_that_drops_a_paragraph_is_refused(
    tmp_path: Path, content: IssueContent, settings: Settings
) -> None:
    root = _copy_templates(tmp_path)
    _edit(
        root / TEXT_TEMPLATE,
        "{% for block in item.paragraphs %}",
        "{% for block in item.paragraphs[1:] %}",
    )
    with pytest.raises(
        RenderError,
        match=r"text part .*missing item 1 paragraph 1 \('Some bold, some italic, a link \(URL\)",
    ):
        render_email_parts(content, settings, template_dir=root)


def test_a_long_paragraph_is_cut_between_sentences_without_splitting_a_mark() -> None:
    sentence = "This sentence has ten words in it, more or less. "
    source = "**" + (sentence * 4).strip() + "** " + sentence * 4 + "[end](https://ok.example/e)."
    pieces = prose(source, "markdown", words=20)
    assert len(pieces) > 1
    html = "".join(f"<p>{inline_html(piece)}</p>" for piece in pieces)
    doc = lxml.html.fragment_fromstring(html, create_parent="div")
    shown = " ".join(" ".join(p.text_content().split()) for p in doc.xpath("p"))
    assert shown == plain_text(source)
    assert doc.xpath("//p[1]/strong") and doc.xpath("//p[last()]/a[@href='https://ok.example/e']")
    assert "".join(inline_text(piece) for piece in pieces).count("(https://ok.example/e)") == 1


# Markdown-ish text: the characters that make marks, links, HTML and entities, mixed with words.
_PIECES = st.sampled_from(
    [
        "*",
        "**",
        "_",
        "`",
        "[",
        "]",
        "(",
        ")",
        "<",
        ">",
        "&",
        "&amp;",
        "&#x27;",
        '"',
        "'",
        "\\",
        "!",
        " ",
        "\n",
        "word",
        'https://ok.example/a?b=1&c="x"',
        "javascript:alert(1)",
        "JaVaScRiPt:x",
        "data:text/html,<script>x</script>",
        "mailto:a@b.example",
        "<b>",
        "</p>",
        "<script>",
        "onmouseover=",
        "a@b.example",
        '[t](https://x.example/"y")',
    ]
)
MARKDOWNISH = st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=30).map("".join)
PROPERTY = hypothesis_settings(max_examples=300, deadline=None, database=None)


@PROPERTY
@given(MARKDOWNISH)
def test_any_text_becomes_safe_html_that_shows_its_plain_text(source: str) -> None:
    """Whatever the Markdown: the HTML holds only <a>, <strong>, <em> and <code>, every link goes
    to http(s) or mailto, no attribute but href, and a reader sees exactly the runs' text."""
    html = str(inline_html(source, markup="markdown"))
    doc = lxml.html.fragment_fromstring(f"<p>{html}</p>")
    for el in doc.iter():
        if el is doc:
            continue
        assert el.tag in ("a", "strong", "em", "code"), html
        assert set(el.attrib) <= {"href"}, html
        if el.tag == "a":
            assert el.get("href", "").lower().startswith(("http:", "https:", "mailto:")), html
    shown = " ".join("".join(run.text for run in runs(source)).split())
    assert " ".join(doc.text_content().split()) == shown
    text = inline_text(source, markup="markdown")
    assert "**" not in text or "**" in shown


LISTED = """---
newsletter: Security Chatter
date: 2025-04-17
partner: {name: Ana Lucía Ortega, email: ana.ortega@miranda-partners.com}
---

The week in short:

- ports under **Navy** control
- a new coastal police

## Ports under watch

Importers should expect:

- longer inspections, as the new teams check every container by hand and report to
  the Navy's own command
- new paperwork, see the [notice](https://ok.example/n)

Source: Reforma, 4/14/25, Redacción: Primera nota
"""


@pytest.fixture(scope="module")
def listed(settings: Settings) -> tuple[IssueContent, str, str]:
    issue = parse_markdown(LISTED, path="listed.md")
    html_t, text_t, context = render_email_parts(issue, settings)
    html, text = personal((html_t, text_t, context["links"]), READER)
    return issue, html, text


def test_a_bullet_list_is_a_list_in_the_html_and_the_pdf(
    listed: tuple[IssueContent, str, str], settings: Settings
) -> None:
    issue, html, _ = listed
    for page in (html, render_pdf_html(issue, settings)):
        doc = lxml.html.document_fromstring(page)
        lists = doc.xpath("//ul")
        assert [len(ul.xpath("li")) for ul in lists] == [2, 2]
        summary, item = lists
        assert summary.xpath("li[1]/strong")[0].text == "Navy"
        assert item.xpath("li[2]/a")[0].get("href") == "https://ok.example/n"
        assert "- " not in " ".join(li.text_content() for li in doc.xpath("//li"))


def test_a_bullet_list_is_dash_lines_in_the_text_part(
    listed: tuple[IssueContent, str, str],
) -> None:
    _, _, text = listed
    assert "\n- ports under Navy control\n- a new coastal police\n" in text
    assert (
        "\n- longer inspections, as the new teams check every container by hand and\n"
        "  report to the Navy's own command\n"
        "- new paperwork, see the notice (https://ok.example/n)\n"
    ) in text


def test_a_template_that_drops_lists_is_refused(tmp_path: Path, settings: Settings) -> None:
    root = _copy_templates(tmp_path)
    _edit(
        root / EMAIL_TEMPLATE,
        '<li>{{ point | inline(track, "item", number, item.headline) }}</li>',
        "",
    )
    with pytest.raises(RenderError, match=r"missing item 1 paragraph 2 \('longer inspections"):
        render_email_parts(parse_markdown(LISTED), settings, template_dir=root)


def test_a_call_to_action_shows_its_markdown_and_names_its_links(settings: Settings) -> None:
    cta = (
        "call_to_action: Read [our method](https://ok.example/m) and *write* to Ana at "
        "ana.ortega@miranda-partners.com\n"
    )
    issue = parse_markdown(ISSUE.replace("summary:", cta + "summary:"))
    html_t, text_t, context = render_email_parts(issue, settings)
    assert Link("https://ok.example/m", "other", None, "Call to action") in context["links"]
    html, text = personal((html_t, text_t, context["links"]), READER)
    p = paragraph(html, "Read our method")
    assert p.xpath(".//a")[0].get("href") == "https://ok.example/m"
    assert p.xpath(".//em")[0].text == "write"
    assert "Read our method (https://ok.example/m) and write to Ana at" in " ".join(text.split())
