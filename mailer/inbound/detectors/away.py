"""What an out-of-office responder says, in the readers' languages: the labels it puts before
the subject it answers, and the notice it sends (its owner is away, and the usual lines around
that: thanks for your message, limited access to mail, whom to ask if it is urgent, a reply on
return).

Many responders send no auto-reply header at all: an Outlook client rule ("reply using a
template"), a phone's vacation setting, a gateway that strips headers. Their message answers
the newsletter's subject with "AW:" or "SV:" and says, in German, "Vielen Dank für Ihre
Nachricht. Ich bin bis zum 22.04. nicht im Büro…". `notice_alone` knows such a message by its
words alone: that its owner is away (`ABSENT`) and one of a responder's other lines (`SIGN`).
A reader's own message says what they want instead (rfc3834.py refuses any that asks).

Everything here is matched on text written as `message.fold` writes it (lower case, accents
and marks dropped, punctuation kept): Latin-script words are written so by hand ("buro",
"franvaro", "dısında"), other scripts through `folded` ("不在" stays, "ご" reads "こ", Korean
syllables are split into letters).
"""

from __future__ import annotations

import re

from mailer.inbound.detectors import signature
from mailer.inbound.detectors.optout_languages import CLOSING, POLITE, POLITE_TO_NAME
from mailer.inbound.message import fold, normalise


def folded(*words: str) -> str:
    """`words` as regex alternatives, written as `fold` writes the text they are matched on."""
    return "|".join(re.escape(fold(w)) for w in words)


# Labels that say the answer is automatic, only a responder's in that place (Outlook's own
# "Automatic reply:" in the readers' languages, and the usual vacation subjects).
AUTO_WORDS = (
    "Automatisch antwoord",
    "Afwezigheidsmelding",
    "Automatiskt svar",
    "Frånvaromeddelande",
    "Automatisk svar",
    "Autosvar",
    "Fraværsmelding",
    "Fraværsbesked",
    "Automaattinen vastaus",
    "Poissaoloilmoitus",
    "Odpowiedź automatyczna",
    "Automatyczna odpowiedź",
    "Autoodpowiedź",
    "Automatická odpověď",
    "Automatická odpoveď",
    "Automatikus válasz",
    "Otomatik yanıt",
    "Otomatik cevap",
    "Abwesenheitsmeldung",
    "Abwesenheitsnachricht",
    "Risposta automatica",
    "Contestación automática",
    "Message d'absence",
    "Автоматический ответ",
    "Автоответ",
    "自動応答",
    "自動返信",
    "自動送信",
    "不在通知",
    "自动回复",
    "自動回覆",
    "自動回復",
    "自动答复",
    "自动应答",
    "자동 회신",
    "자동회신",
    "자동 응답",
    "자동응답",
    "부재중 자동응답",
    "부재 알림",
    "Αυτόματη απάντηση",
    "תשובה אוטומטית",
    "מענה אוטומטי",
    "הודעת היעדרות",
    "رد تلقائي",
    "الرد التلقائي",
    "رد آلي",
    "Balasan otomatis",
    "Trả lời tự động",
    "Răspuns automat",
    "Automatski odgovor",
    "Samodejni odgovor",
    "Автоматична відповідь",
    "Автовідповідь",
    "Автоматичен отговор",
    "Automātiskā atbilde",
    "Automatinis atsakymas",
    "Automaatne vastus",
    "ตอบกลับอัตโนมัติ",
)

# Words that also begin people's own subjects: a label only in a label's place and over a
# responder's notice (rfc3834.py). English, Spanish, French, German, Italian, Portuguese, Dutch
# by hand; the others folded.
AWAY_WORDS = (
    r"out of (?:the )?office|away from (?:the )?office|fuera de (?:la )?oficina|abwesenheit|"
    r"abwesend|fuori ufficio|absence|absente?|ausencia|ausente|de vacaciones|on vacation|"
    r"(?:absence|absente?|hors) du bureau|assente dall'?ufficio|"
    r"on holiday|on leave|i am away|i'm away|estoy de vacaciones|ooo|afwezig|"
    r"nicht im buro|(?:im )?urlaub|au(?:ss|ß)er haus|in ferie|fora do escritorio|de ferias|"
    r"met vakantie|buiten kantoor|"
    r"franvaro|franvarande|ej pa kontoret|inte pa kontoret|pa semester|"
    r"frav(?:æ|ae)r(?:ende)?|pa ferie|ikke til stede|ikke pa kontoret|ute av kontoret|"
    r"poissa(?: toimistolta)?|poissaolo|lomalla|"
    r"mimo kancelar|nepritomnost|nepritomn[ya]|dovolena|mimo kancelarie|"
    r"hazon kivul|irodan kivul|szabadsagon|na urlopie|urlop|"
    + folded(
        "ofis dışında",
        "izinde",
        "izindeyim",
        "tatilde",
        "nieobecność",
        "nieobecny",
        "nieobecna",
        "poza biurem",
        "отсутствие",
        "отсутствую",
        "в отпуске",
        "вне офиса",
        "εκτός γραφείου",
        "外出",
        "休假",
        "休假中",
        "出差",
        "不在办公室",
        "不在辦公室",
        "不在のお知らせ",
        "不在のご連絡",
        "不在連絡",
        "休暇のお知らせ",
        "不在",
        "休暇",
        "出張",
        "부재중",
        "부재 중",
        "휴가",
        "휴가 중",
        "외근",
        "출장",
        "خارج المكتب",
        "غائب",
        "في إجازة",
        "إجازة",
        "מחוץ למשרד",
        "לא במשרד",
        "בחופשה",
        "חופשה",
    )
)

# "Until" and its kin, after a label: "Abwesend bis 22.4.", "Frånvaro t.o.m. 2/5".
UNTIL_WORDS = (
    r"hasta|until|till|through|jusqu|bis|fino|ate|tot|do|до|til|indtil|frem|fram|t\.?o\.?m\.?|"
    r"t/m|asti|saakka|ab|vom|" + folded("حتى", "עד")
)

# The owner is away: a statement of absence, with or without its dates. Between its words, any
# but a sentence's end; a date's dots ("bis zum 22.04. nicht im Büro") do not end one.
_GAP = r"(?:[^.?!\n]|(?<=\d)\.)"
_ABSENT_LATIN = (
    # English
    rf"\b(?:am|be|i'm) (?:currently )?(?:out of (?:the )?office|out|away|on (?:annual |parental )?"
    rf"(?:leave|vacation|holiday)|travell?ing|absent)\b{_GAP}{{0,40}}\b(?:until|till|through|"
    r"returning|and will)\b|"
    r"\b(?:i am|i'm|i will be|i'll be|i shall be) (?:currently )?(?:out of (?:the )?office|"
    r"on (?:annual |parental |sick |maternity |paternity |study )?(?:leave|vacation|holiday)|"
    r"away from (?:the|my) (?:office|desk)|on a business trip|(?:away )?on business(?: travel)?|"
    r"on sick leave)\b|"
    r"\b(?:i will|i'll|i shall) (?:be )?(?:back|return|returning) (?:on|in the office|to the "
    r"office)\b|"
    # Spanish, French
    r"\b(?:estoy|me encuentro|estare|estaremos) (?:fuera|ausente|de vacaciones|de viaje|"
    r"de permiso|de baja)\b|\b(?:regresare|volvere|estare de regreso|me reincorporo)\b|"
    r"\bje (?:suis|serai) (?:actuellement |en ce moment )?(?:absente?|en conges?|en deplacement|"
    r"en vacances|hors du bureau)\b|"
    r"\bje serai de retour\b|"
    # German
    rf"\b(?:ich bin|bin ich|ich befinde mich)\b{_GAP}{{0,60}}"
    r"\b(?:nicht im (?:buro|hause|haus|office)|abwesend|"
    r"im urlaub|au(?:ss|ß)er haus|nicht erreichbar|auf (?:geschafts|dienst)reise|in "
    r"elternzeit)|\bbin ich (?:wieder )?(?:erreichbar|im buro|zuruck)\b|"
    r"\bwieder (?:im buro|erreichbar|zuruck)\b|"
    # Italian, Portuguese
    r"\b(?:sono|saro) (?:fuori ufficio|assente|in ferie|in vacanza|fuori sede|in trasferta)\b|"
    r"\brientrero\b|"
    r"\b(?:estou|estarei) (?:fora do escritorio|ausente|de ferias|de licenca|em viagem|fora)\b|"
    # Dutch
    r"\bik ben (?:afwezig|niet (?:op kantoor|aanwezig|bereikbaar)|met vakantie)\b|"
    r"\b(?:tot en met|t/m|tot) [^.?!\n]{0,30}\b(?:afwezig|niet op kantoor)\b|"
    r"\bben ik (?:weer )?(?:bereikbaar|op kantoor|aanwezig|terug)\b|"
    # Polish
    r"\b(?:jestem|bede|przebywam|bede przebywac) (?:na urlopie|poza biurem|nieobecn[ya]|"
    r"w delegacji|na zwolnieniu)\b|"
    # Swedish, Danish, Norwegian
    r"\bjag har semester\b|\bjeg (?:har|holder) (?:ferie|fri|permisjon)\b|"
    r"\bjag (?:ar|kommer att vara) (?:pa semester|ledig|franvarande|inte pa kontoret|"
    r"ej pa kontoret|borta|tjanstledig|foraldraledig|pa tjansteresa)\b|"
    r"\b(?:ar|kommer) (?:tillbaka|tillbaks) (?:den|pa|igen|i tjanst|pa kontoret)\b|"
    r"\bjeg er (?:pa ferie|frav(?:æ|ae)rende|ikke pa kontoret|ude af huset|pa barsel|"
    r"pa kursus|pa forretningsrejse|borte|ute av kontoret|pa reise|i permisjon|"
    r"pa tjenestereise)\b|\b(?:er )?(?:tilbage|tilbake) (?:igen|igjen|den|pa kontoret)\b|"
    # Finnish
    r"\bolen (?:lomalla|poissa|matkoilla|vuosilomalla|tavoittamattomissa|koulutuksessa|"
    r"sairauslomalla|virkavapaalla)\b|\bpalaan (?:toihin|toimistolle|takaisin)\b|"
    # Czech, Slovak, Hungarian, Romanian
    r"\b(?:jsem|budu) (?:mimo kancelar|na dovolene|nepritomn[ya]|nepritomen|na sluzebni "
    r"ceste)\b|\bvratim se\b|\bcerpam dovolenou\b|"
    r"\bsom (?:mimo kancelarie|na dovolenke|nepritomn[ya])\b|"
    r"\b(?:szabadsagon|hazon kivul|irodan kivul) (?:vagyok|leszek)\b|"
    r"\bnem vagyok az irodaban\b|\bsunt (?:in concediu|plecat|plecata)\b"
)
_ZH_AWAY = rf"(?:{folded('我', '本人')})[^\u3002\n]{{0,15}}(?:{folded('休假', '出差', '不在')})"
ABSENT = re.compile(
    _ABSENT_LATIN
    + f"|{_ZH_AWAY}|"
    + folded(
        # Turkish
        "ofis dışındayım",
        "ofis dışında olacağım",
        "izindeyim",
        "tatildeyim",
        "ofiste olmayacağım",
        "ofiste değilim",
        "şehir dışındayım",
        # Russian, Ukrainian, Greek
        "я в отпуске",
        "нахожусь в отпуске",
        "я отсутствую",
        "нахожусь вне офиса",
        "я в командировке",
        "я у відпустці",
        "είμαι εκτός γραφείου",
        "θα είμαι εκτός γραφείου",
        "είμαι σε άδεια",
        "βρίσκομαι σε άδεια",
        # Japanese
        "不在にしております",
        "不在にしています",
        "不在となります",
        "不在となっております",
        "休暇をいただいております",
        "休暇を頂いております",
        "休暇を取得しております",
        "お休みをいただいております",
        "出張のため",
        "休暇のため",
        "休暇中",
        "出張中",
        "不在中",
        # Chinese
        "目前不在办公室",
        "目前不在辦公室",
        "不在办公室",
        "不在辦公室",
        "正在休假",
        "休假中",
        "出差中",
        "正在出差",
        # Korean
        "휴가 중입니다",
        "휴가중입니다",
        "휴가 중이라",
        "휴가중이라",
        "부재중입니다",
        "부재 중입니다",
        "출장 중입니다",
        "출장중입니다",
        "자리를 비웁니다",
        "사무실에 없습니다",
        "외근 중입니다",
        "휴가 중으로",
        "휴가 중이며",
        "출장 중으로",
        "부재 중으로",
        # Arabic
        "أنا خارج المكتب",
        "خارج المكتب حتى",
        "سأكون خارج المكتب",
        "أنا في إجازة",
        "في إجازة حتى",
        "سأعود",
        # Hebrew
        "אני מחוץ למשרד",
        "אני נמצא מחוץ למשרד",
        "אני נמצאת מחוץ למשרד",
        "אהיה מחוץ למשרד",
        "אני בחופשה",
        "אני לא במשרד",
        "בחופשה עד",
        "אחזור",
        "אשוב",
    )
)
# A Japanese responder's return: "4月15日以降に順次確認いたします".
_JA_RETURN = (
    rf"\d+月\d+日[^。\n]{{0,12}}(?:{folded('以降', 'より')})"
    rf"[^。\n]{{0,12}}(?:{folded('確認', '返信', '対応', '出社')})"
)
# The other lines of a responder's notice: thanks for the message, limited access, urgent
# matters, a reply on return, the absence itself named as a period.
_SIGN_LATIN = (
    # English
    r"\bthanks? (?:you )?(?:(?:very|so) much )?for your (?:e-?mail|message)\b|"
    r"\b(?:upon|on|after) my return\b|\bwhen i (?:return|am back|get back)\b|"
    r"\b(?:i will|i'll|i shall) (?:be )?(?:back|return|returning)\b|"
    r"\b(?:will not|won't) (?:be )?(?:back|return)\b|\bback (?:on|in the office)\b|"
    r"\b(?:limited|no|without|intermittent|sporadic|restricted) access to (?:my )?e-?mails?\b|"
    r"\bwill not be (?:checking|reading|monitoring) (?:my )?e-?mails?\b|"
    r"\be-?mails? will not be (?:monitored|read|checked|forwarded)\b|"
    r"\b(?:you (?:can|may)|du kan|ni kan|sie konnen|vous pouvez|puede|pode|potete|u kunt) "
    r"(?:i stedet |i stallet |instead |alternatively )?(?:skrive til|write to|contact|email|"
    r"kontakte|kontakta|reach|erreichen|contacter|escribir a|contactar|contatar|contattare)\b|"
    r"\b(?:for|if|in) (?:anything|something|matters?|cases?|issues?|questions?) "
    r"(?:that (?:is|are) )?urgent\b|"
    r"\bplease direct (?:all |any )?"
    r"(?:enquiries|inquiries|queries|requests)\b|\b(?:in the meantime|meanwhile)\b|"
    r"\bfor urgent (?:matters|issues|"
    r"requests|enquiries|inquiries|questions)\b|\bif (?:this|it|your (?:message|matter)) is "
    r"urgent\b|\bin (?:case of )?(?:an )?(?:urgent cases?|urgency|emergency)\b|"
    r"\b(?:in|during) my absence\b|\bwhile i am (?:away|out)\b|"
    r"\byour (?:e-?mail|message) (?:will not|won't) be (?:forwarded|read)\b|"
    # Spanish, French
    r"\b(?:gracias|muchas gracias) por su (?:correo|mensaje|e-?mail)\b|"
    r"\ba mi (?:regreso|vuelta)\b|\bacceso limitado\b|\b(?:para )?asuntos urgentes\b|"
    r"\ben caso de urgencia\b|\bdurante mi ausencia\b|\bpara cualquier (?:consulta|duda|asunto)\b|"
    r"\bno sera (?:reenviado|leido)\b|\bmientras tanto\b|\bcuando regrese\b|"
    r"\bne sera (?:pas )?(?:transfere|lu)\b|\bdes mon retour\b|\bentre-temps\b|\ben attendant\b|"
    r"\bmerci (?:pour|de) votre (?:message|e-?mail|courriel)\b|\ba mon retour\b|"
    r"\bacces limite\b|\b(?:pour toute|en cas d') ?urgence\b|"
    r"\b(?:pendant|durant|en) mon absence\b|"
    # German
    r"\b(?:vielen )?danke? fur ihre (?:nachricht|e-?mail|mail)\b|\bnach meiner ruckkehr\b|"
    r"\bin dringenden fallen\b|\bkeinen zugriff auf\b|\beingeschrankte?[mn]? zugriff\b|"
    r"\bwahrend meiner abwesenheit\b|\b(?:wird|werden)\b[^.\n]{0,30}\b(?:nicht|weder)\b"
    r"[^.\n]{0,40}\b(?:weitergeleitet|gelesen)\b|\bin der zwischenzeit\b|"
    r"\bwieder (?:fur sie )?(?:da|im (?:buro|haus|hause))\b|"
    r"\bwenden sie sich (?:bitte )?an\b|"
    # Italian, Portuguese
    r"\bgrazie per (?:il suo|la sua|il vostro|la vostra|il tuo|la tua) (?:messaggio|e-?mail|"
    r"mail)\b|\bal mio rientro\b|\bper (?:urgenze|questioni urgenti|comunicazioni urgenti)\b|"
    r"\bin caso di urgenza\b|\baccesso limitato\b|\bdurante la mia assenza\b|"
    r"\bobrigad[oa] (?:pela sua|por sua|pel[oa] (?:sua |seu )?)(?:mensagem|e-?mail|contato)\b|"
    r"\b(?:ao|no) meu retorno\b|\bem caso de urgencia\b|\bassuntos urgentes\b|"
    r"\bdurante a minha ausencia\b|\b(?:assim que|quando) (?:eu )?(?:retornar|voltar)\b|"
    r"\bnao sera encaminhad[ao]\b|\bnon sara inoltrat[ao]\b|"
    # Dutch, Polish
    r"\b(?:bedankt|dank u|dank je) (?:wel )?voor (?:uw|je) (?:bericht|e-?mail|mail)\b|"
    r"\bvoor dringende zaken\b|\bin dringende gevallen\b|\bna mijn terugkeer\b|"
    r"\btijdens mijn afwezigheid\b|\bbeperkte? toegang\b|\bwordt niet (?:doorgestuurd|gelezen)\b|"
    r"\b(?:in de tussentijd|ondertussen)\b|\bna mijn (?:terugkeer|terugkomst)\b|"
    r"\bdziekuje za (?:wiadomosc|e-?mail|maila)\b|\bw pilnych sprawach\b|\bpo powrocie\b|"
    r"\bpodczas mojej nieobecnosci\b|\bograniczony dostep\b|"
    # Swedish, Danish, Norwegian
    r"\btack for (?:ditt|ert|er|din) (?:mejl|mail|e-?post|e-?mail|meddelande)\b|"
    r"\bbegransad tillgang\b|\b(?:i|vid|for) (?:bradskande|akuta) (?:arenden|fragor|fall)\b|"
    r"\bnar jag (?:ar|kommer) tillbaka\b|\bunder min franvaro\b|\bunder tiden\b|"
    r"\bi mell(?:o|e)m(?:tiden)\b|\b(?:har|med) (?:inte|ingen|begransad) tillgang till\b|"
    r"\bbradskande (?:arenden|fragor)\b|\b(?:vidarebefordras|videresendes) (?:inte|ikke)\b|"
    r"\b(?:leser|laser|læser|laeser) (?:inte|ikke) (?:min |mine )?"
    r"(?:e-?post|e-?mails?|mails?|mejl)\b|"
    r"\btak for (?:din|jeres) (?:mail|e-?mail|besked|henvendelse)\b|"
    r"\bbegr(?:æ|ae)nset adgang\b|\b(?:i|ved) (?:hastende|akutte|presserende) (?:sager|"
    r"tilf(?:æ|ae)lde|henvendelser)\b|\bunder mit frav(?:æ|ae)r\b|\bnar jeg er tilbage\b|"
    r"\btakk for (?:din (?:e-?post|epost|melding|henvendelse|mail)|e-?posten|eposten|"
    r"meldingen|henvendelsen|mailen)\b|\bbegrenset tilgang\b|\bhvis det haster\b|"
    r"\b(?:i|ved) hastesaker\b|\bunder mitt frav(?:æ|ae)r\b|\bnar jeg er tilbake\b|"
    # Finnish
    r"\bkiitos (?:viestistasi|sahkopostistasi|yhteydenotostasi|viestista)\b|"
    r"\b(?:kiireellisissa|kiireisissa) (?:asioissa|tapauksissa)\b|\bpalattuani\b|"
    r"\brajoitetusti\b|\bpoissaoloni aikana\b|"
    # Whom to ask meanwhile, in the readers' languages: "please contact my colleague…",
    # "kontaktieren Sie bitte Frau Weber", "kontakta min kollega", "ota yhteyttä"
    r"\b(?:please )?(?:contact|reach out to|get in touch with|write to) (?:my (?:colleague|team|"
    r"assistant|office|deputy)|[\w.+-]+@)|\bkontaktieren sie (?:bitte )?(?:meine|meinen|unser|"
    r"frau|herrn|[\w.+-]+@)|\bbei dringenden (?:angelegenheiten|anliegen|fragen)\b|"
    r"\bsi (?:su|el) asunto es urgente\b|\bno tendre acceso\b|\bsin acceso al correo\b|"
    r"\b(?:contacte|comuniquese) (?:a|con)\b|\bcontacter (?:ma|mon|notre) collegue\b|"
    r"\bpour toute (?:demande|question|affaire) urgente\b|\brivolger(?:si|vi) a\b|"
    r"\bentre em contato com\b|\bneem (?:dan )?contact op met\b|\bcontact opnemen met\b|"
    r"\bkontakta (?:min|mina|var|vaxeln)\b|\blaser inte (?:min )?(?:e-?post|mejl|mail)\b|"
    r"\bkan rettes til\b|\bkontakt (?:venligst )?(?:min|vores|var)\b|\bota yhteytta\b|"
    r"\bolla yhteydessa\b|\ben lue sahkopostiani\b|\bw sprawach pilnych\b|"
    r"\bprosze (?:o )?kontakt\b|\bobratte na\b|\bnebudu mit pristup\b|"
    # Czech, Slovak, Hungarian, Romanian
    r"\bdekuji za (?:vas |vasi |tvuj |tvou )?(?:e-?mail|zpravu)\b|"
    r"\bv nalehavych (?:pripadech|zalezitostech)\b|\bomezen(?:y|ym) pristup\b|"
    r"\bpo (?:mem |svem )?navratu\b|\bbehem me nepritomnosti\b|"
    r"\bdakujem za (?:vas |vasu )?(?:e-?mail|spravu)\b|\bv naliehavych pripadoch\b|"
    r"\bkoszonom (?:a )?(?:levelet|uzenetet|megkereseset)\b|\bsurgos (?:esetben|ugyekben)\b|"
    r"\bva multumesc pentru mesaj\b|\bpentru urgente\b"
)
SIGN = re.compile(
    rf"{_JA_RETURN}|{_SIGN_LATIN}|"
    + folded(
        # Turkish
        "mesajınız için teşekkür",
        "e-postanız için teşekkür",
        "e-postanız için teşekkürler",
        "acil durumlarda",
        "acil konularda",
        "acil işleriniz",
        "döndüğümde",
        "dönüşümde",
        "sınırlı erişim",
        "ulaşabilirsiniz",
        # Russian, Ukrainian, Greek
        "спасибо за письмо",
        "спасибо за ваше письмо",
        "спасибо за сообщение",
        "по срочным вопросам",
        "после возвращения",
        "после моего возвращения",
        "дякую за лист",
        "з термінових питань",
        "ευχαριστώ για το μήνυμά σας",
        "ευχαριστούμε για το μήνυμά σας",
        "για επείγοντα",
        "για επείγουσες",
        # Japanese
        "戻り次第",
        "帰社後",
        "急ぎのご用件",
        "お急ぎの場合",
        "お急ぎのご用件",
        "メールありがとうございます",
        "ご連絡ありがとうございます",
        "ご不便をおかけ",
        # Chinese
        "谢谢您的邮件",
        "谢谢您的来信",
        "感谢您的来信",
        "感谢您的邮件",
        "謝謝您的郵件",
        "謝謝您的來信",
        "感謝您的來信",
        "感謝您的郵件",
        "如有急事",
        "如有紧急事务",
        "如有緊急事務",
        "回来后",
        "返回后",
        "回來後",
        "不便回复",
        "不便回覆",
        "敬请谅解",
        "敬請諒解",
        # Korean
        "메일 감사합니다",
        "메일 주셔서 감사합니다",
        "연락 주셔서 감사합니다",
        "급한 용무",
        "급한 용건",
        "급한 일",
        "긴급한",
        "복귀 후",
        "돌아와서",
        "메일 확인이 어렵",
        "확인이 늦어",
        # Arabic
        "شكرا لرسالتك",
        "شكرا على رسالتك",
        "شكرا لتواصلك",
        "شكرا على بريدك",
        "للأمور العاجلة",
        "في الحالات العاجلة",
        "للحالات الطارئة",
        "في حالة الطوارئ",
        "وصول محدود",
        "عند عودتي",
        "بعد عودتي",
        # Hebrew
        "תודה על פנייתך",
        "תודה על הודעתך",
        "תודה על המייל",
        "תודה על פנייתכם",
        "בנושאים דחופים",
        "במקרים דחופים",
        "לעניינים דחופים",
        "במקרה דחוף",
        "ללא גישה",
        "גישה מוגבלת",
        "עם חזרתי",
        "כשאחזור",
        "אחזור אליך",
        "אחזור אליכם",
        "עם שובי",
    )
)
# Either one: what a label that people also write needs beneath it.
NOTICE = re.compile(f"{ABSENT.pattern}|{SIGN.pattern}")
# Words for "urgent": the one question responders ask ("Need something urgent? Call …").
URGENT_WORDS = (
    r"urgent|urgente|urgencia|urgence|dringend|urgenza|spoed|bradskande|akut|haster|hastende|"
    r"kiire|nalehav|naliehav|pilne|surgos|"
    + folded("acil", "срочн", "긴급", "급한", "至急", "急ぎ", "紧急", "緊急", "عاجل", "דחוף")
)
# Where the owner's absence must be said: a responder says it first.
_ABSENT_WITHIN = 700
# A reader asking the partner for something beside their absence ("I'm away until Monday, but
# please send the report to my assistant"; "skicka gärna rapporten"): a responder asks only
# that one contact someone else, which none of these say.
_PERSONS_REQUEST = re.compile(
    r"\b(?:send me|could you|can you|would you|i'd like|i would like|let's|"
    r"happy to (?:talk|discuss|meet|chat)|please send (?:me|the|us)|but please)\b|"
    r"\b(?:konnten sie mir|konnen sie mir|schicken sie mir|senden sie mir|wurden sie mir|"
    r"lassen sie uns)\b|\b(?:pourriez-vous m|pouvez-vous m|envoyez-moi)|"
    r"\b(?:podrias? enviar|me podrias?|envieme|mandeme|poderia me|pode me enviar|envie-me|"
    r"potrebbe inviarmi|mi potrebbe|mi invii|kunt u mij|zou u mij|stuur me)\b|"
    r"\b(?:skicka garna|skicka mig|kan du skicka|send (?:mig|meg) gerne|kan du sende|"
    r"porozmawiam|zadzwonie|czy moze pan|czy moglby|prosze przeslac|voisitteko|voisitko|"
    r"lahettakaa)\b|"
    # "I'd like…", in the readers' words: a wish, which no notice has
    r"\b(?:jeg vil (?:gerne|gjerne)|ich (?:hatte|mochte) gerne?|me gustaria|quisiera|"
    r"j'aimerais|je voudrais|vorrei|gostaria|ik wil graag|jag vill garna|haluaisin)\b"
)


# Where a notice's sentences end, and where a person's sentence turns from their absence to
# what they want ("I'm away until the 15th, but please…", "…, pero le confirmo…", "men vill
# gärna…", "so forward the deck…"): each piece must be a notice's own. A date's dots end none.
_PIECE_END = re.compile(
    r"(?<!\d)[.!?;]+(?=\s|$)|[\n\u3002\uff01\uff1f]+|\s/\s|,?\s+\b(?:but|pero|mais|men|aber|ma|mas|maar|ale|"
    r"mutta|ama|so|danach|luego|ensuite|dann|then)\b",
    re.I,
)
_PHONE = re.compile(r"\d[\d ()+/.-]{6,}\d")


# A closing in English or Spanish (the other languages': optout_languages.CLOSING): after it
# comes the signature.
_CLOSING = re.compile(
    r"^(?:(?:kind|best|warm|warmest) )?regards\b|^(?:best|cheers|thanks|thank you|many thanks|"
    r"sincerely|yours sincerely|saludos|un saludo|atentamente|cordialmente|"
    r"reciba un (?:cordial )?saludo|(?:reciba|le envio) (?:un )?(?:cordial(?:es)? )?saludos?)\b"
)


def _notice_lines(text: str) -> str:
    """`text` without what a mail server or client adds under anyone's words (a disclaimer, a
    signature block, whatever follows a closing: signature.py), which is no notice's and no
    reader's either."""
    lines = [line.strip() for line in text.splitlines()]
    lines = signature.without_marked_signature(signature.without_disclaimer(lines))

    def said(line: str) -> bool:
        words = fold(line)
        return bool(ABSENT.search(words) or SIGN.search(words))

    kept = signature.without_signature(lines, said)
    for i, line in enumerate(kept):
        plain = normalise(line)
        if len(plain.split()) <= 4 and (_CLOSING.match(plain) or CLOSING.match(plain)):
            return "\n".join(kept[:i])
    return "\n".join(kept)


def _unexplained(text: str) -> str | None:
    """The first piece of `text` (a message's own words, its lines kept) of four words or more
    that no notice would write: neither the absence, a responder's line, a contact (an address,
    a phone number) nor a greeting or closing (`optout_languages.POLITE`). A responder's notice
    has none; a reader who mentions their absence goes on to say what they want."""
    for line in _PIECE_END.split(_notice_lines(text)):
        piece = fold(line).strip(" ,:-\u2013\u2014")
        if len(piece.split()) < 4 or "@" in piece or _PHONE.search(piece):
            continue
        plain = normalise(piece)
        if ABSENT.search(piece) or SIGN.search(piece) or POLITE_TO_NAME.match(plain):
            continue
        if POLITE.match(plain):
            continue
        return piece
    return None


def notice_alone(text: str) -> str | None:
    """The phrase saying the owner is away, when `text` (a message's own words) reads as an
    out-of-office notice: the absence said in its first lines and another of a responder's
    lines ("Ich bin bis 22.04. nicht im Büro" and "In dringenden Fällen…"). None otherwise:
    "I'll be away next week, so here are my thoughts now" says one thing, not a notice's two;
    "I'm away until Monday, but please send the report" asks the partner something."""
    words = fold(text)
    absent = ABSENT.search(words[:_ABSENT_WITHIN])
    if absent is None or _PERSONS_REQUEST.search(words) or _unexplained(text):
        return None
    rest = words[: absent.start()] + " \n " + words[absent.end() :]
    return absent.group(0) if SIGN.search(rest) else None
