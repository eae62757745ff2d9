"""One inquiry in the admin area: the client's own words with the quote folded away, their
attachment downloadable (never rendered), the context the partner received, and the partner
filter — read from a stored raw message as inbound mail stores it."""

from __future__ import annotations

import base64
from email.message import EmailMessage

import lxml.html
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.content.models import Issue, Partner
from mailer.inbound import models
from mailer.settings import get_settings
from mailer.web.admin.inquiries import ATTACHMENTS_PER_PAGE
from tests.builders import Newsroom
from tests.inbound.test_hostile import deep_message, many_attachments
from tests.inbound_support import InboundServer, address, delivery_of, snapshot_campaign
from tests.smtpd import SMTPServer
from tests.web.test_admin import Editor, editor, text_of  # noqa: F401

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


PDF = b"%PDF-1.4 client's report"
READER = "jose.rivera1@example.org"
PARTNER = "fausto.carbajal@miranda-partners.com"


def attachment_part(headers: str, body: bytes) -> bytes:
    return (
        headers.encode()
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + (base64.encodebytes(body).replace(b"\n", b"\r\n"))
    )


def reply_with_files() -> tuple[bytes, list[tuple[str, str, bytes]]]:
    """A reply as mail clients write one: text and HTML, then files whose names are paths,
    carry CR LF (RFC 2231), are not ASCII, sit in a nested multipart, or are a message; and the
    (listed name, Content-Disposition, bytes) each must be served as."""
    forwarded = b"From: x@partner.example\r\nSubject: earlier\r\n\r\nThe earlier note.\r\n"
    parts = [
        b"Content-Type: multipart/alternative; boundary=alt\r\n\r\n--alt\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nSee the files attached.\r\n--alt\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>See the files attached.</p>\r\n"
        b"--alt--\r\n",
        attachment_part(
            "Content-Type: application/pdf\r\n"
            'Content-Disposition: attachment; filename="../../../tmp/x.pdf"',
            PDF,
        ),
        attachment_part(
            "Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n"
            " filename*=UTF-8''evil%0D%0AX-Injected%3A%201.pdf",
            PDF + b"2",
        ),
        attachment_part(
            "Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n"
            " filename*=UTF-8''Informe%20a%C3%B1o%202025.pdf",
            PDF + b"3",
        ),
        attachment_part(
            'Content-Type: text/plain; name="C:\\\\Users\\\\ana\\\\notas.txt"',
            b"my notes\r\n",
        ),
        b"Content-Type: multipart/mixed; boundary=inner\r\n\r\n--inner\r\n"
        + attachment_part(
            'Content-Type: image/png\r\nContent-Disposition: inline; filename="logo.png"',
            b"\x89PNG\r\n",
        )
        + b"\r\n--inner--\r\n",
        b"Content-Type: message/rfc822\r\n\r\n" + forwarded,
    ]
    raw = (
        b"From: Jose Rivera <jose.rivera1@example.org>\r\nTo: reply+abc@news.example.com\r\n"
        b"Subject: Files\r\nMIME-Version: 1.0\r\nMessage-ID: <files@cliente.example>\r\n"
        b"Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
        + b"".join(b"--outer\r\n" + p + b"\r\n" for p in parts)
        + b"--outer--\r\n"
    )
    expected = [
        ("x.pdf", 'attachment; filename="x.pdf"', PDF),
        ("evil X-Injected: 1.pdf", 'attachment; filename="evil X-Injected: 1.pdf"', PDF + b"2"),
        (
            "Informe año 2025.pdf",
            'attachment; filename="Informe a_o 2025.pdf"; '
            "filename*=UTF-8''Informe%20a%C3%B1o%202025.pdf",
            PDF + b"3",
        ),
        ("notas.txt", 'attachment; filename="notas.txt"', b"my notes\r\n"),
        ("logo.png", 'attachment; filename="logo.png"', b"\x89PNG\r\n"),
        ("attachment-6.eml", 'attachment; filename="attachment-6.eml"', forwarded),
    ]
    return raw, expected


def test_every_attachment_is_listed_and_served_under_its_cleaned_base_name(
    editor: Editor, session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    """The reply goes through `mailer inbound` (forwarded to the partner's relay), then the
    editor lists and downloads its files: the same cleaned names on the page and in the
    download, every file, the bytes as sent."""
    delivery = delivery_of(session, READER, snapshot_campaign(session, room).id)
    rcpt = address("reply", delivery.id, get_settings())
    raw, expected = reply_with_files()
    with InboundServer(get_settings()) as server:
        assert server.send(
            READER, [rcpt], raw.replace(b"reply+abc@news.example.com", rcpt.encode())
        ).data
    inquiry = session.scalars(select(models.Inquiry)).one()
    assert relay.sink.to(PARTNER)  # forwarded, files and all, in the original attached
    page = editor.get(f"/admin/inquiries/{inquiry.id}")
    links = lxml.html.document_fromstring(page.text).xpath("//a[contains(@href,'/attachments/')]")
    assert [a.text_content() for a in links] == [name for name, _, _ in expected]
    assert "See the files attached." in page.text
    for index, (link, (_, disposition, content)) in enumerate(zip(links, expected, strict=True)):
        assert link.get("href") == f"/admin/inquiries/{inquiry.id}/attachments/{index}"
        download = editor.get(link.get("href"))
        assert download.status_code == 200
        assert download.headers["content-disposition"] == disposition
        assert download.content.replace(b"\r\n", b"\n") == content.replace(b"\r\n", b"\n")
    assert editor.get(f"/admin/inquiries/{inquiry.id}/attachments/6").status_code == 404


def stored_inquiry(session: Session, room: Newsroom, raw: bytes) -> models.Inquiry:
    """An inquiry on `raw`, stored as inbound mail stores one (its forward failed)."""
    inbound = models.InboundMessage(
        rcpt_to="reply+abc@news.example.com", address_kind="reply", size=len(raw), raw=raw
    )
    session.add(inbound)
    session.flush()
    inquiry = models.Inquiry(
        inbound_message_id=inbound.id,
        issue_id=room.issue_id,
        client_email=READER,
        client_name="Jose Rivera",
        subject="Re: the chain",
        forward_message_id=f"<fwd-{inbound.id}@news.example.com>",
        status=models.InquiryStatus.FAILED,
        last_reply="not forwarded: the message is nested too deeply to process",
    )
    session.add(inquiry)
    session.commit()
    return inquiry


def test_an_attached_message_nested_too_deeply_to_rebuild_is_listed_and_explained(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    """400 messages nested in one another: the standard library reads them but cannot write
    them out (RecursionError). The page shows what can be read and names what cannot."""
    chain = b"Content-Type: message/rfc822\r\n\r\n" * 400
    raw = (
        b"From: Jose Rivera <jose.rivera1@example.org>\r\nTo: reply+abc@news.example.com\r\n"
        b"Subject: Re: the chain\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        b"--outer\r\nContent-Type: text/plain\r\n\r\nFausto, see the thread below.\r\n"
        b"--outer\r\n" + chain + b"Content-Type: text/plain\r\n\r\nfirst\r\n--outer--\r\n"
    )
    inquiry = stored_inquiry(session, room, raw)
    page = editor.get(f"/admin/inquiries/{inquiry.id}")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "Fausto, see the thread below." in shown
    assert "attachment-1.eml" in shown and "nested too deeply" in shown
    assert "not forwarded: the message is nested too deeply" in shown  # why it failed
    download = editor.get(f"/admin/inquiries/{inquiry.id}/attachments/0")
    assert download.status_code == 422
    assert "nested too deeply" in text_of(download.text)


def test_a_message_too_deep_to_read_still_shows_its_inquiry_page(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    """A message the parser cannot read at all (1,500 nested multiparts): the page renders,
    says so, and has nothing to download."""
    raw = deep_message("reply+abc@news.example.com", levels=1500)
    inquiry = stored_inquiry(session, room, raw)
    page = editor.get(f"/admin/inquiries/{inquiry.id}")
    assert page.status_code == 200
    assert "cannot be read" in text_of(page.text)
    assert editor.get(f"/admin/inquiries/{inquiry.id}/attachments/0").status_code == 404


def test_a_message_of_thousands_of_attachments_says_why_it_cannot_be_read(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    """Hostile input: 20,000 one-byte attachments (stored before the part limit existed): the
    page says why and lists nothing, without parsing them (it took 60 s and 7 MB)."""
    inquiry = stored_inquiry(session, room, many_attachments("reply+abc@news.example.com", 20_000))
    page = editor.get(f"/admin/inquiries/{inquiry.id}")
    assert page.status_code == 200 and len(page.content) < 200_000
    shown = text_of(page.text)
    assert "cannot be read" in shown and "20,001 MIME parts" in shown
    assert editor.get(f"/admin/inquiries/{inquiry.id}/attachments/0").status_code == 404


def test_many_attachments_are_listed_a_page_at_a_time(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    inquiry = stored_inquiry(session, room, many_attachments("reply+abc@news.example.com", 250))
    url = f"/admin/inquiries/{inquiry.id}"
    first = lxml.html.fromstring(editor.get(url).text)
    links = first.xpath("//a[@download]/@href")
    assert len(links) == ATTACHMENTS_PER_PAGE
    assert links[0] == f"{url}/attachments/0"
    assert "Attachments 1–100 of 250" in text_of(editor.get(url).text)
    assert f"{url}?attachments=2" in first.xpath("//a/@href")
    last = editor.get(f"{url}?attachments=3")
    assert "Attachments 201–250 of 250" in text_of(last.text)
    links = lxml.html.fromstring(last.text).xpath("//a[@download]/@href")
    assert links == [f"{url}/attachments/{i}" for i in range(200, 250)]
    assert editor.get(f"{url}/attachments/249").content == b"x"
    beyond = editor.get(f"{url}?attachments=9")
    assert beyond.status_code == 200  # past the last page: the last page
    assert "Attachments 201–250 of 250" in text_of(beyond.text)


def test_an_inquiry_whose_answers_go_elsewhere_shows_the_caution_at_the_top(
    editor: Editor, session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    """The reader's name over another address: the page says where answers go, as the
    forward does, above everything else."""
    delivery = delivery_of(session, READER, snapshot_campaign(session, room).id)
    rcpt = address("reply", delivery.id, get_settings())
    raw = (
        f"From: José Rivera <jrivera@acme-mining.example>\r\nTo: {rcpt}\r\n"
        "Subject: Re: Security Chatter\r\nMessage-ID: <imp.1@acme-mining.example>\r\n\r\n"
        "Fausto, please send me the client report.\r\n"
    ).encode()
    with InboundServer(get_settings()) as server:
        assert server.send(READER, [rcpt], raw).data
    inquiry = session.scalars(select(models.Inquiry)).one()
    page = editor.get(f"/admin/inquiries/{inquiry.id}")
    [box] = lxml.html.document_fromstring(page.text).xpath("//*[@data-caution]")
    assert " ".join(box.text_content().split()).startswith(
        "Caution: replies to this message go to jrivera@acme-mining.example, not to the "
        f"address we have on file for José Rivera ({READER})."
    )


def test_a_header_bomb_shows_why_it_was_not_forwarded_without_being_parsed(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    """200,000 header fields (stored before the limit existed): the page says why, lists
    nothing, and reads no more of the header than the limit."""
    raw = (
        (
            f"From: Jose Rivera <{READER}>\r\nTo: reply+abc@news.example.com\r\nSubject: x\r\n"
        ).encode()
        + b"Received: from a by b\r\n" * 200_000
        + b"\r\nCall me?\r\n"
    )
    inquiry = stored_inquiry(session, room, raw)
    page = editor.get(f"/admin/inquiries/{inquiry.id}")
    assert page.status_code == 200 and len(page.content) < 200_000
    shown = text_of(page.text)
    assert "cannot be read" in shown
    assert "200,003 header fields, more than the 10,000 we read: not forwarded" in shown
    assert editor.get(f"/admin/inquiries/{inquiry.id}/attachments/0").status_code == 404
