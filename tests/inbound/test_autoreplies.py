"""Out-of-office notices that carry no auto-reply header (an Outlook client rule, a phone's
vacation setting, a gateway that strips headers), in the readers' languages: known by their
label or by their words alone, never forwarded to the partner; and readers' own messages that
mention an absence, which are (mailer/inbound/detectors/away.py, rfc3834.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailer.inbound.judgement import judge
from mailer.inbound.models import InboundKind
from tests.inbound_support import DOMAIN, reply

REPLY = f"reply+2-7i2yu7zqadredljl@{DOMAIN}"
READER = "Reader <reader@client.example>"


def of(subject: str, body: str) -> InboundKind:
    raw = reply(from_=READER, to=f"Fausto Carbajal Glass <{REPLY}>", subject=subject, body=body)
    got = judge(raw, mail_from="reader@client.example", rcpt_to=REPLY, domain=DOMAIN)
    return got.kind


# The newsletter's subject answered with the client's "Re:", and a notice in its words alone.
NOTICES = {
    "de": (
        "AW: Security Chatter — 9. April 2025",
        "Sehr geehrte Damen und Herren,\n\nvielen Dank für Ihre Nachricht. Ich bin bis zum "
        "22.04.2025 nicht im Büro und habe keinen Zugriff auf meine E-Mails. In dringenden "
        "Fällen wenden Sie sich bitte an zentrale@client.example.\n\nMit freundlichen Grüßen\n"
        "Jana Becker",
    ),
    "de-urlaub": (
        "Security Chatter",
        "Guten Tag,\n\nich befinde mich derzeit im Urlaub. Ab dem 22. April bin ich wieder "
        "erreichbar. Ihre E-Mail wird nicht weitergeleitet.\n\nBeste Grüße\nJ. Becker",
    ),
    "it": (
        "R: Security Chatter",
        "Grazie per il suo messaggio. Sono fuori ufficio fino al 22 aprile con accesso "
        "limitato alla posta. Per urgenze contattare segreteria@client.example.",
    ),
    "sv": (
        "SV: Security Chatter",
        "Hej,\n\nTack för ditt mejl. Jag är på semester till och med 22 april och har "
        "begränsad tillgång till e-post. Vid brådskande ärenden, kontakta "
        "vaxel@client.example.\n\nVänliga hälsningar\nAnna Lind",
    ),
    "da": (
        "SV: Security Chatter",
        "Tak for din mail. Jeg er på ferie til og med 22. april og har begrænset adgang til "
        "e-mail. I presserende sager kontakt venligst kontor@client.example.",
    ),
    "no": (
        "Re: Security Chatter",
        "Takk for e-posten. Jeg er på ferie til og med 22. april. Hvis det haster, ta kontakt "
        "med sentralbord@client.example.",
    ),
    "fi": (
        "VS: Security Chatter",
        "Kiitos viestistäsi. Olen lomalla 22.4. asti ja luen sähköpostini palattuani. "
        "Kiireellisissä asioissa ota yhteyttä toimisto@client.example.",
    ),
    "tr": (
        "YNT: Security Chatter",
        "Merhaba,\n\nMesajınız için teşekkür ederim. 22 Nisan'a kadar ofis dışındayım ve "
        "e-postalarıma sınırlı erişimim var. Acil durumlarda ofis@client.example adresine "
        "yazabilirsiniz.",
    ),
    "cs": (
        "Odp: Security Chatter",
        "Dobrý den,\n\nděkuji za Váš e-mail. Do 22. dubna jsem mimo kancelář s omezeným "
        "přístupem k e-mailu. V naléhavých případech kontaktujte kancelar@client.example.",
    ),
    "pl": (
        "Odp: Security Chatter",
        "Dzień dobry,\n\ndziękuję za wiadomość. Jestem na urlopie do 22 kwietnia. W pilnych "
        "sprawach proszę o kontakt z biuro@client.example.",
    ),
    "ja": (
        "Re: Security Chatter",
        "メールありがとうございます。\n誠に勝手ながら、4月22日まで休暇をいただいております。"
        "4月23日以降に順次確認いたします。",
    ),
    "ko": (
        "RE: Security Chatter",
        "안녕하세요. 4월 22일까지 휴가 중이라 메일 확인이 어렵습니다. 급한 용무는 "
        "office@client.example 로 연락 주시기 바랍니다.",
    ),
    "zh": (
        "回复: Security Chatter",
        "您好，我目前不在办公室，4月22日返回。如有急事，请联系 office@client.example。",
    ),
    "ar": (
        "RE: Security Chatter",
        "شكرا لرسالتك. أنا خارج المكتب حتى 22 أبريل مع وصول محدود إلى البريد الإلكتروني. "
        "للأمور العاجلة يرجى التواصل مع office@client.example.",
    ),
    "he": (
        "RE: Security Chatter",
        "תודה על פנייתך. אני מחוץ למשרד עד 22 באפריל ללא גישה לדואר אלקטרוני. בנושאים "
        "דחופים ניתן לפנות אל office@client.example.",
    ),
    "en": (
        "RE: Security Chatter",
        "Thank you for your email. I am currently out of the office on annual leave, returning "
        "on Tuesday 22 April. For urgent matters please contact office@client.example.",
    ),
    "nl": (
        "Antw: Security Chatter",
        "Dank u voor uw bericht. Ik ben met vakantie en vanaf 22 april weer bereikbaar. Voor "
        "dringende zaken kunt u contact opnemen met kantoor@client.example.",
    ),
    "fr": (
        "RE: Security Chatter",
        "Bonjour,\n\nJe suis en congés jusqu'au 22 avril inclus, avec un accès limité à ma "
        "messagerie. Pour toute urgence, merci de contacter accueil@client.example.",
    ),
    "es": (
        "RE: Security Chatter",
        "Gracias por su mensaje. Me encuentro de vacaciones hasta el 22 de abril. Para asuntos "
        "urgentes escriba a oficina@client.example.",
    ),
    "pt": (
        "RES: Security Chatter",
        "Obrigada pela sua mensagem. Estou de férias até 22 de abril. Em caso de urgência, "
        "contate escritorio@client.example.",
    ),
    # a second round: the absence and the responder's lines in other words
    "de-haus": (
        "AW: Security Chatter",
        "Hallo,\n\nich bin vom 28.07. bis 08.08. nicht im Haus. Ab dem 11.08. bin ich wieder für "
        "Sie da. Ihre E-Mail wird in dieser Zeit nicht gelesen.\n\nViele Grüße\nSabine Krüger",
    ),
    "en-monitored": (
        "Re: Security Chatter",
        "Good afternoon,\n\nPlease note I am on annual leave until Monday 11 August. Emails will "
        "not be monitored during this time. For anything urgent, contact the team inbox at "
        "team@client.example.\n\nBest,\nOliver",
    ),
    "sv-ledig": (
        "SV: Security Chatter",
        "Hej, jag är ledig till och med 11 augusti och har inte tillgång till min mejl. "
        "Brådskande frågor kan skickas till info@client.example.",
    ),
    "da-barsel": (
        "Re: Security Chatter",
        "Hej, jeg er på barsel frem til 1. december. Du kan i stedet skrive til "
        "info@client.example.",
    ),
    "nl-terugkomst": (
        "Re: Security Chatter",
        "Hallo, ik ben afwezig tot maandag 11 augustus. Uw e-mail wordt na mijn terugkomst "
        "behandeld.",
    ),
    "zh-jingqing": (
        "Re: Security Chatter",
        "您好！本人8月11日前休假，期间不便回复邮件，敬请谅解。",
    ),
    # a third round: "danke", a closing of several words, CJK and Hebrew wording
    "de-dienstreise": (
        "AW: Security Chatter",
        "Guten Tag,\n\ndanke für Ihre E-Mail. Ich bin derzeit auf Dienstreise und ab dem 14.04. "
        "wieder im Büro. Ihre Nachricht wird nicht automatisch weitergeleitet.\n\n"
        "Freundliche Grüße\nMarkus Huber",
    ),
    "es-cordial-saludo": (
        "Re: Security Chatter",
        "Estimado cliente:\n\nLe informamos de que me encuentro fuera de la oficina por "
        "vacaciones hasta el día 14 de abril. Atenderé su mensaje a mi regreso.\n\n"
        "Reciba un cordial saludo.",
    ),
    "ja-kyukachu": (
        "Re: Security Chatter",
        "ただいま休暇中のため、4月14日以降に順次返信いたします。"
        "ご迷惑をおかけいたしますが、何卒よろしくお願い申し上げます。",
    ),
    "ko-bokgwi": (
        "RE: Security Chatter",
        "안녕하세요. 현재 휴가 중으로 4월 14일에 복귀합니다. 급한 용건은 info@client.example "
        "으로 보내주세요.",
    ),
    "he-shuvi": (
        "RE: Security Chatter",
        "שלום, אני מחוץ למשרד עד 14 באפריל. אחזור אליך עם שובי. תודה",
    ),
}


@pytest.mark.parametrize(("subject", "body"), NOTICES.values(), ids=NOTICES.keys())
def test_an_out_of_office_notice_without_headers_is_known_by_its_words(
    subject: str, body: str
) -> None:
    assert of(subject, body) == InboundKind.AUTO_REPLY


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Abwesenheitsnotiz: Security Chatter", "Ich bin bis 22.04. nicht im Büro."),
        ("Frånvaro: Security Chatter", "Jag är på semester till 22 april."),
        ("Frånvaromeddelande", "Åter 22 april."),
        ("Fravær: Security Chatter", "Jeg er på ferie til 22. april."),
        ("Poissa: Security Chatter", "Olen lomalla 22.4. asti."),
        ("Mimo kancelář: Security Chatter", "Jsem mimo kancelář do 22. dubna."),
        ("Ofis dışında: Security Chatter", "22 Nisan'a kadar ofis dışındayım."),
        ("Otomatik cevap: Security Chatter", "22 Nisan'a kadar izindeyim."),
        ("不在: Security Chatter", "4月22日まで不在にしております。"),
        ("부재중: Security Chatter", "4월 22일까지 휴가 중입니다."),
        ("자동응답: Security Chatter", "4월 22일까지 출장 중입니다."),
        ("خارج المكتب: Security Chatter", "أنا خارج المكتب حتى 22 أبريل."),
        ("מחוץ למשרד: Security Chatter", "אני מחוץ למשרד עד 22 באפריל."),
        (
            "Urlaub bis 22.04.",
            "Vielen Dank für Ihre Nachricht, ich melde mich nach meiner Rückkehr.",
        ),
        ("Εκτός γραφείου: Security Chatter", "Είμαι εκτός γραφείου έως τις 22 Απριλίου."),
    ],
)
def test_an_away_label_in_the_readers_languages_over_a_notice_is_an_auto_reply(
    subject: str, body: str
) -> None:
    assert of(subject, body) == InboundKind.AUTO_REPLY


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        # the absence said, then a request or a question for the partner
        (
            "AW: Security Chatter",
            "Vielen Dank für Ihre Nachricht. Ich bin bis Freitag im Urlaub – könnten Sie mir "
            "die Analyse zu Pemex danach noch einmal schicken?",
        ),
        (
            "RE: Security Chatter",
            "Thanks for your email. I'm out of the office until Monday, but please send the "
            "full Pemex report to my assistant, maria@client.example.",
        ),
        (
            "SV: Security Chatter",
            "Tack för ditt mejl! Jag är på semester till 22 april, men skicka gärna rapporten "
            "om Pemex till min kollega.",
        ),
        (
            "Re: Security Chatter",
            "Olen lomalla 22.4. asti. Voisitteko lähettää raportin kollegalleni? Kiitos "
            "viestistäsi.",
        ),
        (
            "Re: Security Chatter",
            "Jeg er på ferie til den 11. august. Jeg vil gerne have en kopi af rapporten om "
            "Mexico, når jeg er tilbage.",
        ),
        (
            "RE: Security Chatter",
            "Thanks for your email. I'm travelling until Friday. My colleague Jane will join your "
            "briefing on the 20th instead of me; her address is jane@client.example.",
        ),
        (
            "RE: Security Chatter",
            "Buenos días, estaré de vacaciones hasta el 14. A mi regreso me gustaría agendar una "
            "llamada con usted sobre Jalisco.",
        ),
        # the absence said, and no responder's line beside it
        (
            "Re: Security Chatter",
            "Fausto, I'll be away next week, so here are my thoughts on the Jalisco item now: "
            "the governor's plan leaves the ports out.",
        ),
        (
            "RE: Security Chatter",
            "Jestem na urlopie do 22 kwietnia, ale chętnie porozmawiam o raporcie po powrocie. "
            "Zadzwonię w przyszłym tygodniu w sprawie Jalisco i Pemexu.",
        ),
    ],
)
def test_a_readers_message_that_mentions_their_absence_reaches_the_partner(
    subject: str, body: str
) -> None:
    assert of(subject, body) == InboundKind.INQUIRY


SAMPLES = Path(__file__).parent.parent / "data" / "inbound"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("inquiry-display-name-postmaster.eml", InboundKind.INQUIRY),
        ("auto-reply-abwesend-de-noheaders.eml", InboundKind.AUTO_REPLY),
        ("auto-reply-semester-sv-noheaders.eml", InboundKind.AUTO_REPLY),
        ("auto-reply-ar-noheaders.eml", InboundKind.AUTO_REPLY),
        ("auto-reply-jadong-ko-euckr-unlabelled.eml", InboundKind.AUTO_REPLY),
        ("auto-reply-outlook-html-signature-de.eml", InboundKind.AUTO_REPLY),
        ("inquiry-own-absence-de.eml", InboundKind.INQUIRY),
        ("unsubscribe-da-meld-mig-af.eml", InboundKind.UNSUBSCRIBE),
    ],
)
def test_a_labelled_sample_of_reader_mail_is_judged_as_labelled(
    name: str, kind: InboundKind
) -> None:
    """tests/data/inbound (its README gives each one's outcome), as saved: the envelope sender
    from its Return-Path."""
    raw = (SAMPLES / name).read_bytes().replace(b"TOKEN", b"2-7i2yu7zqadredljl")
    raw = raw.replace(b"@localhost", f"@{DOMAIN}".encode())
    got = judge(raw, mail_from=None, rcpt_to=REPLY, domain=DOMAIN)
    assert got.kind == kind, got.reason
