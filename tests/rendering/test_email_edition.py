"""Rendering the real briefing into the HTML email and its plain-text part.

Everything runs for real: Jinja, mjml-python, premailer and the second-stage per-recipient
templates, on the firm's own briefing. The issue is rendered once per module (with its PDF).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import lxml.html
import pytest

from mailer.content.briefing import parse_briefing
from mailer.content.document import IssueContent, long_date
from mailer.rendering import email_edition as render
from mailer.rendering.email_edition import (
    EMAIL_TEMPLATE,
    TEXT_TEMPLATE,
    Personal,
    Personalizer,
    RenderedIssue,
    render_email_parts,
    render_issue,
)
from mailer.rendering.environment import TEMPLATE_ROOT
from mailer.rendering.errors import RenderError
from mailer.settings import Settings
from tests.conftest import BRIEFING

POSTAL = "Miranda Delphi Solutions, Paseo de la Reforma 250, Piso 12, 06600 Ciudad de México"
READER = Personal(
    email="ana.perez@client.example.com",
    name="Ana Pérez",
    unsubscribe_url="https://news.example.com/u/abc123?list=security&x=1",
    preferences_url="https://news.example.com/u/abc123/preferences",
)


def flat(text: str) -> str:
    return " ".join(text.split())


def visible_text(html: str) -> str:
    """What a reader sees in the message body (the hidden preview text removed)."""
    doc = lxml.html.document_fromstring(html)
    body = doc.body
    for el in body.xpath(".//*[contains(translate(@style, ' ', ''), 'display:none')]"):
        el.drop_tree()
    for el in body.xpath(".//p|.//div|.//li|.//td|.//br|.//h1|.//h2"):
        el.tail = "\n" + (el.tail or "")  # a block ends a line, as a browser shows it
    return flat(body.text_content())


@pytest.fixture(scope="module")
def render_settings() -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        public_url="https://news.example.com",
        postal_address=POSTAL,
        secret_key="test-secret-key-" + "x" * 32,
    )


@pytest.fixture(scope="module")
def content() -> IssueContent:
    return parse_briefing(BRIEFING.read_text(encoding="utf-8"), path=str(BRIEFING))


@pytest.fixture(scope="module")
def rendered(content: IssueContent, render_settings: Settings) -> RenderedIssue:
    return render_issue(content, render_settings)


@pytest.fixture(scope="module")
def personalised(rendered: RenderedIssue) -> tuple[str, str]:
    return Personalizer(rendered).render(READER)


def source_pieces(item) -> list[str]:  # type: ignore[no-untyped-def]
    s = item.source
    return [s.outlet, s.title, s.author, long_date(s.date)]


def test_every_headline_and_source_line_is_in_the_html(
    content: IssueContent, personalised: tuple[str, str]
) -> None:
    text = visible_text(personalised[0])
    assert len(content.items) == 6
    for item in content.items:
        assert flat(item.headline) in text
        for para in item.paragraphs:
            assert flat(para) in text
        for piece in source_pieces(item):
            assert flat(piece) in text, piece
    assert "Source: Vanguardia MX, 5 April 2025, María Verza: Da Sheinbaum un giro" in text
    assert flat(content.summary) in text
    assert flat(content.call_to_action) in text


def test_html_shows_masthead_byline_and_sections(
    content: IssueContent, personalised: tuple[str, str]
) -> None:
    html = personalised[0]
    doc = lxml.html.document_fromstring(html)
    assert doc.get("lang") == "en"
    assert doc.findtext(".//title") == "Security Chatter — 9 April 2025"
    text = visible_text(html)
    for expected in (
        "Miranda Delphi Solutions",
        "Security Chatter",
        "9 April 2025",
        "By Fausto Carbajal Glass, Partner, Miranda Delphi Solutions",
        "Executive summary",
        "Talk to Fausto",
        "Download the PDF edition",
        "More information",
        POSTAL,
        "You receive this briefing because you subscribed to Security Chatter",
        "Manage preferences",
        "Unsubscribe",
        "View in browser",
    ):
        assert expected in text, expected
    headlines = [flat(h.text_content()) for h in doc.iter("h2")]
    assert headlines == [flat(i.headline) for i in content.items]
    assert not doc.xpath("//img[not(@alt)]")


def test_links_go_where_the_reader_expects(personalised: tuple[str, str]) -> None:
    doc = lxml.html.document_fromstring(personalised[0])
    links = {flat(a.text_content()): a.get("href") for a in doc.iter("a")}
    archive = "https://news.example.com/archive/security-chatter-2025-04-09"
    assert links["View in browser"] == archive
    assert links["Download the PDF edition"] == archive + ".pdf"
    assert links["Talk to Fausto"] == (
        "mailto:fausto.carbajal@miranda-partners.com?subject=Security%20Chatter%2C%209%20April%202025"
    )
    assert links["miranda-partners.com/jvs-delphi-solutions/"] == (
        "https://miranda-partners.com/jvs-delphi-solutions/"
    )
    assert links["Unsubscribe"] == READER.unsubscribe_url
    assert links["Manage preferences"] == READER.preferences_url


def test_css_is_inlined_and_media_rules_survive(personalised: tuple[str, str]) -> None:
    html = personalised[0]
    doc = lxml.html.document_fromstring(html)
    styled = doc.xpath("//*[@style]")
    print(f"\nelements with inline style=: {len(styled)}")
    assert len(styled) > 100
    # premailer moved the template's heading rule onto every h2
    for h2 in doc.iter("h2"):
        style = h2.get("style", "").replace(": ", ":")
        assert "font-family:Source Serif Pro, Georgia," in style  # the brand's, then fallbacks
    styles = " ".join(s.text or "" for s in doc.iter("style"))
    assert "@media only screen and (max-width: 480px)" in styles
    assert "@media (prefers-color-scheme: dark)" in styles
    assert ".mj-column-per-100" in styles  # MJML's own desktop-width rule, needed by clients


def test_html_stays_under_gmail_clipping(personalised: tuple[str, str]) -> None:
    size = len(personalised[0].encode("utf-8"))
    print(f"\nHTML size: {size} bytes = {size / 1024:.1f} KB")
    assert size < 102 * 1024


def test_preheader_is_the_summary_first_sentence(
    content: IssueContent, rendered: RenderedIssue, personalised: tuple[str, str]
) -> None:
    assert rendered.preheader == (
        "President Sheinbaum’s establishment of the civilian-led National Operations Unit marks "
        "a strategic departure from AMLO’s militarized approach while maintaining pragmatic US "
        "cooperation."
    )
    assert content.summary.startswith(rendered.preheader)
    doc = lxml.html.document_fromstring(personalised[0])
    hidden = doc.body.xpath(".//div[contains(translate(@style, ' ', ''), 'display:none')]")
    assert hidden and hidden[0].text_content().startswith(rendered.preheader)
    assert rendered.subject == "Security Chatter — 9 April 2025"


def test_text_part_has_the_same_content_and_links(
    content: IssueContent, personalised: tuple[str, str]
) -> None:
    text = personalised[1]
    body = flat(text)
    for item in content.items:
        assert flat(item.headline) in body
        for para in item.paragraphs:
            assert flat(para) in body
        for piece in source_pieces(item):
            assert flat(piece) in body, piece
    for expected in (
        content.summary,
        content.call_to_action,
        "fausto.carbajal@miranda-partners.com",
        "https://news.example.com/archive/security-chatter-2025-04-09.pdf",
        "https://miranda-partners.com/jvs-delphi-solutions/",
        READER.unsubscribe_url,
        READER.preferences_url,
        POSTAL,
    ):
        assert flat(expected) in body, expected
    # wrapped at 72 columns; only lines that are a bare URL may be longer, and URLs are whole
    for line in text.splitlines():
        assert len(line) <= 72 or re.fullmatch(r"\S*https?://\S+", line), line
    assert "\nUnsubscribe: " + READER.unsubscribe_url + "\n" in text


def test_personal_fields_are_escaped_in_html(rendered: RenderedIssue) -> None:
    evil = Personal(
        email="mallory@example.com",
        name='<script>alert("x")</script> & Co',
        unsubscribe_url="https://news.example.com/u/tok?a=1&b=2",
        preferences_url="https://news.example.com/u/tok",
    )
    html, text = Personalizer(rendered).render(evil)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in html
    assert '<script>alert("x")</script> & Co (mallory@example.com)' in visible_text(html)
    assert 'href="https://news.example.com/u/tok?a=1&amp;b=2"' in html
    assert '<script>alert("x")</script> & Co (mallory@example.com)' in text


def test_template_syntax_in_the_issue_is_plain_text(
    content: IssueContent, render_settings: Settings
) -> None:
    tricky = "Cartels, {{ 7*7 }} and [[% 7*7 %]] [[@ if 1 @]]x[[@ endif @]] {% raw %}"
    item = dataclasses.replace(content.items[0], headline=tricky)
    issue = dataclasses.replace(content, items=(item, *content.items[1:]))
    html_t, text_t, _ = render_email_parts(issue, render_settings)
    rendered = RenderedIssue("s", "p", html_t, text_t, b"", "x.pdf")
    html, text = Personalizer(rendered).render(READER)
    assert tricky in visible_text(html)
    assert tricky in flat(text)


def _copy_templates(tmp_path: Path) -> Path:
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATE_ROOT, root, ignore=shutil.ignore_patterns("__pycache__", "web"))
    return root


def _edit(path: Path, old_pattern: str, new: str) -> None:
    source = path.read_text(encoding="utf-8")
    changed, n = re.subn(old_pattern, new, source, flags=re.S)
    assert n, f"pattern {old_pattern!r} not found in {path}"
    path.write_text(changed, encoding="utf-8")


def test_a_template_that_drops_source_lines_is_refused(
    tmp_path: Path, content: IssueContent, render_settings: Settings
) -> None:
    root = _copy_templates(tmp_path)
    _edit(root / EMAIL_TEMPLATE, r'<p class="source">.*?</p>', "")
    with pytest.raises(RenderError) as err:
        render_issue(content, render_settings, template_dir=root)
    message = str(err.value)
    print(f"\n{message[:300]}")
    assert "HTML email" in message and EMAIL_TEMPLATE in message
    assert "item 1 source outlet ('Vanguardia MX')" in message
    assert "item 6 source title" in message


def test_a_text_template_that_drops_headlines_is_refused(
    tmp_path: Path, content: IssueContent, render_settings: Settings
) -> None:
    root = _copy_templates(tmp_path)
    _edit(root / TEXT_TEMPLATE, r"\{\{ item\.headline \| wrap \}\}", "")
    _edit(root / TEXT_TEMPLATE, r"\{\{ w\.in_this_issue \}\}.*?\{% endfor %\}", "")
    with pytest.raises(RenderError, match=r"text part .*item 2 headline"):
        render_issue(content, render_settings, template_dir=root)


def test_mjml_errors_name_the_template(
    tmp_path: Path, content: IssueContent, render_settings: Settings
) -> None:
    root = _copy_templates(tmp_path)
    _edit(root / EMAIL_TEMPLATE, r"</mj-body>", "")
    with pytest.raises(RenderError, match=r"template newsletter/email\.mjml\.j2: MJML error"):
        render_issue(content, render_settings, template_dir=root)

    root2 = _copy_templates(tmp_path / "second")
    _edit(root2 / EMAIL_TEMPLATE, r"<mj-divider ", "<mj-dividr ")
    with pytest.raises(RenderError, match=r"email\.mjml\.j2: MJML left <mj-dividr> uncompiled"):
        render_issue(content, render_settings, template_dir=root2)


def test_jinja_errors_name_the_template_and_line(
    tmp_path: Path, content: IssueContent, render_settings: Settings
) -> None:
    root = _copy_templates(tmp_path)
    _edit(root / TEXT_TEMPLATE, r"\{\{ newsletter \}\}", "{{ newsletter }")
    with pytest.raises(RenderError, match=r"template newsletter/email\.txt\.j2, line \d+"):
        render_issue(content, render_settings, template_dir=root)


def test_an_issue_too_big_for_gmail_is_refused(
    content: IssueContent, render_settings: Settings
) -> None:
    huge = dataclasses.replace(content, items=content.items * 4)
    with pytest.raises(RenderError, match=r"the HTML email is 1\d\d\.\d KB; Gmail clips"):
        render_email_parts(huge, render_settings)


def test_pdf_edition_is_part_of_the_rendered_issue(rendered: RenderedIssue) -> None:
    assert rendered.pdf_filename == "MI-SecurityChatter-040925.pdf"
    assert rendered.pdf.startswith(b"%PDF-")


def test_a_thousand_recipients_reuse_the_compiled_templates(rendered: RenderedIssue) -> None:
    """Personalising compiles nothing (what it costs is measured by bench/render.py)."""
    before = dict(render.compile_counts)
    first = Personalizer(rendered)
    after_first = dict(render.compile_counts)
    # render_issue already compiled (and checked) these exact templates: nothing is compiled again
    assert after_first == before

    outputs = []
    for n in range(1000):
        p = first if n % 2 else Personalizer(rendered)
        outputs.append(
            p.render(
                Personal(
                    email=f"reader{n}@example.com",
                    name=f"Reader {n}",
                    unsubscribe_url=f"https://news.example.com/u/tok{n}",
                    preferences_url=f"https://news.example.com/u/pref{n}",
                )
            )
        )
    assert dict(render.compile_counts) == before  # no MJML, premailer or template compile
    html, text = outputs[737]
    assert 'href="https://news.example.com/u/tok737"' in html
    assert "Reader 737 (reader737@example.com)" in visible_text(html)
    assert "https://news.example.com/u/pref737" in text


def test_source_titles_link_to_the_article_when_known(
    content: IssueContent, render_settings: Settings
) -> None:
    url = "https://vanguardia.com.mx/noticias/giro-de-timon?utm=x&id=7"
    first = content.items[0]
    linked = dataclasses.replace(first, source=dataclasses.replace(first.source, url=url))
    unsafe = dataclasses.replace(
        content.items[1],
        source=dataclasses.replace(content.items[1].source, url="javascript:alert(1)"),
    )
    issue = dataclasses.replace(content, items=(linked, unsafe, *content.items[2:]))
    html_t, text_t, _ = render_email_parts(issue, render_settings)
    html, text = Personalizer(RenderedIssue("s", "p", html_t, text_t, b"", "x.pdf")).render(READER)
    doc = lxml.html.document_fromstring(html)
    anchor = doc.xpath("//p[contains(., 'Vanguardia MX')]//a")[0]
    assert anchor.get("href") == url
    assert anchor.xpath("./em")[0].text == first.source.title
    assert "javascript:" not in html
    assert flat(unsafe.source.title) in visible_text(html)  # still shown, just not linked
    assert "\n" + url + "\n" in text
