"""The PDF edition of the real briefing, printed by WeasyPrint, read back with pdftotext/pypdf."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from mailer.content.briefing import parse_briefing
from mailer.content.document import IssueContent, long_date
from mailer.rendering.pdf_edition import render_pdf
from mailer.settings import Settings
from tests.conftest import BRIEFING

POSTAL = "Miranda Delphi Solutions, Paseo de la Reforma 250, Piso 12, 06600 Ciudad de México"


def flat(text: str) -> str:
    return " ".join(text.split())


def settings_for(page_size: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        public_url="https://news.example.com",
        postal_address=POSTAL,
        page_size=page_size,
    )


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "edition.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True
    )
    return out.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def content() -> IssueContent:
    return parse_briefing(BRIEFING.read_text(encoding="utf-8"), path=str(BRIEFING))


@pytest.fixture(scope="module")
def a4_pdf(content: IssueContent) -> bytes:
    return render_pdf(content, settings_for("A4"))


def test_pdf_has_every_headline_source_line_partner_and_call_to_action(
    a4_pdf: bytes, content: IssueContent, tmp_path: Path
) -> None:
    text = flat(pdf_text(a4_pdf, tmp_path))
    for expected in (
        "Miranda Delphi Solutions",
        "Security Chatter",
        "9 April 2025",
        "By Fausto Carbajal Glass, Partner, Miranda Delphi Solutions",
        " ".join(content.summary.split()[:10]),  # justified body text may hyphenate later
        content.call_to_action,
        "fausto.carbajal@miranda-partners.com",
    ):
        assert flat(expected) in text, expected
    # section labels are set in small capitals (text-transform), so compare without case
    assert "executive summary" in text.lower()
    assert "talk to fausto" in text.lower()
    for item in content.items:
        s = item.source
        assert flat(item.headline) in text, item.headline
        line = f"Source: {s.outlet}, {long_date(s.date)}, {s.author}: {s.title}"
        assert flat(line) in text, line


def test_pdf_is_a4_with_page_numbers(a4_pdf: bytes, tmp_path: Path) -> None:
    reader = PdfReader(io.BytesIO(a4_pdf))
    pages = len(reader.pages)
    print(f"\nA4 edition: {pages} pages, {len(a4_pdf) / 1024:.0f} KB")
    assert pages >= 2
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    text = pdf_text(a4_pdf, tmp_path)
    assert f"Page 1 of {pages}" in text
    assert f"Page {pages} of {pages}" in text
    assert reader.metadata is not None
    assert reader.metadata.title == "Security Chatter — 9 April 2025"
    assert reader.metadata.author == "Fausto Carbajal Glass, Miranda Delphi Solutions"


def test_letter_setting_prints_on_letter(content: IssueContent, tmp_path: Path) -> None:
    pdf = render_pdf(content, settings_for("Letter"))
    reader = PdfReader(io.BytesIO(pdf))
    sizes = {
        (round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages
    }
    assert sizes == {(612, 792)}
    assert re.search(r"Page 1 of \d+", pdf_text(pdf, tmp_path))


def test_headlines_never_end_a_page(a4_pdf: bytes, content: IssueContent) -> None:
    """A headline is followed by its first paragraph on the same page (break-after: avoid)."""
    reader = PdfReader(io.BytesIO(a4_pdf))
    pages = [flat(p.extract_text() or "") for p in reader.pages]
    for item in content.items:
        first_words = " ".join(item.paragraphs[0].split()[:4])
        # the last page naming the headline: the contents list on page 1 names them all too
        page = max(i for i, t in enumerate(pages) if flat(item.headline)[:40] in t)
        assert first_words in pages[page], item.headline
