"""One inquiry in the admin area: the client's own words with the quote folded away, their
attachment downloadable (never rendered), the context the partner received, and the partner
filter — read from a stored raw message as inbound mail stores it."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy.orm import Session

from mailer.content.models import Issue, Partner
from mailer.inbound import models
from tests.builders import Newsroom
from tests.web.test_admin import Editor, editor, room, text_of  # noqa: F401

# ruff: noqa: F811  (the fixtures imported from test_admin are parameters here)

WORDS = "¿Pueden ampliar lo de la Guardia Nacional en Sonora? Nos interesa para un cliente."


def client_reply() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ana Cliente <ana@cliente.example>"
    msg["To"] = "reply+abc@news.example.com"
    msg["Subject"] = "Re: Security Chatter"
    msg.set_content(
        WORDS + "\n\nSaludos,\nAna\n\nOn Wed, 9 Apr 2025, Security Chatter wrote:\n"
        "> Guardia Nacional despliega 2,000 elementos\n> en la frontera norte.\n"
    )
    msg.add_attachment(
        b"<script>alert(1)</script>", maintype="text", subtype="html", filename="nota.html"
    )
    return msg.as_bytes()


def test_an_inquiry_shows_the_clients_words_attachment_and_the_partners_context(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    raw = client_reply()
    inbound = models.InboundMessage(
        rcpt_to="reply+abc@news.example.com", address_kind="reply", size=len(raw), raw=raw
    )
    session.add(inbound)
    session.flush()
    issue = session.get(Issue, room.issue_id)
    assert issue is not None
    inquiry = models.Inquiry(
        inbound_message_id=inbound.id,
        issue_id=room.issue_id,
        partner_id=issue.partner_id,
        client_email="ana@cliente.example",
        client_name="Ana Cliente",
        subject="Re: Security Chatter",
        forward_message_id="<fwd-9@news.example.com>",
        status=models.InquiryStatus.SENT,
    )
    session.add(inquiry)
    session.commit()
    page = editor.get(f"/admin/inquiries/{inquiry.id}")
    assert page.status_code == 200
    own = page.text.split("data-own-words>", 1)[1].split("</pre>", 1)[0]
    assert WORDS in own and "Guardia Nacional despliega" not in own  # the quote is folded
    assert "Show the quoted text" in page.text and "despliega 2,000" in page.text
    shown = text_of(page.text)
    assert "forwarded" in shown and "nota.html" in shown and "text/html" in shown
    assert "Client:   Ana Cliente" in page.text and "Reply to this message" in page.text
    download = editor.get(f"/admin/inquiries/{inquiry.id}/attachments/0")
    assert download.content == b"<script>alert(1)</script>"
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == 'attachment; filename="nota.html"'
    assert editor.get(f"/admin/inquiries/{inquiry.id}/attachments/1").status_code == 404

    closed = editor.post(f"/admin/inquiries/{inquiry.id}/close")
    assert "Inquiry closed." in closed.text and "Reopen" in closed.text
    session.expire_all()
    assert inquiry.closed_at is not None and inquiry.closed_by == "editor@example.com"
    assert ">closed<" in editor.get("/admin/inquiries").text
    editor.post(f"/admin/inquiries/{inquiry.id}/reopen")
    session.expire_all()
    assert inquiry.closed_at is None
    assert ">forwarded<" in editor.get("/admin/inquiries").text

    partner = session.get(Partner, issue.partner_id)
    assert partner is not None
    mine = editor.get("/admin/inquiries", params={"partner": partner.slug}).text
    assert "Re: Security Chatter" in mine
    session.add(Partner(slug="otra", name="Otra Socia", email="otra@firm.example"))
    session.commit()
    other = editor.get("/admin/inquiries", params={"partner": "otra"}).text
    assert "Re: Security Chatter" not in other and "No inquiries for this partner" in other
