"""Header helpers shared by every stage."""

from __future__ import annotations

from mailer.headers import safe_filename


def test_a_pdf_name_keeps_only_what_a_content_disposition_header_can_carry() -> None:
    assert safe_filename("MI-SecurityChatter-040925.pdf") == "MI-SecurityChatter-040925.pdf"
    assert safe_filename('a"; x=\r\n/../b.pdf') == "ax..b.pdf"
    assert safe_filename("Zoë Brief.pdf") == "ZoBrief.pdf"
    assert safe_filename('"\r\n') == "issue.pdf"
