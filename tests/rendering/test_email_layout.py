"""The personalised email in real Chromium at phone (375 px), desktop-pane (600 px) and wide
(800 px) widths, light and dark: what a reader sees, measured in the browser."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from mailer.content.briefing import parse_briefing
from mailer.rendering.email_edition import Personal, Personalizer, render_issue
from mailer.settings import Settings
from tests.browser import launch
from tests.conftest import BRIEFING
from tests.edition_images import READER, WIDTHS, sample_email_html, screenshot

PARTNER = "fausto.carbajal@miranda-partners.com"
READER_REPLY = READER.reply_address

# Characters per rendered line of an element, read from the layout (one Range per character).
CHARS_PER_LINE = """
el => {
  const tops = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      range.setStart(node, i); range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (rect) tops.push(Math.round(rect.top));
    }
  }
  const counts = {};
  for (const t of tops) counts[t] = (counts[t] || 0) + 1;
  return Object.keys(counts).map(Number).sort((a, b) => a - b).map(t => counts[t]);
}
"""


@pytest.fixture(scope="module")
def email_html() -> str:
    return sample_email_html()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("email-screenshots")
    print(f"\nscreenshots: {folder}")
    return folder


def open_email(browser: Browser, html: str, width: int, scheme: str) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme)  # type: ignore[arg-type]
    page.route("**/*", lambda route: route.abort())  # offline: nothing may need the network
    page.set_content(html, wait_until="load")
    return page


def luminance(css: str) -> float:
    r, g, b = (float(v) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])

    def channel(c: float) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(fg: str, bg: str) -> float:
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


BACKGROUND_OF = """
el => {
  for (let e = el; e; e = e.parentElement) {
    const bg = getComputedStyle(e).backgroundColor;
    if (bg && !bg.startsWith('rgba(0, 0, 0, 0)') && bg !== 'transparent') return bg;
  }
  return 'rgb(255, 255, 255)';
}
"""


def colours(page: Page, selector: str) -> tuple[str, str]:
    el = page.locator(selector).first
    return el.evaluate("e => getComputedStyle(e).color"), el.evaluate(BACKGROUND_OF)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", list(WIDTHS))
def test_email_fits_and_reads_at_width(
    browser: Browser,
    email_html: str,
    width: int,
    scheme: Literal["light", "dark"],
    shots: Path,
) -> None:
    page = open_email(browser, email_html, width, scheme)
    try:
        scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width

        headlines = page.locator("h2")
        assert headlines.count() == 6
        for i in range(6):
            h = headlines.nth(i)
            assert h.is_visible()
            box = h.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
            assert float(h.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 20

        body_size = page.locator("h2 + p").first.evaluate(
            "e => parseFloat(getComputedStyle(e).fontSize)"
        )
        assert body_size >= 15  # readable on a phone without zooming

        for name in ("Talk to Fausto", "Download the PDF edition", "Unsubscribe"):
            link = page.get_by_role("link", name=name)
            assert link.is_visible(), name
        cta = page.get_by_role("link", name="Talk to Fausto").bounding_box()
        assert cta is not None and cta["height"] >= 40  # a comfortable tap target

        # Text stays readable in either scheme (WCAG AA, 4.5:1): body, labels, the button.
        for selector in ("h2 + p", "p.summary", "p.label", "p.kicker", "p.address", ".source"):
            fg, bg = colours(page, selector)
            assert contrast(fg, bg) >= 4.5, (selector, fg, bg)
        button = page.get_by_role("link", name="Talk to Fausto")
        fg = button.evaluate("e => getComputedStyle(e).color")
        assert contrast(fg, button.evaluate(BACKGROUND_OF)) >= 4.5
        if scheme == "dark":
            fg, bg = colours(page, "h2 + p")
            assert luminance(bg) < 0.05 < luminance(fg)  # light text on a dark card

    finally:
        page.close()
    shot = screenshot(browser, email_html, width, scheme, shots / f"email-{width}-{scheme}.png")
    assert Image.open(shot).size[0] == width


ADDRESS_LINES = """
el => {
  const parts = [...el.querySelectorAll('span')];
  const rows = s => [...s.getClientRects()].map(r => Math.round(r.top));
  const tops = els => new Set(els.flatMap(rows));
  const one = s => tops([s]).size;
  const probe = el.cloneNode(true);
  probe.style.cssText = 'position:absolute; visibility:hidden; white-space:nowrap; width:auto';
  el.parentElement.appendChild(probe);  // inherits the same fonts
  const natural = probe.getBoundingClientRect().width;
  probe.remove();
  const style = getComputedStyle(el);
  const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const text = el.textContent.replace(/\\s+/g, ' ').trim();
  const split = parts.map(s => [s.textContent, one(s)]);
  return {parts: split, lines: tops(parts).size, natural, room, text};
}
"""


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_partners_address_never_breaks_inside_its_parts(
    browser: Browser, email_html: str, width: int
) -> None:
    page = open_email(browser, email_html, width, "light")
    try:
        got: dict[str, Any] = page.locator("p.address").evaluate(ADDRESS_LINES)
        print(f"\n{width}px: {got}")
        assert got["text"] == PARTNER  # on a line of its own: nothing else in its paragraph
        local, domain = PARTNER.split("@")
        assert [p[0] for p in got["parts"]] == [local, "@" + domain]
        assert all(lines == 1 for _, lines in got["parts"])  # neither part is ever broken
        if got["natural"] <= got["room"]:
            assert got["lines"] == 1  # where it fits, all of it on one line
        assert width > 375 or got["lines"] == 1  # and it does fit on a phone
    finally:
        page.close()


def test_one_button_and_it_writes_to_the_readers_reply_address(
    browser: Browser, email_html: str
) -> None:
    page = open_email(browser, email_html, 600, "light")
    try:
        filled = page.evaluate(
            """[...document.querySelectorAll('a')].filter(a => {
                 const bg = getComputedStyle(a).backgroundColor;
                 return bg !== 'rgba(0, 0, 0, 0)' && bg !== 'rgb(255, 255, 255)';
               }).map(a => [a.textContent.trim(), a.getAttribute('href')])"""
        )
        assert len(filled) == 1, filled
        label, href = filled[0]
        assert label == "Talk to Fausto"
        assert href.startswith(f"mailto:{READER_REPLY}?subject=")
        # the partner's own address is shown, never linked past the reply address
        assert not page.locator(f'a[href^="mailto:{PARTNER}"]').count()
    finally:
        page.close()


def test_summary_and_paragraphs_are_set_for_reading(browser: Browser, email_html: str) -> None:
    """At a desktop pane: the summary in 16–18 px type, leading at least 1.6, lines of at most
    75 characters, no paragraph a wall of text, and air between paragraphs."""
    page = open_email(browser, email_html, 600, "light")
    try:
        summary = page.locator("p.summary")
        assert summary.count() >= 2  # the 122-word summary comes in readable paragraphs
        for i in range(summary.count()):
            p = summary.nth(i)
            size = p.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
            leading = p.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
            lines = p.evaluate(CHARS_PER_LINE)
            print(f"\nsummary {i + 1}: {size}px/{leading}px, {len(lines)} lines, {lines}")
            assert 16 <= size <= 18 and leading >= 1.6 * size
            assert max(lines) <= 75 and len(lines) <= 9
        body = page.locator(".item h2 ~ p:not(.source)")
        per_line, heights = [], []
        for i in range(body.count()):
            lines = body.nth(i).evaluate(CHARS_PER_LINE)
            per_line += lines[:-1]
            heights.append(len(lines))
            gap = body.nth(i).evaluate("e => parseFloat(getComputedStyle(e).marginBottom)")
            assert gap >= 14
        median = statistics.median(per_line)
        print(f"body: {body.count()} paragraphs of {heights} lines; median line {median}")
        assert max(heights) <= 10
        assert median <= 75
    finally:
        page.close()


def test_a_long_address_breaks_only_at_the_at_sign(browser: Browser) -> None:
    """An address too long for a phone's line goes on two lines, split before the "@" only."""
    content = parse_briefing(BRIEFING.read_text(encoding="utf-8"), path=str(BRIEFING))
    long_address = "fausto.carbajal.glass@miranda-delphi-soluciones.com.mx"
    content = replace(
        content,
        partner=replace(content.partner, email=long_address),
        call_to_action=content.call_to_action.replace(PARTNER, long_address),
    )
    settings = Settings(_env_file=None, public_url="https://news.example.com")  # type: ignore[call-arg]
    html, _ = Personalizer(render_issue(content, settings)).render(
        Personal(email="ana@client.example.com", reply_address=READER_REPLY)
    )
    page = open_email(browser, html, 375, "light")
    try:
        got = page.locator("p.address").evaluate(ADDRESS_LINES)
        print(f"\n375px: {got}")
        assert got["natural"] > got["room"] and got["lines"] == 2
        assert [p[0] for p in got["parts"]] == long_address.replace("@", " @").split()
        assert all(lines == 1 for _, lines in got["parts"])
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        page.close()
