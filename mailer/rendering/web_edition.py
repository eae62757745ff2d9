"""The web edition of a sent issue: the mailed HTML made fit for the public archive.

A pure transform of the campaign's stored per-recipient HTML template: filled for a neutral reader,
with the personal links (unsubscribe, preferences) replaced by a subscribe link and links back to
the archive, so the page carries no one's data.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import lxml.html

from mailer.rendering.chrome import chrome_for, fill
from mailer.rendering.email_edition import Personal, compile_personal_template
from subscribers.text import sentence

# Stand-ins for the per-recipient fields; they never reach a reader (replaced or removed below).
_NEUTRAL = Personal(
    email="reader@archive.invalid",
    name="",
    unsubscribe_url="https://archive.invalid/unsubscribe",
    preferences_url="https://archive.invalid/preferences",
)


def _block_of(el: Any) -> Any:
    while el is not None and el.tag not in ("p", "div", "td"):
        el = el.getparent()
    return el


def _replace_links(block: Any, links: list[tuple[str, str]], style: str | None) -> None:
    for child in list(block):
        block.remove(child)
    block.text = None
    previous = None
    for n, (label, href) in enumerate(links):
        a = lxml.html.Element("a", href=href)
        if style:
            a.set("style", style)
        a.text = label
        if previous is not None:
            previous.tail = " \u00a0·\u00a0 "
        block.append(a)
        previous = a
        if n == len(links) - 1:
            a.tail = None


def web_edition(
    html_template: str,
    *,
    archive_url: str,
    subscribe_url: str,
    pdf_url: str,
    newsletter: str,
    firm: str,
) -> str:
    """The mailed HTML for a neutral reader: no personal data, no unsubscribe or preference
    links (they are personal), a subscribe link instead, and links back to the archive, worded
    in the mailed issue's language (its `<html lang>`, rendering/chrome.py)."""
    html = compile_personal_template("html", html_template).render(asdict(_NEUTRAL))
    doc = lxml.html.document_fromstring(html)
    words = chrome_for(doc.get("lang"))

    footer_links = doc.xpath("//a[@href=$u]", u=_NEUTRAL.unsubscribe_url)
    for a in footer_links:
        block = _block_of(a)
        if block is not None:
            _replace_links(
                block,
                [
                    (words["subscribe"], subscribe_url),
                    (words["download_the_pdf"], pdf_url),
                    (words["past_issues"], "/archive"),
                ],
                a.get("style"),
            )
    for el in doc.xpath("//body//*[contains(text(), $e)]", e=_NEUTRAL.email):
        block = _block_of(el) if el.tag not in ("p", "div", "td") else el
        for child in list(block):
            block.remove(child)
        block.text = sentence(fill(words["reading_web_edition"], newsletter=newsletter, firm=firm))
    for a in doc.xpath("//a[@href=$u]", u=archive_url):  # "View in browser": we are here
        block = _block_of(a)
        if block is not None:
            _replace_links(
                block,
                [(words["all_issues"], "/archive"), (words["pdf_edition"], pdf_url)],
                a.get("style"),
            )
    for a in doc.xpath("//a[@href=$u]", u=_NEUTRAL.preferences_url):
        a.set("href", subscribe_url)
    out = lxml.html.tostring(doc, doctype="<!DOCTYPE html>", encoding="unicode")
    # Whatever a restyled template did with the stand-ins, none may reach a reader.
    for value in (_NEUTRAL.unsubscribe_url, _NEUTRAL.preferences_url):
        out = out.replace(value, subscribe_url)
    return out.replace(_NEUTRAL.email, "")
