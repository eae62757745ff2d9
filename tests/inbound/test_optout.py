"""Opt-out by reply, in English, Spanish, French, German, Portuguese, Italian, Dutch, Polish,
Swedish, Danish, Norwegian, Russian, Japanese and Chinese: only a reply that as a whole asks to
stop this newsletter unsubscribes; anything that also asks something else, or asks to remove
someone or something else, is an inquiry for the partner (when in doubt, forward). Below the
request, each language's reply header and quote, a "Sent from my …" line, a signature block, a
confidentiality disclaimer or a legal footer are the mail client's and the company's, not the
reader's words."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailer.inbound.judgement import Classification, judge
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
    # Mexican usage, plural lists, a signature and a disclaimer under it
    (
        "RE: Security Chatter",
        "Favor de eliminarme de su lista de correos.\n\nGracias.\n\nLuis Herrera\n"
        "Director de Operaciones\n\nAVISO DE CONFIDENCIALIDAD: Este correo electrónico y sus "
        "anexos son confidenciales. Si usted no es el destinatario, favor de notificar al "
        "remitente y eliminarlo.",
    ),
    ("Re: Security Chatter", "Bórrenme de sus listas de envíos por favor"),
    (
        "Re: Security Chatter",
        "Estimados,\nSolicito la baja de mi correo.\nAtentamente,\nMaría López",
    ),
    # Russian, Japanese and Chinese readers
    ("Re: Security Chatter", "Пожалуйста, удалите меня из списка рассылки."),
    ("Re: Security Chatter", "Прошу отписать меня от рассылки. Спасибо"),
    ("Re: Security Chatter", "配信停止希望です。"),
    ("Re: Security Chatter", "メールマガジンの配信を停止してください。"),
    ("Re: Security Chatter", "退订"),
    ("Re: Security Chatter", "请不要再给我发邮件了，谢谢！"),
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
    ("Re: Security Chatter", "Пожалуйста, удалите моего коллегу из рассылки."),
    ("Re: Security Chatter", "配信停止の方法を教えてください。"),
    ("Re: Security Chatter", "请把我的同事从邮件列表中删除。"),
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


# The newsletter as each language's mail client quotes it: Gmail, Apple Mail and Thunderbird with
# their own attribution line and ">", Outlook with its header block and the text unquoted. The
# footer's "Unsubscribe" is in every one of them.
_QUOTE = "\n".join("> " + line for line in QUOTED.splitlines())
_TO = "José Rivera <jose.rivera1@example.org>"
_SUBJECT = "Security Chatter — 9 April 2025"
GMAIL_FR = f"Le mer. 9 avr. 2025 à 08:00, Fausto Carbajal Glass <{REPLY}> a écrit :\n{_QUOTE}"
OUTLOOK_FR = (
    f"De : Fausto Carbajal Glass <{REPLY}>\nEnvoyé : mercredi 9 avril 2025 08:00\n"
    f"À : {_TO}\nObjet : {_SUBJECT}\n\n{QUOTED}"
)
GMAIL_DE = f"Am Mi., 9. Apr. 2025 um 08:00 Uhr schrieb Fausto Carbajal Glass <{REPLY}>:\n{_QUOTE}"
OUTLOOK_DE = (
    f"Von: Fausto Carbajal Glass <{REPLY}>\nGesendet: Mittwoch, 9. April 2025 08:00\n"
    f"An: {_TO}\nBetreff: {_SUBJECT}\n\n{QUOTED}"
)
THUNDERBIRD_DE = f"Am 09.04.25 um 08:00 schrieb Fausto Carbajal Glass:\n{_QUOTE}"
GMAIL_PT = (
    f"Em qua., 9 de abr. de 2025 às 08:00, Fausto Carbajal Glass <{REPLY}> escreveu:\n{_QUOTE}"
)
OUTLOOK_PT = (
    f"-----Mensagem original-----\nDe: Fausto Carbajal Glass <{REPLY}>\n"
    f"Enviada em: quarta-feira, 9 de abril de 2025 08:00\nPara: {_TO}\n"
    f"Assunto: {_SUBJECT}\n\n{QUOTED}"
)
GMAIL_IT = (
    f"Il giorno mer 9 apr 2025 alle ore 08:00 Fausto Carbajal Glass <{REPLY}> ha scritto:\n{_QUOTE}"
)
OUTLOOK_IT = (
    f"Da: Fausto Carbajal Glass <{REPLY}>\nInviato: mercoledì 9 aprile 2025 08:00\n"
    f"A: {_TO}\nOggetto: {_SUBJECT}\n\n{QUOTED}"
)
GMAIL_NL = f"Op wo 9 apr 2025 om 08:00 schreef Fausto Carbajal Glass <{REPLY}>:\n{_QUOTE}"
OUTLOOK_NL = (
    f"Van: Fausto Carbajal Glass <{REPLY}>\nVerzonden: woensdag 9 april 2025 08:00\n"
    f"Aan: {_TO}\nOnderwerp: {_SUBJECT}\n\n{QUOTED}"
)
APPLE_NL = (
    f"Op 9 apr. 2025 om 08:00 heeft Fausto Carbajal Glass <{REPLY}> het volgende geschreven:"
    f"\n\n{_QUOTE}"
)

GMAIL_PL = f"pon., 9 kwi 2025 o 08:00 Fausto Carbajal Glass <{REPLY}> napisał(a):\n\n{_QUOTE}"
THUNDERBIRD_PL = f"W dniu 9.04.2025 o 08:00, Fausto Carbajal Glass pisze:\n{_QUOTE}"
OUTLOOK_SV = (
    f"Från: Fausto Carbajal Glass <{REPLY}>\nSkickat: den 9 april 2025 08:00\n"
    f"Till: Lena Berg <lena.berg@example.se>\nÄmne: {_SUBJECT}\n\n{_QUOTE}"
)
GMAIL_SV = f"Den ons 9 apr. 2025 kl 08:00 skrev Fausto Carbajal Glass <{REPLY}>:\n\n{_QUOTE}"
GMAIL_RU = f"ср, 9 апр. 2025 г. в 08:00, Fausto Carbajal Glass <{REPLY}>:\n\n{_QUOTE}"
OUTLOOK_RU = (
    f"От: Fausto Carbajal Glass <{REPLY}>\nОтправлено: 9 апреля 2025 г. 8:00\n"
    f"Кому: {_TO}\nТема: {_SUBJECT}\n\n{QUOTED}"
)
THUNDERBIRD_RU = f"09.04.2025 08:00, Fausto Carbajal Glass пишет:\n{_QUOTE}"
GMAIL_JA = f"2025年4月9日(水) 8:00 Fausto Carbajal Glass <{REPLY}>:\n\n{_QUOTE}"
OUTLOOK_JA = (
    f"-----Original Message-----\n差出人: Fausto Carbajal Glass <{REPLY}>\n"
    f"送信日時: 2025年4月9日 8:00\n宛先: {_TO}\n件名: {_SUBJECT}\n\n{QUOTED}"
)
GMAIL_ZH = f"Fausto Carbajal Glass <{REPLY}> 于2025年4月9日周三 08:00写道：\n\n{_QUOTE}"
OUTLOOK_ZH = (
    f"发件人: Fausto Carbajal Glass <{REPLY}>\n发送时间: 2025年4月9日 8:00\n"
    f"收件人: {_TO}\n主题: {_SUBJECT}\n\n{QUOTED}"
)

INTERNATIONAL_OPT_OUTS = [
    # French
    (
        f"RE: {_SUBJECT}",
        "Bonjour,\n\nMerci de me désabonner de cette liste.\n\nCordialement,\nPaula Martínez",
        GMAIL_FR,
    ),
    (f"RE : {_SUBJECT}", "Désabonnez-moi, s'il vous plaît.", OUTLOOK_FR),
    (f"RE: {_SUBJECT}", "Je ne souhaite plus recevoir vos e-mails. Merci.", GMAIL_FR),
    (f"RE: {_SUBJECT}", "Pourriez-vous me retirer de votre liste de diffusion ?", OUTLOOK_FR),
    ("Désabonnement", "", ""),
    (
        f"RE: {_SUBJECT}",
        "Merci de ne plus m'envoyer cette newsletter.\n\nEnvoyé de mon iPhone",
        GMAIL_FR,
    ),
    # German
    (
        f"AW: {_SUBJECT}",
        "Bitte melden Sie mich von diesem Newsletter ab.\n\n"
        "Mit freundlichen Grüßen\nLaura Hernández",
        GMAIL_DE,
    ),
    ("Abmelden", "Bitte abmelden. Danke\n\nGesendet von meinem iPhone", ""),
    (
        f"AW: {_SUBJECT}",
        "Sehr geehrte Damen und Herren,\nbitte nehmen Sie mich aus dem Verteiler.",
        OUTLOOK_DE,
    ),
    (f"AW: {_SUBJECT}", "Ich möchte diesen Newsletter nicht mehr erhalten.", THUNDERBIRD_DE),
    (f"WG: {_SUBJECT}", "Bitte senden Sie mir keine E-Mails mehr.\nViele Grüße", GMAIL_DE),
    # Portuguese
    (f"RES: {_SUBJECT}", "Olá,\nPor favor, me descadastre desta lista.\nObrigado", GMAIL_PT),
    (
        f"RES: {_SUBJECT}",
        "Não quero mais receber estes e-mails.\n\nAtenciosamente,\nAna Souza",
        OUTLOOK_PT,
    ),
    (f"Re: {_SUBJECT}", "Remova-me da sua lista, por favor.\n\nEnviado do meu iPhone", GMAIL_PT),
    ("Cancelar inscrição", "", ""),
    # Italian
    (
        f"R: {_SUBJECT}",
        "Buongiorno,\nvi prego di cancellarmi dalla lista.\nCordiali saluti",
        OUTLOOK_IT,
    ),
    (f"Re: {_SUBJECT}", "Non voglio più ricevere queste email, grazie.", GMAIL_IT),
    (f"R: {_SUBJECT}", "Vorrei annullare l'iscrizione.\n\nInviato da iPhone", GMAIL_IT),
    ("Disiscrivimi", "Grazie", ""),
    # Dutch
    (f"Antw: {_SUBJECT}", "Graag afmelden.\n\nMet vriendelijke groet,\nJan de Vries", OUTLOOK_NL),
    (f"RE: {_SUBJECT}", "Goedemorgen,\n\nIk wil me afmelden voor deze nieuwsbrief.", GMAIL_NL),
    (
        f"Re: {_SUBJECT}",
        "Verwijder mij van deze lijst aub.\n\nVerstuurd vanaf mijn iPhone",
        APPLE_NL,
    ),
    ("Uitschrijven", "", ""),
    # Polish
    (f"Odp: {_SUBJECT}", "Wypisz mnie, proszę.\n\nPozdrawiam\nMarek Nowak", GMAIL_PL),
    (f"Re: {_SUBJECT}", "Dzień dobry,\nproszę o usunięcie z listy.\nDziękuję", THUNDERBIRD_PL),
    (f"RE: {_SUBJECT}", "Rezygnuję z subskrypcji.\n\nZ poważaniem\nEwa Kowalczyk", GMAIL_PL),
    (f"Odp: {_SUBJECT}", "Nie chcę już otrzymywać tego newslettera.", THUNDERBIRD_PL),
    # Swedish
    (f"SV: {_SUBJECT}", "Hej,\n\nta bort mig från listan.\n\nMvh\nLena Berg", OUTLOOK_SV),
    (f"SV: {_SUBJECT}", "Vänligen avsluta prenumerationen, tack.", OUTLOOK_SV),
    (f"Re: {_SUBJECT}", "Jag vill avregistrera mig från nyhetsbrevet.", GMAIL_SV),
    ("Avregistrera", "", ""),
    # Russian, Japanese, Chinese, under their mail clients' reply headers
    (f"Re: {_SUBJECT}", "Пожалуйста, исключите меня из рассылки.", GMAIL_RU),
    (f"RE: {_SUBJECT}", "Больше не присылайте мне писем.\n\nС уважением", OUTLOOK_RU),
    (f"Re: {_SUBJECT}", "Отписаться. Спасибо", THUNDERBIRD_RU),
    (f"Re: {_SUBJECT}", "購読解除をお願いいたします。", GMAIL_JA),
    (f"RE: {_SUBJECT}", "お世話になっております。\n配信停止を希望します。", OUTLOOK_JA),
    (f"Re: {_SUBJECT}", "取消订阅", GMAIL_ZH),
    (f"答复: {_SUBJECT}", "请帮我退订，谢谢", OUTLOOK_ZH),
]

INTERNATIONAL_INQUIRIES = [
    # a question about unsubscribing someone else
    (
        f"RE: {_SUBJECT}",
        "Pouvez-vous désabonner ma collègue Anne ? Elle a quitté le cabinet.",
        GMAIL_FR,
    ),
    (f"AW: {_SUBJECT}", "Können Sie meine Kollegin vom Newsletter abmelden?", OUTLOOK_DE),
    (f"RES: {_SUBJECT}", "Podem remover o meu colega da lista? Ele saiu da empresa.", GMAIL_PT),
    (f"R: {_SUBJECT}", "Potete cancellare il mio collega dalla lista?", OUTLOOK_IT),
    (f"RE: {_SUBJECT}", "Kunt u mijn collega afmelden? Hij werkt hier niet meer.", GMAIL_NL),
    (f"Odp: {_SUBJECT}", "Proszę o wypisanie mojego kolegi Jana z listy.", GMAIL_PL),
    (f"SV: {_SUBJECT}", "Kan ni ta bort min kollega från listan? Hon har slutat.", OUTLOOK_SV),
    # an opt-out with a request beside it, in Polish and Swedish
    (f"Odp: {_SUBJECT}", "Wypisz mnie. Proszę też o telefon w sprawie raportu.", GMAIL_PL),
    (f"SV: {_SUBJECT}", "Tack för analysen! Kan vi ringas vid nästa vecka?", GMAIL_SV),
    # "Unsubscribe? Never!"
    (f"RE: {_SUBJECT}", "Me désabonner ? Jamais ! Votre meilleure lettre.", GMAIL_FR),
    (f"AW: {_SUBJECT}", "Abmelden? Niemals! Bitte weiter so.", GMAIL_DE),
    (f"Re: {_SUBJECT}", "Disiscrivermi? Mai! La leggo ogni settimana.", GMAIL_IT),
    # only the quoted footer says "unsubscribe"
    (
        f"RE: {_SUBJECT}",
        "Merci pour cette analyse, très utile.\n\nCordialement,\nPaula",
        OUTLOOK_FR,
    ),
    (f"RES: {_SUBJECT}", "Muito obrigado pela análise sobre Pemex.", OUTLOOK_PT),
    (f"RE: {_SUBJECT}", "Dank voor de analyse. Kunnen we volgende week bellen?", OUTLOOK_NL),
    # "stop" that is no opt-out, and an opt-out with a request beside it
    (f"RE: {_SUBJECT}", "Stop even langs als je in Amsterdam bent.", GMAIL_NL),
    (f"RE: {_SUBJECT}", "Désabonnez-moi. Merci de me rappeler demain pour le rapport.", GMAIL_FR),
    (f"AW: {_SUBJECT}", "Bitte abmelden.\nDanke, rufen Sie mich bitte an.", GMAIL_DE),
    (f"R: {_SUBJECT}", "Cancellatemi dalla lista. Grazie, chiamatemi domani.", GMAIL_IT),
    # a long message that mentions the word
    (
        f"AW: {_SUBJECT}",
        "Vielen Dank für den Bericht. Wir haben intern besprochen, ob wir den Newsletter "
        "abbestellen sollen, aber er ist zu wertvoll. Können wir nächste Woche über Jalisco "
        "sprechen?",
        OUTLOOK_DE,
    ),
    (
        f"RE: {_SUBJECT}",
        "Bonjour Fausto, j'ai failli me désabonner le mois dernier, mais votre note sur Pemex "
        "m'a fait changer d'avis. Pouvons-nous en parler jeudi ?",
        GMAIL_FR,
    ),
]


def judged_in(subject: str, body: str, quote: str) -> InboundKind:
    """The judgement of a reply whose body carries its own client's reply header and quote."""
    raw = reply(
        from_="José Rivera <jose.rivera1@example.org>",
        to=REPLY,
        subject=subject,
        body=f"{body}\n\n{quote}" if quote else body,
    )
    return judge(raw, mail_from="jose.rivera1@example.org", rcpt_to=REPLY, domain=DOMAIN).kind


@pytest.mark.parametrize(("subject", "body", "quote"), INTERNATIONAL_OPT_OUTS)
def test_a_reply_in_one_of_the_other_languages_asking_to_stop_is_an_opt_out(
    subject: str, body: str, quote: str
) -> None:
    assert judged_in(subject, body, quote) == InboundKind.UNSUBSCRIBE


@pytest.mark.parametrize(("subject", "body", "quote"), INTERNATIONAL_INQUIRIES)
def test_a_reply_in_another_language_that_asks_anything_else_reaches_the_partner(
    subject: str, body: str, quote: str
) -> None:
    assert judged_in(subject, body, quote) == InboundKind.INQUIRY


SIGNATURE = (
    "Diego Sánchez | Director of Corporate Security\n"
    "Grupo Ejemplo S.A.B. de C.V. | +52 55 5555 0100\n"
    "diego.sanchez@grupoejemplo.example | www.grupoejemplo.example"
)
DISCLAIMER = (
    "CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential and may be "
    "privileged. If you are not the intended recipient, please notify the sender immediately and "
    "delete it. Any unauthorised use is prohibited."
)
OUTLOOK_EN = (
    f"-----Original Message-----\nFrom: Fausto Carbajal Glass <{REPLY}>\n"
    f"Sent: Wednesday, April 9, 2025 8:00 AM\nSubject: {_SUBJECT}\n\n{QUOTED}"
)


@pytest.mark.parametrize(
    ("body", "quote"),
    [
        (f"Unsubscribe\n\n{SIGNATURE}\n\n{DISCLAIMER}", OUTLOOK_EN),
        (f"Please remove me from this list.\n{SIGNATURE}", OUTLOOK_EN),
        (f"Unsubscribe\n\n{DISCLAIMER}", OUTLOOK_EN),
        (
            "Bitte austragen.\n\nDr. Hans Müller\nLeiter Konzernsicherheit\nBeispiel AG\n"
            "Tel.: +49 89 1234567\n\nDiese E-Mail enthält vertrauliche Informationen. Wenn Sie "
            "nicht der richtige Adressat sind, informieren Sie bitte sofort den Absender.",
            OUTLOOK_DE,
        ),
        (
            "Me désabonner svp.\n\nÉmilie Dubois\nDirectrice des Risques | Exemple SA\n"
            "+33 1 23 45 67 89\n\nCe message et ses pièces jointes sont confidentiels et "
            "destinés exclusivement à leurs destinataires.",
            OUTLOOK_FR,
        ),
        ("Please stop sending me these emails. I never signed up for this.", GMAIL_FR),
        # a closing in Russian, Japanese or Chinese ends the reader's words; so does a line
        # that only separates a signature ("――――", "=====", "*****")
        (
            "Прошу отписать меня от рассылки.\n\nС уважением,\nИрина Соколова\n"
            "Главный бухгалтер\nАО «Пример»\nтел. 8 (812) 000-00-00",
            GMAIL_RU,
        ),
        (
            "配信停止を希望します。\nよろしくお願いいたします。\n\n"
            "株式会社エグザンプル\n総務部　中村 直子\nTEL：03-0000-0000",
            GMAIL_JA,
        ),
        (
            "请帮我取消订阅。\n\n此致\n敬礼\n\n王芳\n财务部\n电话：021-00000000",
            GMAIL_ZH,
        ),
        (
            "配信停止をお願いします。\n\n――――――――――――\n株式会社エグザンプル\n小林 健\n"
            "kobayashi@example.jp",
            GMAIL_JA,
        ),
    ],
)
def test_a_request_followed_by_a_signature_or_a_disclaimer_is_an_opt_out(
    body: str, quote: str
) -> None:
    assert judged_in(f"RE: {_SUBJECT}", body, quote) == InboundKind.UNSUBSCRIBE


@pytest.mark.parametrize(
    "body",
    [
        # words of the reader's own after their name are no signature
        "Unsubscribe\n\nDiego Sánchez\nPlease call me at +52 55 5555 0100 about Jalisco.",
        "Unsubscribe\n\nAna Torres, my assistant, should keep receiving it.",
        # a "disclaimer" that is the reader's request, not a confidentiality notice
        "Unsubscribe.\n\nThis email goes to the wrong person: write to ana@acme.example instead.",
        # capitals are no name
        "Unsubscribe\n\nCALL ME ASAP",
        # a separator line does not hide what the reader wrote under it as a letter
        "Unsubscribe\n\n==========\nBut first, could you send me the Jalisco report?",
    ],
)
def test_a_request_followed_by_more_of_the_readers_words_reaches_the_partner(body: str) -> None:
    assert judged_in(f"RE: {_SUBJECT}", body, OUTLOOK_EN) == InboundKind.INQUIRY


@pytest.mark.parametrize(
    "body",
    [
        "I never signed up for this.",
        "Please unsubscribe me. I have never subscribed to this newsletter.",
        "I would like to be removed from your mailing list.",
        "Stop sending me these emails. I don't remember signing up.",
    ],
)
def test_inflected_english_requests_are_opt_outs(body: str) -> None:
    assert judged("Re: Security Chatter", body) == InboundKind.UNSUBSCRIBE


NOTICES = Path(__file__).parent.parent / "data" / "inbound"


@pytest.mark.parametrize(
    "sample",
    [
        # "Unsubscribe, thanks." over a solicitors' SRA and "Registered in Scotland" footer
        "unsubscribe-uk-sra-registered-footer.eml",
        # Outlook: the request, a signature, then "… LLP is authorised and regulated by the
        # Financial Conduct Authority (FRN …). Registered in England and Wales …"
        "unsubscribe-outlook-signature-fca-footer.eml",
        # Polish, Thunderbird ("Odp:", "W dniu … pisze:"): "Proszę usunąć mnie z tej listy."
        "unsubscribe-pl-thunderbird-usunac.eml",
        # Swedish, Outlook ("SV:", "Från:/Skickat:"): "Vänligen ta bort mig från utskicket."
        "unsubscribe-sv-outlook-ta-bort.eml",
    ],
)
def test_a_request_above_a_footer_or_a_quote_in_its_language_is_an_opt_out(sample: str) -> None:
    raw = (NOTICES / sample).read_bytes().replace(b"TOKEN", b"2-7i2yu7zqadredljl")
    raw = raw.replace(b"@localhost", f"@{DOMAIN}".encode())
    got = judge(raw, mail_from=None, rcpt_to=REPLY, domain=DOMAIN)
    assert got.kind == InboundKind.UNSUBSCRIBE, got.reason


def _judge_danish_reply(body: str) -> Classification:
    """A Danish reader's reply (Outlook's "SV:" subject, the issue quoted below it), judged."""
    raw = reply(
        from_="Mette Holm <mette@client.example>",
        to=REPLY,
        subject="SV: Security Chatter",
        body=body,
        quoted=QUOTED,
    )
    return judge(raw, mail_from="mette@client.example", rcpt_to=REPLY, domain=DOMAIN)


@pytest.mark.parametrize(
    "body",
    [
        "Meld mig venligst af nyhedsbrevet.",
        "Hej, vil I venligst fjerne mig fra jeres mailliste? Tak.",
        "Jeg ønsker ikke længere at modtage nyhedsbrevet.\n\nVenlig hilsen\nMette Holm",
        "Afmeld.",
        "Meld meg av nyhetsbrevet, takk.",
        "Vennligst fjern meg fra listen.\n\nMed vennlig hilsen\nKari Nordmann",
    ],
)
def test_a_danish_or_norwegian_opt_out_unsubscribes(body: str) -> None:
    got = _judge_danish_reply(body)
    assert got.kind == InboundKind.UNSUBSCRIBE, got.reason


@pytest.mark.parametrize(
    "body",
    [
        "Hej, kan du melde min kollega Jens af? Han er gået på pension.",
        "Tak for rapporten. Jeg vil gerne høre mere om Jalisco.",
        "Fjern Jens fra listen og send mig rapporten om Pemex, tak.",
    ],
)
def test_a_danish_reply_about_someone_else_or_the_report_is_an_inquiry(body: str) -> None:
    got = _judge_danish_reply(body)
    assert got.kind == InboundKind.INQUIRY, got.reason
