"""Where a reader's own words end: device lines, disclaimers and signature blocks are cut, and
nothing the reader wrote is taken for one."""

from __future__ import annotations

import pytest

from mailer.inbound.detectors.signature import (
    is_device_line,
    without_disclaimer,
    without_signature,
)


@pytest.mark.parametrize(
    "line",
    [
        "Sent from my iPhone",
        "Get Outlook for iOS",
        "Gesendet von meinem iPhone",
        "Von meinem iPhone gesendet",
        "Envoyé de mon iPhone",
        "Enviado do meu iPhone",
        "Enviado desde mi Samsung Galaxy",
        "Inviato da iPhone",
        "Verzonden vanaf mijn iPhone",
        "Verstuurd vanaf mijn Samsung Galaxy smartphone.",
        "Wysłane z iPhone'a",
        "Skickat från min iPhone",
        "Отправлено с iPhone",
        "Отправлено из мобильной Почты Mail.ru",
        "iPhoneから送信",
        "发自我的iPhone",
        "從我的 iPhone 傳送",
    ],
)
def test_a_phones_or_mail_clients_footer_is_a_device_line(line: str) -> None:
    assert is_device_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Sent from my iPhone, while I waited at the airport for the delayed flight to Monterrey",
        "Inviato da Marco il rapporto? Non l'ho ricevuto.",
        "Gesendet habe ich Ihnen den Bericht gestern.",
    ],
)
def test_a_readers_sentence_is_no_device_line(line: str) -> None:
    assert not is_device_line(line)


def test_a_confidentiality_disclaimer_and_what_follows_are_cut() -> None:
    lines = [
        "Unsubscribe",
        "",
        "AVISO DE CONFIDENCIALIDAD: Este correo y sus anexos son confidenciales y para uso",
        "exclusivo del destinatario. Si lo recibió por error, bórrelo.",
        "",
        "CONFIDENTIALITY NOTICE: This e-mail is intended only for the addressee.",
    ]
    assert without_disclaimer(lines) == ["Unsubscribe", ""]


@pytest.mark.parametrize(
    "footer",
    [
        "Fenwick Ross Ltd is authorised and regulated by the Financial Conduct Authority.",
        "Registered in England and Wales No. 04512345. Registered office: 2 Kings Rd, Leeds.",
        "Ardmore Law LLP is authorised and regulated by the Solicitors Regulation Authority.",
        "Beispiel GmbH, Sitz der Gesellschaft: Köln, Amtsgericht Köln HRB 12345",
    ],
)
def test_a_companys_legal_footer_and_what_follows_are_cut(footer: str) -> None:
    lines = ["Please unsubscribe me", "", footer, "VAT No. GB 123 4567 89"]
    assert without_disclaimer(lines) == ["Please unsubscribe me", ""]


@pytest.mark.parametrize(
    "lines",
    [
        # no word of confidentiality, or of the intended recipient: the reader's own
        ["Unsubscribe", "", "We are now regulated by the FCA, so send it to compliance."],
        ["Unsubscribe", "", "I registered in England last year; please check my details."],
        ["Unsubscribe", "", "This email goes to the wrong person, please write to Ana."],
        ["Unsubscribe", "", "This message is confidential: do not forward it to my boss."],
        # a disclaimer with nothing of the reader's above it is left alone
        ["CONFIDENTIALITY NOTICE: confidential, for the intended recipient only.", "", "Stop"],
    ],
)
def test_what_is_no_disclaimer_below_the_readers_words_stays(lines: list[str]) -> None:
    assert without_disclaimer(lines) == lines


def _nothing(line: str) -> bool:
    return False


@pytest.mark.parametrize(
    ("lines", "kept"),
    [
        (
            [
                "Unsubscribe",
                "",
                "Diego Sánchez | Director of Corporate Security",
                "Grupo Ejemplo S.A.B. de C.V. | +52 55 5555 0100",
            ],
            ["Unsubscribe", ""],
        ),
        (
            [
                "Bitte austragen.",
                "Dr. Hans Müller",
                "Leiter Konzernsicherheit",
                "Beispiel AG, Leopoldstraße 12, 80802 München",
                "Tel.: +49 89 1234567 | h.mueller@beispiel.example",
                "www.beispiel.example",
            ],
            ["Bitte austragen."],
        ),
        (
            ["Graag afmelden.", "", "Jan de Vries", "Hoofd Beveiliging", "T +31 20 123 4567"],
            ["Graag afmelden.", ""],
        ),
    ],
)
def test_a_signature_block_that_ends_the_message_is_cut(lines: list[str], kept: list[str]) -> None:
    assert without_signature(lines, _nothing) == kept


@pytest.mark.parametrize(
    "lines",
    [
        ["Unsubscribe", "", "Diego Sánchez", "Please call me at +52 55 5555 0100."],
        ["Unsubscribe", "", "Ana Torres, my assistant, should keep receiving it."],
        ["Unsubscribe", "", "CALL ME ASAP", "+52 55 5555 0100"],
        ["Diego Sánchez | Director of Corporate Security"],
    ],
)
def test_the_readers_words_are_no_signature_block(lines: list[str]) -> None:
    assert without_signature(lines, _nothing) == lines


def test_a_line_that_is_the_readers_request_never_starts_a_signature() -> None:
    lines = ["Hello", "Unsubscribe Me", "John Smith"]
    assert without_signature(lines, lambda line: line == "Unsubscribe Me") == lines[:2]
