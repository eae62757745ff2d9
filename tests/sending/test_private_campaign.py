"""A campaign to a private list, sent through `mailer send` and read back as a reader's mail
client would: no List-Archive header, no "View in browser", the PDF named as attached instead of
linked to a public copy, and a PDF without its "Online edition" line; rendered once, as any
campaign, with the choice stored beside the rendering."""

from __future__ import annotations

import re
import subprocess
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.sending import tasks
from mailer.sending.models import Campaign, CampaignRender
from mailer.settings import Settings
from tests.web_support import Sent, html_part, send_fixture_issue, text_part

ATTACHED = "The PDF edition is attached to this email (MI-SecurityChatter-040925.pdf)."


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_of(msg: EmailMessage) -> bytes:
    [part] = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    data = part.get_content()
    assert isinstance(data, bytes)
    return data


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "edition.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True
    )
    return flat(out.stdout.decode("utf-8"))


def counted_send(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch, *, private: bool
) -> tuple[Sent, list[bool]]:
    """The fixture issue sent; which `web_edition` each rendering of the campaign was made with."""
    renders: list[bool] = []
    real = tasks.render_issue

    def counting(content: Any, settings: Settings) -> Any:
        renders.append(content.web_edition)
        return real(content, settings)

    monkeypatch.setattr(tasks, "render_issue", counting)
    return send_fixture_issue(session, settings, private=private), renders


def test_a_private_lists_mail_links_to_no_web_edition(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sent, renders = counted_send(session, settings, monkeypatch, private=True)
    assert renders == [False]  # once per campaign, made for a private list
    campaign = session.scalar(select(Campaign))
    assert campaign is not None
    stored = session.get(CampaignRender, campaign.id)
    assert stored is not None and stored.web_edition is False
    pdfs = {pdf_of(m) for m in sent.messages}
    assert len(pdfs) == 1  # the one PDF printed for the campaign, in every message
    for msg in sent.messages:
        assert msg["List-Archive"] is None
        assert msg["List-Id"] == "Security Chatter <briefing.news.example.com>"
        assert msg["List-Unsubscribe"] is not None  # leaving works as on any list
        html, text = html_part(msg), text_part(msg)
        for body in (html, text):
            assert "View in browser" not in body
            assert "/archive" not in body
            assert "Download the PDF edition" not in body
        assert ATTACHED in flat(re.sub(r"<[^>]+>", " ", html))
        assert ATTACHED in flat(text)
    printed = pdf_text(pdfs.pop(), tmp_path)
    assert "Online edition" not in printed and "/archive" not in printed
    assert "Talk to" in printed or "Fausto" in printed  # the edition itself is all there


def test_a_public_lists_mail_keeps_its_web_edition(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The same send to a public list, so the test above cannot pass for want of the links."""
    sent, renders = counted_send(session, settings, monkeypatch, private=False)
    assert renders == [True]
    msg = sent.messages[0]
    assert msg["List-Archive"] == "<https://news.example.com/archive>"
    assert "View in browser" in html_part(msg) and "View in browser" in text_part(msg)
    assert "Download the PDF edition" in text_part(msg)
    assert ATTACHED not in flat(text_part(msg))
    printed = pdf_text(pdf_of(msg), tmp_path)
    assert "Online edition: https://news.example.com/archive/" in printed


def test_the_footer_names_the_list_the_reader_joined(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    """The footer said "you subscribed to Security Chatter" (the issue's newsletter) to readers
    of a list called something else: what they joined is the list."""
    sent = send_fixture_issue(session, settings, rename_list="Clients — Mexico")
    for msg in sent.messages[:3]:
        said = "You receive this briefing because you subscribed to Clients — Mexico from"
        assert said in flat(re.sub(r"<[^>]+>", " ", html_part(msg)))
        assert said in flat(text_part(msg))
