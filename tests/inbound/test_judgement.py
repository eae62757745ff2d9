"""Classification of inbound mail, as a pure function of bytes and envelope: bounces with their
status codes, auto-replies, unsubscribe requests (English, Spanish, French, German, Portuguese,
Italian, Dutch), inquiries, loops."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from mailer.inbound.detectors.optout import reason as unsubscribe_reason
from mailer.inbound.judgement import judge as classify
from mailer.inbound.message import body_text, header, html_to_text, parse, reply_text
from mailer.inbound.models import InboundKind
from tests.inbound_support import DOMAIN, dsn, reply

CORPUS = Path(__file__).parent.parent / "data" / "bounces"
REPLY = f"reply+2-7i2yu7zqadredljl@{DOMAIN}"
BOUNCES = f"bounces+2-7i2yu7zqadredljl@{DOMAIN}"
UNSUB = f"unsubscribe+2-7i2yu7zqadredljl@{DOMAIN}"
CLIENT = "José Rivera <jose.rivera1@example.org>"
NEWSLETTER_TEXT = (
    "Security Chatter - 9 April 2025\n"
    "By Fausto Carbajal Glass, Partner\n"
    "Sheinbaum takes a new direction in the fight against insecurity in Mexico.\n"
    "La producción baja en Pemex.\n"
    "Unsubscribe: https://news.example.com/u/2-7i2yu7zqadredljl\n"
)


def of(raw: bytes, rcpt: str = REPLY, mail_from: str = "jose.rivera1@example.org"):
    return classify(raw, mail_from=mail_from, rcpt_to=rcpt, domain=DOMAIN)


def client_reply(subject: str, body: str, **kw) -> bytes:  # type: ignore[no-untyped-def]
    return reply(from_=CLIENT, to=REPLY, subject=subject, body=body, quoted=NEWSLETTER_TEXT, **kw)


def test_a_dsn_with_5_1_1_is_a_hard_bounce_with_its_code_and_diagnostic() -> None:
    got = of(dsn("jose.rivera1@example.org", "5.1.1"), BOUNCES, "")
    assert got.kind == InboundKind.BOUNCE
    [failure] = got.failures
    assert failure.hard and failure.status == "5.1.1" and failure.action == "failed"
    assert failure.recipient == "jose.rivera1@example.org"
    assert "Recipient address rejected" in failure.diagnostic


def test_a_delay_report_with_4xx_is_soft() -> None:
    raw = dsn("jose.rivera1@example.org", "4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full")
    got = of(raw, BOUNCES, "")
    [failure] = got.failures
    assert got.kind == InboundKind.BOUNCE
    assert not failure.hard and failure.status == "4.2.2" and failure.action == "delayed"


def test_a_final_failure_with_a_4xx_status_is_soft_because_the_code_decides() -> None:
    raw = dsn("a@example.org", "4.4.7", action="failed", diagnostic="X-Postfix; delivery expired")
    [failure] = of(raw, BOUNCES, "").failures
    assert not failure.hard and failure.action == "failed"


def test_a_dsn_arriving_at_a_reply_address_is_still_a_bounce() -> None:
    got = of(dsn("jose.rivera1@example.org", "5.1.1"), REPLY, "")
    assert got.kind == InboundKind.BOUNCE and got.failures[0].hard


def test_a_client_quoting_an_error_is_not_a_bounce() -> None:
    raw = client_reply(
        "Re: our mail server",
        "Our server said: 550 5.1.1 <ops@acme.example>: Recipient address rejected.\n"
        "Can you resend to my colleague?",
    )
    assert of(raw).kind == InboundKind.INQUIRY


def test_success_notifications_are_not_failures() -> None:
    raw = dsn("jose.rivera1@example.org", "2.0.0", action="delivered", diagnostic="smtp; 250 ok")
    got = of(raw, BOUNCES, "")
    assert got.kind == InboundKind.DELIVERED and got.failures == ()


@pytest.mark.parametrize(
    ("sample", "recipient", "hard", "reason"),
    [
        ("dsn_12.txt", "userx@example.jp", True, "user_unknown"),
        ("dsn_05.txt", "userx@example.cz", False, "network"),
        ("postfix_01.txt", "xxxxx@local.ie", True, "user_unknown"),  # not RFC 3464: the text
        ("qmail_01.txt", "userx@example.de", False, "other"),  # "given up", no reason: soft
        ("simple_03.txt", "userx@example.za", False, "other"),  # a warning: soft
        # tests/data/bounces/real/README.md says where these come from
        (
            "real/bounceparser-aol-senderblock.eml",
            "mykewlaolacct@aol.com",
            False,
            "spam_or_content",
        ),
        ("real/bounceparser-quota-4.eml", "fred-bloggs@a.b.c", False, "other"),  # size, not 5.1.1
        (
            "real/bounceparser-deactivated-mailbox.eml",
            "recipient@example.net",
            True,
            "user_unknown",
        ),
        ("real/bounceparser-nomailbox.eml", "recipient@example.net", True, "user_unknown"),
        (  # Postfix's local delivery agent's own "unknown user" (X-Postfix, 5.0.999)
            "real/mailbouncedetector-postfix-unknown-status.eml",
            "email_that_does_not_exists_this_is_just_a_test@test.local",
            True,
            "user_unknown",
        ),
        # Exim: a forward of the reader's address failed ("(ultimately generated from …)")
        ("real/bounceparser-misidentified-recipient.eml", "john@b.co.uk", False, "expired"),
        (
            "real/sisimai-email-ezweb-08.eml",
            "kijitora-neko-nyaan-22222-cats@hotmail.com",
            False,
            "policy_blocked",
        ),
    ],
)
def test_real_bounces_from_the_corpus(sample: str, recipient: str, hard: bool, reason: str) -> None:
    got = of((CORPUS / sample).read_bytes(), BOUNCES, "")
    assert got.kind == InboundKind.BOUNCE
    failure = next(f for f in got.failures if f.names(recipient))
    assert (failure.hard, failure.reason) == (hard, reason), failure


def exim_bounce(recipient: str, smtp_reply: str, status: str = "5.0.0") -> bytes:
    """Exim's bounce (its own notice and an RFC 3464 report) for a refusal at RCPT TO."""
    indented = "\n".join(f"    {line}" for line in smtp_reply.splitlines())
    folded = "\n ".join(smtp_reply.splitlines())
    boundary = "1744207205-eximdsn-1804289383"
    return (
        "Return-path: <>\n"
        f"X-Failed-Recipients: {recipient}\n"
        "Auto-Submitted: auto-replied\n"
        "From: Mail Delivery System <Mailer-Daemon@mail.client.example>\n"
        f"To: {BOUNCES}\n"
        "Subject: Mail delivery failed: returning message to sender\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status; "
        f"boundary={boundary}\n\n"
        f"--{boundary}\nContent-type: text/plain; charset=us-ascii\n\n"
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        f"  {recipient}\n    host mx.client.example [192.0.2.25]\n"
        f"    SMTP error from remote mail server after RCPT TO:<{recipient}>:\n{indented}\n\n"
        f"--{boundary}\nContent-type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mail.client.example\n\n"
        f"Action: failed\nFinal-Recipient: rfc822;{recipient}\nStatus: {status}\n"
        f"Remote-MTA: dns; mx.client.example\nDiagnostic-Code: smtp; {folded}\n\n"
        f"--{boundary}--\n"
    ).encode()


@pytest.mark.parametrize(
    ("smtp_reply", "status"),
    [
        (
            f"550-Verification failed for <{BOUNCES}>\n"
            '550-unrouteable mail domain "news.example.com"\n550 Sender verify failed',
            "5.0.0",
        ),
        # the notice as some relays keep it: without the last line
        (f"550-Verification failed for <{BOUNCES}>\n550-Unrouteable address", "5.0.0"),
        (
            f"550-Verification failed for <{BOUNCES}>\n550-Called:   192.0.2.1\n"
            f"550-Sent:     RCPT TO:<{BOUNCES}>\n"
            f"550-Response: 550 5.1.1 <{BOUNCES}>: Recipient address rejected: User unknown\n"
            "550 Sender verification failed",
            "5.1.1",
        ),
    ],
)
def test_a_refusal_of_our_sender_after_verification_does_not_suppress_the_reader(
    smtp_reply: str, status: str
) -> None:
    """Exim verified our return path with a callout and could not reach it: the receiving
    server refused our envelope sender, the reader's address was never in question."""
    got = of(exim_bounce("jose.rivera1@example.org", smtp_reply, status), BOUNCES, "")
    assert got.kind == InboundKind.BOUNCE
    [failure] = got.failures
    assert failure.recipient == "jose.rivera1@example.org"
    assert (failure.hard, failure.reason) == (False, "policy_blocked")


@pytest.mark.parametrize(
    ("sample", "mail_from"),
    [
        # Boxbe's "waitlisted" notice is a multipart/report with "Status: 4.7.0"
        ("real/bounceparser-boxbe-cr.eml", "noreply@boxbe.com"),
        ("real/bounceparser-bluebottle.eml", "support@bluebottle.com"),
    ],
)
def test_a_challenge_response_request_is_an_auto_reply_not_a_bounce(
    sample: str, mail_from: str
) -> None:
    """The message waits for the sender to prove they are a person: the reader's mailbox
    exists and nothing failed; no bounce, hard or soft, is counted against them."""
    got = of((CORPUS / sample).read_bytes(), BOUNCES, mail_from)
    assert (got.kind, got.failures) == (InboundKind.AUTO_REPLY, ())


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (
            "Please verify your email address",
            "Hello,\n\nYour message to jose.rivera1@example.org is awaiting your approval before "
            "it is\ndelivered. Please verify your email address by clicking the link below; you "
            "only\nneed to do this once:\n\nhttps://mailguard.client.example/v/8d1c\n",
        ),
        (
            "Confirmez votre adresse",
            "Bonjour,\n\nVotre message à jose.rivera1@example.org est en attente. Veuillez "
            "confirmer votre adresse en cliquant sur le lien ci-dessous :\n\n"
            "https://mailguard.client.example/v/8d1c\n",
        ),
    ],
)
def test_a_challenge_from_the_null_sender_naming_no_vendor_is_an_auto_reply(
    subject: str, body: str
) -> None:
    raw = (
        "From: Mail Guard <mailguard@mx.client.example>\n"
        f"To: {BOUNCES}\n"
        f"Subject: {subject}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body
    ).encode()
    got = of(raw, BOUNCES, "")
    assert (got.kind, got.failures) == (InboundKind.AUTO_REPLY, ())


@pytest.mark.parametrize(
    "diagnostic",
    [
        "smtp; 551 <jose.rivera1@example.org> is a deactivated mailbox",
        "smtp; 550 This account is no longer active",
        "smtp; 550 Requested action not taken: mailbox is inactive",
    ],
)
def test_a_mailbox_no_longer_active_is_a_hard_bounce(diagnostic: str) -> None:
    got = of(dsn("jose.rivera1@example.org", "5.0.0", diagnostic=diagnostic), BOUNCES, "")
    [failure] = got.failures
    assert (failure.hard, failure.reason) == (True, "user_unknown")


@pytest.mark.parametrize(
    ("diagnostic", "hard"),
    [
        # the reporting Postfix's own local or virtual delivery found no such user
        ('X-Postfix; unknown user: "jose.rivera1"', True),
        ("X-Postfix; user unknown. Command output: no such mailbox", False),  # a program's
        # a remote server's answer after the message was sent: a filter's, as over SMTP
        (
            "X-Postfix; host mx2.client.example said: 550 unknown user (in reply to end of DATA "
            "command)",
            False,
        ),
    ],
)
def test_the_reporting_mtas_own_unknown_user_is_a_dead_mailbox(diagnostic: str, hard: bool) -> None:
    got = of(dsn("jose.rivera1@example.org", "5.0.0", diagnostic=diagnostic), BOUNCES, "")
    [failure] = got.failures
    assert failure.hard is hard


AUTO_HEADERS = [
    {"Auto-Submitted": "auto-replied"},
    {"Auto-Submitted": "auto-generated"},
    {"X-Autoreply": "yes"},
    {"X-Autorespond": "Out of office"},
    {"Precedence": "bulk"},
    {"Precedence": "junk"},
    {"Precedence": "list"},
    {"Precedence": "auto_reply"},
]


@pytest.mark.parametrize(
    "headers", AUTO_HEADERS, ids=lambda h: "-".join(h.items().__iter__().__next__())
)
def test_auto_reply_headers(headers: dict[str, str]) -> None:
    raw = client_reply("Re: Security Chatter", "I am away until Monday.", headers=headers)
    got = of(raw)
    assert got.kind == InboundKind.AUTO_REPLY
    assert next(iter(headers)) in got.reason


@pytest.mark.parametrize(
    "subject",
    [
        "Out of office: Security Chatter - 9 April 2025",
        "Automatic reply: Security Chatter - 9 April 2025",
        "Respuesta automática: Security Chatter",
        "Fuera de la oficina",
        "Autoreply: Security Chatter",
        "Réponse automatique : Security Chatter",
        # Outlook's "Automatic reply:" in other languages
        "Automatisch antwoord: Security Chatter",
        "Odpowiedź automatyczna: Security Chatter",
        "Автоматический ответ: Security Chatter",
        "自動応答: Security Chatter",
        "自动回复: Security Chatter",
        "자동 회신: Security Chatter",
        "自动答复: Security Chatter",
        "Αυτόματη απάντηση: Security Chatter",
        "Răspuns automat: Security Chatter",
        "Автоматична відповідь: Security Chatter",
    ],
)
def test_auto_reply_subjects(subject: str) -> None:
    assert of(client_reply(subject, "Estaré fuera hasta el lunes.")).kind == InboundKind.AUTO_REPLY


def test_a_responder_answering_with_re_but_not_quoting_is_an_auto_reply() -> None:
    raw = reply(from_=CLIENT, to=REPLY, subject="RE: Out of the Office", body="Back on Monday.")
    assert of(raw).kind == InboundKind.AUTO_REPLY


@pytest.mark.parametrize(
    ("subject", "quoted"),
    [
        # a person's new subject that begins with a word responders also use
        ("Absence of Peru coverage this week", False),
        ("Ausencia de datos sobre Colombia", False),
        ("On vacation pay for contractors in Mexico", False),
        # a reply to an issue whose own title reads like a responder's label
        ("Re: Out of office: new remote-work rules in Mexico", True),
        ("RE: Vacation reply rules under the new labour law", True),
        ("Re: Jane Doe is out of the office", True),
        # the same from a phone that does not quote: the label is not first
        ("Re: Out of office: new remote-work rules in Mexico", False),
        ("Re: Automatic reply rules for SAT notices", False),
    ],
)
def test_a_persons_subject_that_reads_like_a_responders_is_an_inquiry(
    subject: str, quoted: bool
) -> None:
    body = "Could you send me the full analysis? We meet on Friday."
    raw = (
        client_reply(subject, body)
        if quoted
        else reply(from_=CLIENT, to=REPLY, subject=subject, body=body)
    )
    assert of(raw).kind == InboundKind.INQUIRY


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Jane Doe/NY/GlobalBank is out of the office.", "I will return on 04/16/2025."),
        ("Absence: Security Chatter", "Je suis absente jusqu'au 15 avril."),
        ("Ausente hasta el 20 de abril", "Responderé a mi regreso."),
        ("Ticket Received - Security Chatter", "A ticket has been created with ID 4821."),
        ("[ACME Support] Request received: Security Chatter", "We will answer within 24 hours."),
        (
            "Re: Security Chatter [Verification Required]",
            "I use Spam Arrest to protect my inbox. Click the link below to verify that you "
            "are a person and not a spammer: https://www.spamarrest.com/a2/verify.jsp?id=abc",
        ),
        (
            "Re: Security Chatter",
            "Your message is waiting for delivery. Click below to be added to my Guest List "
            "so that your messages reach my Inbox.\n\nThis message was sent by Boxbe.",
        ),
        (
            "Votre message est en attente de validation",
            "Vous avez envoyé un message protégé par Mailinblack. Pour qu'il soit délivré, "
            "cliquez sur le lien et confirmez que vous êtes bien un humain.",
        ),
        # a challenge-response filter that does not name its vendor
        (
            "Sender verification required",
            "Your message to Luisa Ortega has been held. To have it delivered, please confirm "
            "that you are a real person by clicking the link below. You only need to do this "
            "once: https://verify.example.net/c/77a1",
        ),
        (
            "Confirme su dirección de correo",
            "Su mensaje ha sido retenido por mi filtro antispam. Para que llegue a su "
            "destino, confirme que es usted un ser humano en el siguiente enlace: "
            "https://filtro.example.net/v/12",
        ),
        (
            "Thank you for contacting Globex",
            "Thank you for your email. This is an automated response to let you know we have "
            "received your message.",
        ),
        ("Re: Security Chatter", "Gracias por escribir. Esta es una respuesta automática."),
    ],
)
def test_responders_that_send_no_auto_reply_header_are_known_by_their_words(
    subject: str, body: str
) -> None:
    raw = reply(from_=CLIENT, to=REPLY, subject=subject, body=body)
    assert of(raw).kind == InboundKind.AUTO_REPLY


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        # Outlook's label and the subject it answers, with no header left by the gateway
        (
            "Réponse automatique : Security Chatter — 9 April 2025",
            "Bonjour,\n\nJe suis absent du bureau jusqu'au 18 avril inclus. Je traiterai votre "
            "message à mon retour.\n\nCordialement,\nRicardo Díaz",
        ),
        (
            "Respuesta automática: Security Chatter — 9 April 2025",
            "Gracias por su correo. Me encuentro fuera de la oficina hasta el lunes 14 de abril "
            "con acceso limitado al correo. Para asuntos urgentes contacte a "
            "asistencia@example.org.",
        ),
        ("Out of Office AutoReply: Security Chatter", "I am out of the office until Monday."),
        # the one question responders ask
        (
            "Out of Office: Security Chatter — 9 April 2025",
            "I'm currently out of the office with limited access to email until Monday 19 May.\n"
            "Need something urgent? Please call the office on 02 9555 0101.",
        ),
        ("[Auto-Reply] Security Chatter — 9 April 2025", "Back on Monday 14 April."),
        ("【自動返信】Security Chatter", "4月14日まで出張のため不在にしております。"),
        # words people use too, in a label's place, over a responder's notice
        (
            "Abwesenheit: Security Chatter — 9 April 2025",
            "Vielen Dank für Ihre Nachricht. Ich bin bis zum 22. April nicht im Büro. In "
            "dringenden Fällen wenden Sie sich bitte an zentrale@example.de.",
        ),
        ("Fuori ufficio: Security Chatter", "Sono fuori ufficio fino al 22 aprile."),
        (
            "Carmen Lopez/MEX/Example is out of the office.",
            "I will be out of the office starting 09/04/2025 and will not return until "
            "16/04/2025.\n\nI will respond to your message when I return.",
        ),
        # the French and Italian labels name the office too ("absence du bureau")
        (
            "Absence du bureau",
            "Bonjour, je suis absente du bureau jusqu'au 14 novembre. Je répondrai à votre "
            "message à mon retour.",
        ),
        ("Hors du bureau", "Je suis en congés jusqu'au 14 novembre, accès limité à mes e-mails."),
        ("Assente dall'ufficio", "Sono fuori ufficio fino al 14 novembre. Al mio rientro."),
        # a label without "du bureau", a return date in Portuguese and Dutch, and the notices
        # of Dutch, Polish, Russian and Chinese responders
        ("Absente jusqu'au 2 mai", "Merci de votre message, je le traiterai à mon retour."),
        ("Ausente até 3 de março", "Obrigado pelo seu e-mail. Responderei no meu retorno."),
        (
            "Afwezig: Security Chatter",
            "Dank u voor uw e-mail. Ik ben tot en met 2 mei niet op kantoor. Voor dringende "
            "zaken kunt u bellen met 020 555 0100.",
        ),
        ("Nieobecność: Security Chatter", "Dziękuję za wiadomość. Jestem poza biurem do 2 maja."),
        ("Отсутствие: Security Chatter", "Спасибо за письмо. Я в отпуске до 2 мая."),
        ("外出: Security Chatter", "谢谢您的邮件。我目前不在办公室，5月2日回来。"),
        ("外出: Security Chatter", "感謝您的郵件，本人目前不在辦公室，5月2日返回。"),
    ],
)
def test_a_responders_label_in_a_labels_place_is_an_auto_reply_without_headers(
    subject: str, body: str
) -> None:
    raw = reply(from_=CLIENT, to=REPLY, subject=subject, body=body)
    assert of(raw).kind == InboundKind.AUTO_REPLY


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        # the responder's words go on in prose: a person's own subject
        (
            "Out of office next week - can we meet today?",
            "Fausto, I'm away next week; could we have a quick call today about the Jalisco "
            "item?\n\nPaula",
        ),
        (
            "Away from the office next week — call today?",
            "Fausto, I'm travelling from Monday. Could we do 20 minutes today on the Jalisco "
            "item?\n\nRicardo",
        ),
        (
            "Abwesenheit im Mai – Termin vorher möglich?",
            "Hallo Herr Carbajal, ich bin im Mai vier Wochen nicht erreichbar. Können wir "
            "vorher über die Lage in Jalisco sprechen?\n\nBeste Grüße\nLuis Sánchez",
        ),
        (
            "Fuera de la oficina la próxima semana: ¿hablamos hoy?",
            "Fausto, la próxima semana estoy de viaje. ¿Podemos hablar hoy sobre la nota de "
            "Jalisco?\n\nCarmen",
        ),
        (
            "Automatic reply rules for our team - and a question on Cancun",
            "Fausto, two things: our IT set up automatic reply rules that may answer your "
            "briefing, sorry. And is Cancún safe for a team offsite in June?\n\nAndrés",
        ),
        ("Afwezig volgende week, kunnen we vandaag bellen", "Fausto, schikt 15.00 uur?"),
        ("I am out of the office next week - can we meet?", "Thursday at 10 works for me."),
        # a label's place, but the body asks the partner something
        (
            "Out of office: quick call before I leave?",
            "Fausto, I'm off from Monday. Could we talk today about Pemex?",
        ),
        # a person writing ABOUT automated responses
        (
            "AI Act and our chatbot",
            "This is an automated response system we are building for clients: does it count "
            "as high-risk under the AI Act? Could your team review our design note?",
        ),
        (
            "Question on automated responses under the AI Act",
            "Hi Margaret,\n\nThis is an automated response question of sorts - our compliance "
            "team set up an automated response system for client queries. Could you advise?",
        ),
        # a label's place, words people use too, and no responder's notice under them
        (
            "Away from the office – notes on Jalisco",
            "Fausto, I'll be away next week, so here are my thoughts on the Jalisco item now: "
            "the governor's plan leaves the ports out.\n\nPaula",
        ),
    ],
)
def test_a_clients_own_message_whose_subject_begins_like_a_responders_is_an_inquiry(
    subject: str, body: str
) -> None:
    raw = reply(from_=CLIENT, to=f"Fausto Carbajal Glass <{REPLY}>", subject=subject, body=body)
    got = of(raw)
    assert got.kind == InboundKind.INQUIRY, got.reason


ZENDESK_ACK = (
    "##- Please type your reply above this line -##\n\n"
    "Your request (48213) has been received and is being reviewed by our support staff.\n\n"
    "To add additional comments, reply to this email.\n\n"
    "This email is a service from Acme Support."
)


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("[Acme Support] Re: Security Chatter — 9 April 2025", ZENDESK_ACK),
        (
            "Re: Security Chatter — 9 April 2025",
            "Dear customer,\n\nThis is an acknowledgement that we have received your request. "
            "Your ticket number is #4821. Our team will get back to you within one business "
            "day.\n\nGlobex Helpdesk",
        ),
        (
            "[SUP-1234] Security Chatter",
            "Your request SUP-1234 has been received. You can follow it at "
            "https://globex.example/servicedesk/SUP-1234.",
        ),
        (
            "RE: Security Chatter",
            "Estimado cliente: su solicitud #58213 ha sido recibida y será atendida por "
            "nuestro equipo de soporte.",
        ),
        (
            "Support Ticket Opened [#781204]",
            "A request for support has been created and assigned ticket #781204. A "
            "representative will follow-up with you as soon as possible.",
        ),
    ],
)
def test_a_help_desks_acknowledgement_without_auto_headers_is_an_auto_reply(
    subject: str, body: str
) -> None:
    raw = reply(
        from_="Acme Support <support@example.com>",
        to=REPLY,
        subject=subject,
        body=body,
        headers={"X-Mailer": "Zendesk Mailer"},
    )
    got = of(raw, mail_from="support@example.com")
    assert got.kind == InboundKind.AUTO_REPLY, got.reason


PROOFPOINT_DIGEST = (
    "Hello carmen.diaz21@example.net,\n\n"
    "The following messages have been quarantined and are being held for you. You can release\n"
    "messages, block or allow the sender.\n\n"
    "Quarantined Messages\n"
    "From                              Subject                                   Score\n"
    f"briefing@{DOMAIN}    Security Chatter — 9 April 2025            84\n\n"
    "Release | Release and Allow Sender | Block Sender\n\n"
    "This digest was generated automatically. Do not reply to this message."
)


@pytest.mark.parametrize(
    ("from_", "subject", "body"),
    [
        (
            "Proofpoint Essentials <noreply@quarantine.example.com>",
            "End User Digest: 1 New Message",
            PROOFPOINT_DIGEST,
        ),
        (
            "Spam Quarantine <quarantine@mx.example.net>",
            "Spam Quarantine Summary - 2 new messages",
            "The following messages are held in your spam quarantine and will be deleted "
            f"after 14 days.\n\nbriefing@{DOMAIN}  Security Chatter — 9 April 2025  "
            "[Release] [Not Spam]",
        ),
        (
            "Microsoft 365 <quarantine@messaging.microsoft.com>",
            "Microsoft 365 security: You have messages in quarantine",
            "Review these messages in quarantine. They will be deleted after 30 days.\n\n"
            f"Sender: briefing@{DOMAIN}\nSubject: Security Chatter\nRelease | Block Sender",
        ),
        (
            "Mimecast Personal Portal <no-reply@mimecast.example>",
            "On Hold Digest: 1 message",
            "The following messages are on hold for you.\n\n"
            f"briefing@{DOMAIN}  Security Chatter — 9 April 2025  Release | Block | Permit",
        ),
    ],
)
def test_a_spam_quarantine_digest_is_not_an_inquiry(from_: str, subject: str, body: str) -> None:
    raw = reply(from_=from_, to=REPLY, subject=subject, body=body)
    got = of(raw, mail_from=from_.rpartition("<")[2].rstrip(">"))
    assert got.kind == InboundKind.AUTO_REPLY and "quarantine" in got.reason


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (
            "Quarantine",
            "Fausto, this week's briefing landed in our spam quarantine; I had to release it "
            "by hand. Could your IT look at it?",
        ),
        ("Spam report for your newsletter", "It went to quarantine again; I released it."),
        (
            "Fwd: End User Digest: 1 New Message",
            "Fausto, our filter holds your briefing every week, see below; I release it by "
            "hand.\n\nThe following messages have been quarantined. Release | Block Sender",
        ),
        (
            "Question",
            "My ticket #4821 with IT has been opened; meanwhile can you resend the PDF?",
        ),
        ("Re: Security Chatter", "We have received your request for the Pemex figures, thanks."),
    ],
)
def test_a_reader_writing_about_quarantine_or_tickets_is_an_inquiry(
    subject: str, body: str
) -> None:
    assert of(reply(from_=CLIENT, to=REPLY, subject=subject, body=body)).kind == InboundKind.INQUIRY


def test_a_reader_asking_about_automatic_messages_is_an_inquiry() -> None:
    body = "Is this an automated message? I got it twice. Please check this is an error."
    assert of(client_reply("Re: Security Chatter", body)).kind == InboundKind.INQUIRY
    assert of(reply(from_=CLIENT, to=REPLY, subject="Hi", body=body)).kind == InboundKind.INQUIRY


def test_auto_submitted_no_is_a_person() -> None:
    raw = client_reply(
        "Re: Security Chatter", "Thanks, very useful.", headers={"Auto-Submitted": "no"}
    )
    assert of(raw).kind == InboundKind.INQUIRY


@pytest.mark.parametrize(
    "sender",
    [
        "Mailer Team <mailer.team@example.org>",
        "Bouncer Fitness <bouncer@example.org>",
        "Mail Systems Ltd <info@mailsystems.example>",
        "Postmasters Guild <contact@example.org>",
    ],
)
def test_a_reader_whose_name_begins_like_a_mail_systems_is_an_inquiry(sender: str) -> None:
    raw = reply(from_=sender, to=REPLY, subject="Re: Security Chatter", body="Press kit, please?")
    assert of(raw, mail_from=sender.rpartition("<")[2].rstrip(">")).kind == InboundKind.INQUIRY


@pytest.mark.parametrize(
    "sender",
    [
        "MAILER-DAEMON@mx.example.net",
        "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        "postmaster@contoso.example",
        "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.example",
        "bounces@lists.example.net",
        "mailer@mx.example.net",
    ],
)
def test_a_mail_systems_unknown_notice_at_a_reply_address_is_not_forwarded(sender: str) -> None:
    raw = reply(from_=sender, to=REPLY, subject="Notice", body="Something happened.")
    assert of(raw, mail_from="").kind == InboundKind.UNRECOGNIZED
    assert of(raw, mail_from=None).kind == InboundKind.UNRECOGNIZED


def test_anything_sent_to_the_unsubscribe_address_unsubscribes() -> None:
    msg = EmailMessage()
    msg["From"] = CLIENT
    msg["To"] = UNSUB
    msg["Subject"] = "Hola"  # no words needed: the address is the request (List-Unsubscribe)
    msg.set_content("")
    got = of(msg.as_bytes(), UNSUB)
    assert got.kind == InboundKind.UNSUBSCRIBE and got.address_kind == "unsubscribe"


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Re: Security Chatter - 9 April 2025", "Por favor darme de baja."),
        (
            "Re: Security Chatter - 9 April 2025",
            "Hola Fausto,\nQuiero darme de baja de esta lista.",
        ),
        ("Re: Security Chatter", "Favor de dar de baja mi correo.\nGracias"),
        ("Baja", ""),
        ("RE: baja por favor", "Saludos"),
        ("Re: Security Chatter", "Cancelar suscripción"),
        ("Unsubscribe", "Thanks"),
        ("Re: Security Chatter", "Please remove me from this list."),
        ("Re: Security Chatter", "Hi,\nunsubscribe me please"),
        ("Re: Security Chatter", "Remove me"),
    ],
)
def test_replies_asking_to_unsubscribe(subject: str, body: str) -> None:
    got = of(client_reply(subject, body))
    assert got.kind == InboundKind.UNSUBSCRIBE, got.reason


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (
            "Re: Security Chatter - 9 April 2025",
            "Could we talk about the National Operations Unit?",
        ),
        (
            "Re: Security Chatter",
            "I don't want to unsubscribe, but please send it to my colleague.",
        ),
        ("Re: La producción baja", "¿Tienen más datos sobre la baja producción de Pemex?"),
        ("Re: Security Chatter", "Gracias Fausto.\nNo quiero darme de baja; ¿me llaman?"),
    ],
)
def test_replies_that_only_mention_the_words_are_inquiries(subject: str, body: str) -> None:
    """The quoted newsletter (with its Unsubscribe link and "baja") is not the client's request."""
    got = of(client_reply(subject, body))
    assert got.kind == InboundKind.INQUIRY, got.reason


def test_our_own_forward_coming_back_is_a_loop() -> None:
    raw = client_reply("Re: Security Chatter", "Hi", headers={"X-Mailer-Loop": DOMAIN})
    assert of(raw).kind == InboundKind.LOOP
    other = client_reply("Re: Security Chatter", "Hi", headers={"X-Mailer-Loop": "other.example"})
    assert of(other).kind == InboundKind.INQUIRY


def test_a_person_writing_to_the_envelope_sender_is_unrecognized_not_an_inquiry() -> None:
    raw = client_reply("Hello", "Who is this?")
    assert of(raw, BOUNCES).kind == InboundKind.UNRECOGNIZED


def test_unparsable_rubbish_does_not_crash() -> None:
    raw = b"\x00\xff garbage without headers\r\n\r\n\x80\x81"
    assert of(raw).kind == InboundKind.INQUIRY
    # From the null sender to our return path: only a mail system writes there.
    got = of(raw, BOUNCES, "")
    assert got.kind == InboundKind.BOUNCE and not got.failures[0].hard


def test_reply_text_trims_quotes_in_english_spanish_and_outlook() -> None:
    english = "Thanks!\n\nOn Wed, Apr 9, 2025 at 8:00 AM Fausto wrote:\n> Security Chatter\n"
    assert reply_text(english) == "Thanks!"
    spanish = "Gracias.\n\nEl mié, 9 abr 2025 a las 8:00, Fausto escribió:\n> Security Chatter\n"
    assert reply_text(spanish) == "Gracias."
    outlook = "Call me.\n\n-----Original Message-----\nFrom: Briefing\nSubject: Security Chatter\n"
    assert reply_text(outlook) == "Call me."
    outlook_es = "Llámame.\n\nDe: Security Chatter <briefing@news.example.com>\nEnviado: ayer\n"
    assert reply_text(outlook_es) == "Llámame."


@pytest.mark.parametrize(
    "header",
    [
        f"Van: Fausto Carbajal Glass <{REPLY}>\nVerzonden: woensdag 9 april 2025 08:00",
        f"Da: Fausto Carbajal Glass <{REPLY}>\nInviato: mercoledì 9 aprile 2025 08:00",
        f"De : Fausto Carbajal Glass <{REPLY}>\nEnvoyé : mercredi 9 avril 2025 08:00",
        "-----Messaggio originale-----\nDa: Security Chatter",
        "-----Oorspronkelijk bericht-----\nVan: Security Chatter",
        "-----Mensagem original-----\nDe: Security Chatter",
        "Am 09.04.25 um 08:00 schrieb Fausto Carbajal Glass:",
        "Op 09-04-2025 om 08:00 schreef Fausto Carbajal Glass:",
        f"Op 9 apr. 2025 om 08:00 heeft Fausto Carbajal Glass <{REPLY}> het volgende geschreven:",
        f"Em qua., 9 de abr. de 2025 às 08:00, Fausto Carbajal Glass <{REPLY}> escreveu:",
        f"Le mer. 9 avr. 2025 à 08:00, Fausto Carbajal Glass <\n{REPLY}> a écrit :",
        f"Op wo 9 apr 2025 om 08:00 schreef Fausto Carbajal Glass <\n{REPLY}>:",
        f"Em qua., 9 de abr. de 2025 às 08:00, Fausto Carbajal Glass <\n{REPLY}> escreveu:",
    ],
)
def test_reply_headers_of_outlook_apple_thunderbird_and_gmail_in_every_language_end_the_reply(
    header: str,
) -> None:
    text = f"Graag afmelden.\n\n{header}\n\n{NEWSLETTER_TEXT}"
    assert reply_text(text) == "Graag afmelden."


def test_gmails_attribution_lines_wrapped_or_not_english_are_not_the_readers_words() -> None:
    wrapped = (
        "REMOVE\n\nOn Wed, Apr 9, 2025 at 10:00 AM Fausto Carbajal Glass <\n"
        f"{REPLY}> wrote:\n\n> Security Chatter\n"
    )
    assert reply_text(wrapped) == "REMOVE"
    spanish = (
        "Hola\n\nEl mié, 9 abr 2025 a las 10:00, Fausto Carbajal Glass (<\n"
        f"{REPLY}>)\nescribió:\n\n> Security Chatter\n"
    )
    assert reply_text(spanish) == "Hola"
    german = (
        "Bericht bitte?\n\nAm Mi., 9. Apr. 2025 um 10:00 Uhr schrieb Fausto Carbajal Glass <\n"
        f"{REPLY}>:\n\n> Security Chatter\n"
    )
    assert reply_text(german) == "Bericht bitte?"
    italian = f"Grazie\n\nIl giorno mer 9 apr 2025 alle 10:00 Fausto <{REPLY}> ha scritto:\n> x"
    assert reply_text(italian) == "Grazie"
    assert reply_text("Am Montag schrieb ich Ihnen: bitte anrufen.") == (
        "Am Montag schrieb ich Ihnen: bitte anrufen."
    )
    # a reader's own sentence that begins with "On" stays
    assert reply_text(f"On Monday I can talk.\n{REPLY} wrote:\n> x") == "On Monday I can talk."
    raw = reply(from_=CLIENT, to=REPLY, subject="Re: Security Chatter", body=wrapped)
    assert of(raw).kind == InboundKind.UNSUBSCRIBE


def test_html_replies_lose_the_quoted_newsletter() -> None:
    html = (
        "<div dir='ltr'>Hola Fausto,<br>¿Hablamos el jueves?</div>"
        "<div class='gmail_quote'><blockquote>Security Chatter ... Unsubscribe</blockquote></div>"
    )
    text = html_to_text(html)
    assert "¿Hablamos el jueves?" in text and "Unsubscribe" not in text
    raw = reply(from_=CLIENT, to=REPLY, subject="Re: x", body="", html=html)
    assert parse(raw).get_content_type() == "text/html"
    assert unsubscribe_reason("Re: x", text) is None
    assert of(raw).kind == InboundKind.INQUIRY


def test_an_html_only_reply_can_ask_to_unsubscribe() -> None:
    html = (
        "<p>Por favor darme de baja.</p><p>Saludos</p>"
        "<blockquote type='cite'>Security Chatter</blockquote>"
    )
    raw = reply(from_=CLIENT, to=REPLY, subject="Re: Security Chatter", body="", html=html)
    got = of(raw)
    assert got.kind == InboundKind.UNSUBSCRIBE and "darme de baja" in got.reason


def _returned(to: str, *, ours: bool) -> bytes:
    """The headers of the message a bounce returns: ours (our return path and Message-ID) or
    another sender's."""
    sender = f"bounces+2-7i2yu7zqadredljl@{DOMAIN}" if ours else "list@other.example.org"
    msgid = f"<c1.d2.esyc7kiy@{DOMAIN}>" if ours else "<20250409.1234@other.example.org>"
    return (
        f"Return-Path: <{sender}>\r\nFrom: Briefing <briefing@{DOMAIN}>\r\nTo: {to}\r\n"
        f"Subject: Security Chatter\r\nMessage-ID: {msgid}\r\n\r\nSecurity Chatter\r\n"
    ).encode()


def test_a_bounce_returning_our_message_but_naming_another_address_is_soft() -> None:
    """Our message to the reader (its To), forwarded by their mailbox keeping our return path,
    bounced at the forward's dead target: the judgement says so, soft, without a database."""
    reader, colleague = "jose.rivera1@example.org", "m.ortega@example-partner.mx"
    got = of(dsn(colleague, "5.1.1", original=_returned(reader, ours=True)), BOUNCES, "")
    [failure] = got.failures
    assert (failure.recipient, failure.hard, failure.other_than) == (colleague, False, reader)
    assert f"({reader})" in got.reason and "soft" in got.reason
    # Expanded from the reader's address (an alias or forward of theirs): theirs, hard.
    alias = dsn(
        colleague, "5.1.1", original=_returned(reader, ours=True), original_recipient=reader
    )
    assert of(alias, BOUNCES, "").failures[0].hard
    # Not our message: the judgement cannot tell whose address it is (the policy can).
    theirs = of(dsn(colleague, "5.1.1", original=_returned(reader, ours=False)), BOUNCES, "")
    assert theirs.failures[0].hard and not theirs.failures[0].other_than


NOTICES = Path(__file__).parent.parent / "data" / "inbound"
JA_AWAY = NOTICES / "auto-reply-fuzai-ja-iso2022jp-noheaders.eml"


def _ja_away(raw: bytes) -> bytes:
    return raw.replace(b"TOKEN", b"2-7i2yu7zqadredljl").replace(
        b"@localhost", f"@{DOMAIN}".encode()
    )


def test_a_japanese_out_of_office_without_headers_is_an_auto_reply() -> None:
    """Subject "不在のご連絡（5月6日まで）" over "不在にしております… 5月7日以降に返信いたします",
    ISO-2022-JP, no Auto-Submitted: a responder's label in its place and its notice."""
    got = of(_ja_away(JA_AWAY.read_bytes()), mail_from="k.takahashi@kitamura-shoji.example")
    assert got.kind == InboundKind.AUTO_REPLY, got.reason


def test_utf8_text_under_a_7bit_japanese_charset_label_is_read_as_utf8() -> None:
    """A client that labels UTF-8 text "iso-2022-jp" (which has no 8-bit bytes): the words are
    read as UTF-8, not as replacement characters."""
    raw = _ja_away(JA_AWAY.read_bytes())
    head, _, body = raw.partition(b"\n\n")
    raw = head + b"\n\n" + body.decode("iso-2022-jp").encode("utf-8")
    got = of(raw, mail_from="k.takahashi@kitamura-shoji.example")
    assert got.kind == InboundKind.AUTO_REPLY, got.reason


def test_a_japanese_absence_subject_over_a_question_is_an_inquiry() -> None:
    """A person announcing their own absence and asking to meet first writes to the partner."""
    raw = reply(
        from_=CLIENT,
        to=REPLY,
        subject="不在のお知らせ（5月6日まで）",
        body="来週は出張のため不在にしております。その前にお打ち合わせできますでしょうか？",
    )
    assert of(raw).kind == InboundKind.INQUIRY


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Désinscrivez-moi, s'il vous plaît.", InboundKind.UNSUBSCRIBE),
        ("Pourriez-vous m'envoyer l'étude complète ? Merci, Hélène", InboundKind.INQUIRY),
    ],
)
def test_a_reply_labelled_utf8_but_written_in_windows_1252_is_read_as_written(
    text: str, kind: InboundKind
) -> None:
    """Old Outlook and webmail gateways label Western text "utf-8" that is windows-1252: the
    accents must not turn into replacement marks that hide the request from the partner."""
    raw = (
        f"From: Hélène Roux <h.roux@example.fr>\r\nTo: {REPLY}\r\nSubject: RE: Security Chatter\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + text.encode("windows-1252")
    assert of(raw).kind == kind
    assert body_text(parse(raw)).strip() == text


@pytest.mark.parametrize("label", ["iso-8859-1", "windows-1252", "iso-8859-15"])
def test_a_reply_labelled_latin1_but_written_in_utf8_is_read_as_written(label: str) -> None:
    """The reverse mistake, as common: UTF-8 text under a Western label reads "DÃ©sabonnez-moi";
    valid UTF-8 sequences of accented letters are no Latin-1 anyone writes."""
    text = "Désabonnez-moi, s'il vous plaît. Merci, Hélène"
    raw = (
        f"From: Hélène Roux <h.roux@example.fr>\r\nTo: {REPLY}\r\nSubject: RE: Security Chatter\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset={label}\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + text.encode("utf-8")
    assert body_text(parse(raw)).strip() == text
    assert of(raw).kind == InboundKind.UNSUBSCRIBE


@pytest.mark.parametrize(
    ("subject", "charset"),
    [("Désabonnement", "windows-1252"), ("退订", "gb2312"), ("Отписаться", "koi8-r")],
)
def test_a_subject_in_raw_8bit_of_the_messages_charset_is_read_as_written(
    subject: str, charset: str
) -> None:
    """Some clients write the subject in the body's charset without RFC 2047 encoding."""
    raw = (
        f"From: x@example.org\r\nTo: {REPLY}\r\nSubject: ".encode()
        + subject.encode(charset)
        + f"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset={charset}\r\n\r\n".encode()
    )
    assert header(parse(raw), "Subject") == subject
    assert of(raw).kind == InboundKind.UNSUBSCRIBE
