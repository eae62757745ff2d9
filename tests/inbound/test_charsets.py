"""Mail whose charset nobody labelled: a subject, a name and a body in raw Shift_JIS, EUC-KR,
GB18030, Big5… with no RFC 2047 word and no Content-Type charset. The partner must read what
the reader wrote, and the judgement must see an out-of-office label or an opt-out in it
(mailer/inbound/charsets.py)."""

from __future__ import annotations

import pytest

from mailer.inbound.judgement import judge
from mailer.inbound.message import body_text, header, parse
from mailer.inbound.models import InboundKind
from mailer.inbound.senders import head_of, mailboxes
from tests.inbound_support import DOMAIN

REPLY = f"reply+2-7i2yu7zqadredljl@{DOMAIN}"


def unlabelled(name: str, subject: str, body: str, charset: str) -> bytes:
    """A message as an old phone or webmail writes it: raw bytes in `charset`, labelled nowhere."""
    return (
        b"From: " + name.encode(charset) + b" <reader@client.example>\r\n"
        b"To: " + REPLY.encode() + b"\r\n"
        b"Subject: " + subject.encode(charset) + b"\r\n"
        b"Date: Thu, 10 Apr 2025 09:30:00 +0900\r\nMIME-Version: 1.0\r\n\r\n"
        + body.replace("\n", "\r\n").encode(charset)
    )


@pytest.mark.parametrize(
    ("name", "subject", "body", "charset", "kind"),
    [
        (
            "山田 花子",
            "自動応答: Security Chatter",
            "4月22日まで不在にしております。戻り次第ご連絡いたします。",
            "shift_jis",
            InboundKind.AUTO_REPLY,
        ),
        (
            "山田 花子",
            "不在のご連絡",
            "4月22日まで休暇をいただいております。急ぎのご用件は代表までお願いいたします。",
            "euc-jp",
            InboundKind.AUTO_REPLY,
        ),
        (
            "김민지",
            "자동 응답: Security Chatter",
            "4월 22일까지 휴가 중입니다. 복귀 후 답변드리겠습니다.",
            "euc-kr",
            InboundKind.AUTO_REPLY,
        ),
        (
            "王芳",
            "自动回复: Security Chatter",
            "谢谢您的邮件。我目前不在办公室，5月2日回来。",
            "gb18030",
            InboundKind.AUTO_REPLY,
        ),
        ("陳美玲", "請取消訂閱", "請將我從郵件列表中刪除，謝謝。", "big5", InboundKind.UNSUBSCRIBE),
        (
            "Åse Nærum",
            "Fravær: Security Chatter",
            "Takk for e-posten. Jeg er på ferie til og med 22. april.",
            "windows-1252",
            InboundKind.AUTO_REPLY,
        ),
    ],
)
def test_an_unlabelled_reply_reads_as_written(
    name: str, subject: str, body: str, charset: str, kind: InboundKind
) -> None:
    raw = unlabelled(name, subject, body, charset)
    msg = parse(raw)
    assert header(msg, "Subject") == subject
    assert body_text(msg).strip() == body
    assert mailboxes(head_of(raw), "From") == [(name, "reader@client.example")]
    got = judge(raw, mail_from="reader@client.example", rcpt_to=REPLY, domain=DOMAIN)
    assert got.kind == kind, got.reason


def test_a_subject_in_raw_iso_2022_jp_is_read_as_written() -> None:
    """ISO-2022-JP is 7-bit: its escape sequences pass for ASCII, and no surrogate shows them."""
    raw = unlabelled("Hanako", "不在のご連絡（5月6日まで）", "Back on 7 May.", "iso-2022-jp")
    assert header(parse(raw), "Subject") == "不在のご連絡（5月6日まで）"


@pytest.mark.parametrize(
    "text",
    [
        "Pourriez-vous m'envoyer l'étude complète ? Merci, Hélène",
        "Estaré fuera de la oficina; para asuntos urgentes escriba a María Peña.",
        "Können Sie mir die Analyse schicken? Grüße, Jürgen",
    ],
)
def test_unlabelled_western_text_is_still_read_as_windows_1252(text: str) -> None:
    """The readers' common case: an unlabelled Western body in Windows-1252, whose accented
    letters other code pages read as other letters ("Hélčne" in Windows-1250)."""
    raw = unlabelled("Reader", "Re: Security Chatter", text, "windows-1252")
    assert body_text(parse(raw)).strip() == text
