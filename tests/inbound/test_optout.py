"""Opt-out by reply, English and Spanish: only a reply that as a whole asks to stop this newsletter
unsubscribes; anything that also asks something else, or asks to remove someone or something
else, is an inquiry for the partner (when in doubt, forward)."""

from __future__ import annotations

import pytest

from mailer.inbound.judgement import judge
from mailer.inbound.models import InboundKind
from tests.inbound_support import DOMAIN, reply

REPLY = f"reply+2-7i2yu7zqadredljl@{DOMAIN}"
QUOTED = (
    "Security Chatter - 9 April 2025\n"
    "La producción baja en Pemex; remove the noise from the data.\n"
    "Unsubscribe: https://news.example.com/u/2-7i2yu7zqadredljl\n"
)

OPT_OUTS = [
    ("Re: Security Chatter", "Unsubscribe"),
    ("Re: Security Chatter", "Please unsubscribe me."),
    ("Re: Security Chatter", "Please remove me from this list. Thanks"),
    (
        "Re: Security Chatter",
        "Hi,\n\nTake me off your mailing list please.\n\nRegards,\nJohn Smith",
    ),
    ("Re: Security Chatter", "Stop sending me these emails."),
    ("Re: Security Chatter", "I no longer wish to receive this newsletter."),
    ("Re: Security Chatter", "Opt me out"),
    ("Unsubscribe", ""),
    ("unsubscribe me", "Thanks"),
    ("Re: Security Chatter", "Remove me\n\nSent from my iPhone"),
    ("Re: Security Chatter", "Please cancel my subscription."),
    ("Re: Security Chatter", "Por favor darme de baja."),
    ("Re: Security Chatter", "Hola,\nQuiero darme de baja de esta lista.\nSaludos"),
    ("Re: Security Chatter", "Favor de dar de baja mi correo.\nGracias"),
    ("Baja", ""),
    ("RE: baja por favor", "Saludos"),
    ("Re: Security Chatter", "Cancelar suscripción"),
    ("Re: Security Chatter", "No deseo recibir más estos correos."),
    ("Re: Security Chatter", "Ya no quiero recibir este boletín, gracias."),
    ("Re: Security Chatter", "Por favor sáquenme de la lista"),
    ("Re: Security Chatter", "Dejen de enviarme estos correos"),
    (
        "Re: Security Chatter",
        "Estimados,\nSolicito la baja de mi correo.\nAtentamente,\nMaría López",
    ),
]

INQUIRIES = [
    ("Re: Security Chatter", "Remove me from Thursday's call and add my colleague Ana instead."),
    ("Re: Security Chatter", "Please remove my assistant from the list and keep me on it."),
    ("Re: Security Chatter", "Unsubscribe my colleague jorge@acme.example.mx, he left the firm."),
    ("Re: Security Chatter", "Can you stop sending the PDF and send the web link instead?"),
    ("Re: Security Chatter", "Please remove me from this list. Also, can we talk next week?"),
    ("Re: Security Chatter", "I don't want to unsubscribe, but please send it to my colleague."),
    ("Re: Security Chatter", "Stop the presses: the Pemex figures are wrong, call me."),
    ("Re: Security Chatter", "How do I unsubscribe my team from the daily alerts only?"),
    ("Re: Security Chatter", "Remove the attachment next time, it is too large."),
    ("Re: Security Chatter", "Dar de baja a mi asistente, ¿podemos hablar la próxima semana?"),
    ("Re: Security Chatter", "Por favor den de baja a Jorge, ya no trabaja aquí."),
    ("Re: Security Chatter", "¿Pueden quitarme de la llamada del jueves? Gracias."),
    ("Re: Security Chatter", "No quiero darme de baja; ¿me llaman?"),
    ("Re: La producción baja", "¿Tienen más datos sobre la baja producción de Pemex?"),
    ("Re: Security Chatter", "Cancelen la reunión del viernes, por favor."),
    ("Baja", "Quiero darme de baja, pero antes envíenme el informe de Sonora."),
    ("Unsubscribe", "Actually, keep me on it and add ana@acme.example.mx."),
    ("Question about Sonora", "Please remove me"),
]


def judged(subject: str, body: str) -> InboundKind:
    raw = reply(
        from_="José Rivera <jose.rivera1@example.org>",
        to=REPLY,
        subject=subject,
        body=body,
        quoted=QUOTED,
    )
    return judge(raw, mail_from="jose.rivera1@example.org", rcpt_to=REPLY, domain=DOMAIN).kind


def test_the_table_is_big_enough() -> None:
    assert len(OPT_OUTS) + len(INQUIRIES) >= 30


@pytest.mark.parametrize(("subject", "body"), OPT_OUTS)
def test_a_reply_that_only_asks_to_stop_is_an_opt_out(subject: str, body: str) -> None:
    assert judged(subject, body) == InboundKind.UNSUBSCRIBE


@pytest.mark.parametrize(("subject", "body"), INQUIRIES)
def test_a_reply_that_asks_anything_else_reaches_the_partner(subject: str, body: str) -> None:
    assert judged(subject, body) == InboundKind.INQUIRY
