"""Opt-out requests and politeness in French, German, Portuguese, Italian, Dutch, Polish,
Swedish, Danish and Norwegian.

The firm's readers are international: "Merci de me désabonner de cette liste", "Bitte melden Sie
mich von diesem Newsletter ab", "Por favor, me descadastre", "Vi prego di cancellarmi dalla
lista", "Graag afmelden", "Proszę o wypisanie mnie z listy", "Avregistrera mig från
nyhetsbrevet". Each language has the same three parts as the English and Spanish rule
in optout.py: polite openers ("merci de", "bitte", "por favor", "vi prego di", "graag"), the
request itself for the reader *themselves* ("me désabonner", "mich abmelden", "remova-me",
"cancellatemi", "schrijf mij uit"), optionally from *this mailing* ("de cette liste", "vom
Newsletter", "desta lista", "dalla newsletter", "van deze nieuwsbrief"), and a polite tail
("svp", "danke", "obrigado", "grazie", "graag"). A verb with anyone or anything else as its object
("désabonner ma collègue", "Herrn Müller abmelden") matches nothing: the sentence is the
partner's to read.

Matched on `normalise`d text: lower case, accents removed, punctuation as spaces ("désabonnez-moi"
is "desabonnez moi", "l'iscrizione" is "l iscrizione", "möchte" is "mochte").
"""

from __future__ import annotations

import re

# French ------------------------------------------------------------------------------------------
_FR_THIS = (
    r"(?:cette|ce|cet|ces|votre|vos|ta|tes|la|le|les|l|mon|ma|mes"
    r"|toutes (?:vos|les|ces)|tous (?:vos|les|ces))"
)
_FR_MAILING = (
    r"(?:liste(?: de (?:diffusion|distribution|mailing|contacts?|envoi))?|mailing(?: list)?|"
    r"newsletters?|lettres? d (?:information|info)s?|bulletins?|e ?mails?|emails|courriels?|"
    r"mails?|messages|envois|communications|abonnement|inscription|briefings?|security chatter)"
)
_FR_TARGET = (
    rf"(?:(?:de|d|a)\s+{_FR_THIS}\s+(?:\w+\s+)?{_FR_MAILING}"
    rf"|(?:du|des|au|aux)\s+(?:\w+\s+)?{_FR_MAILING}"
    rf"|{_FR_THIS}\s+(?:\w+\s+)?{_FR_MAILING})"
)
_FR_POLITE = (
    r"(?:(?:bonjour|bonsoir|merci|oui|ok|svp|stp)\s+)?"
    r"(?:(?:merci de(?: bien vouloir)?|merci d|veuillez|je vous prie de|je vous remercie de|"
    r"pourriez vous|pouvez vous|pourrais tu|peux tu|je souhaite|je souhaiterais|je voudrais|"
    r"je veux|j aimerais|je desire|nous souhaitons|nous voudrions|priere de|s il vous plait|"
    r"s il te plait|svp|stp|bien vouloir|juste)\s+)*"
)
_FR_VERBS = (
    r"(?:(?:me|m|nous|se)\s+)?(?:desabonner|desinscrire)"
    r"|(?:me|m|nous)\s+(?:retirer|supprimer|enlever|radier|rayer|effacer|sortir)"
    r"|(?:desabonnez|desinscrivez|retirez|supprimez|enlevez|radiez|rayez|sortez|desabonne|"
    r"desinscris|retire|supprime|enleve)\s+(?:moi|nous)"
    r"|(?:je|nous)\s+(?:me|nous)\s+(?:desabonne|desinscris|desabonnons|desinscrivons)"
    r"|desabonnement|desinscription|stop"
    r"|annuler\s+(?:mon\s+)?(?:abonnement|inscription)"
    r"|(?:je|nous)\s+ne\s+(?:veux|souhaite|souhaitons|desire|desirons|voudrais|voulons|"
    r"souhaiterais)\s+plus\s+(?:recevoir|etre (?:abonnee?s?|inscrite?s?))"
    r"|ne\s+plus\s+(?:recevoir|(?:me|m|nous)\s+envoyer|etre (?:abonnee?s?|inscrite?s?))"
    r"|(?:arretez|cessez|arreter|cesser)\s+(?:de\s+|d\s+)?(?:m|me|nous)\s+envoyer"
    r"|(?:arretez|cessez|arreter|cesser|stoppez)\s+(?:les|ces|vos)\s+envois"
    r"|(?:ne\s+)?(?:m|me|nous)\s+envoyez\s+plus"
    r"|je\s+ne\s+me\s+suis\s+jamais\s+(?:inscrite?|abonnee?)"
    r"|je\s+n\s+ai\s+jamais\s+(?:demande|souscrit)"
)
_FR_TAIL = (
    r"(?:\s+(?:svp|stp|s il vous plait|merci|merci beaucoup|merci d avance|d avance|par avance|"
    r"immediatement|des maintenant|rapidement|definitivement))*"
)

# German ------------------------------------------------------------------------------------------
_DE_THIS = (
    r"(?:diesem|diesen|dieser|dieses|diese|dem|den|der|die|das|ihrem|ihren|ihrer|ihre|eurem|"
    r"euren|eurer|eure|deinem|deinen|deiner|allen|alle|weiteren|weitere|zukunftigen|kunftigen)"
)
_DE_MAILING = (
    r"(?:newsletter[ns]?|verteiler(?:liste)?|e ?mail verteiler|mailverteiler|mailing ?liste|"
    r"liste|e ?mails?|emails?|mails?|nachrichten|zusendungen|rundschreiben|rundmails?|"
    r"infobriefe?|briefings?|mailings?|aussendungen|abonnement|abo|updates|security chatter)"
)
_DE_FROM = rf"(?:(?:von|aus|vom|fur|bei)\s+(?:{_DE_THIS}\s+)?(?:\w+\s+)?{_DE_MAILING})"
_DE_OBJ = rf"(?:(?:{_DE_THIS}\s+)?(?:\w+\s+)?{_DE_MAILING})"
_DE_ME = r"(?:mich|uns)"
_DE_POLITE = (
    r"(?:(?:hallo|danke|ok|okay|ja|hi)\s+)?"
    r"(?:(?:bitte|ich mochte|ich will|ich wurde|wir mochten|wir wollen|ich bitte sie|"
    r"ich bitte um|wir bitten um|wir bitten sie|konnen sie|konnten sie|wurden sie|kannst du|"
    r"konntest du|wurdest du|hiermit|gerne|gern|ab sofort|sofort)\s+)*"
)
_DE_VERBS = (
    # "melden Sie mich (von diesem Newsletter) ab", "nehmen Sie mich aus dem Verteiler"
    r"(?:melden|melde|meldet|tragen|trage|tragt|nehmen|nimm|nehmt|streichen|streiche|loschen|"
    rf"losche|entfernen|entferne)(?:\s+(?:sie|du|ihr))?(?:\s+bitte)?\s+{_DE_ME}(?:\s+bitte)?"
    rf"(?:\s+{_DE_FROM})?(?:\s+(?:ab|aus|raus|heraus))?"
    rf"|ich\s+(?:melde|trage)\s+mich(?:\s+hiermit)?(?:\s+{_DE_FROM})?\s+(?:ab|aus)"
    rf"|(?:hiermit\s+)?(?:kundige|bestelle)\s+ich\s+{_DE_OBJ}(?:\s+ab)?"
    # "(mich) (vom Newsletter) abmelden", "den Newsletter abbestellen", "Abo kündigen"
    rf"|(?:{_DE_ME}\s+)?(?:(?:{_DE_FROM}|{_DE_OBJ})\s+)?(?:abmelden|austragen|abbestellen|kundigen)"
    rf"|(?:{_DE_ME}\s+(?:{_DE_FROM}\s+)?|{_DE_FROM}\s+)"
    r"(?:streichen|entfernen|loschen|herausnehmen|rausnehmen|nehmen)"
    r"|(?:newsletter\s+)?(?:abmeldung|abbestellung|austragung|kundigung)|stop|stopp"
    rf"|(?:{_DE_OBJ}\s+|(?:das|dies|diese|diesen|ihn|es)\s+)?nicht (?:mehr|langer)"
    r" (?:erhalten|bekommen|empfangen|zugeschickt bekommen|zugesandt bekommen)"
    rf"|keine\s+(?:weiteren\s+)?(?:\w+\s+)?{_DE_MAILING}(?:\s+mehr)?"
    r"(?:\s+(?:erhalten|bekommen|empfangen|zusenden|senden|schicken))?"
    r"|(?:senden|schicken|sende|schicke)(?:\s+(?:sie|du|ihr))?\s+(?:mir|uns)\s+(?:bitte\s+)?"
    rf"keine\s+(?:weiteren\s+)?(?:\w+\s+)?(?:{_DE_MAILING}\s+)?mehr"
    r"|ich habe (?:mich|das|dies|diesen newsletter) (?:nie|niemals) (?:dafur |hierfur |hierzu )?"
    r"(?:angemeldet|abonniert|bestellt|eingetragen)"
)
_DE_TAIL = r"(?:\s+(?:bitte|danke|danke schon|danke sehr|vielen dank|sofort|umgehend|ab sofort))*"

# Portuguese --------------------------------------------------------------------------------------
_PT_THIS = (
    r"(?:esta|este|estes|estas|essa|esse|esses|essas|a|o|os|as|sua|seu|suas|seus|vossa|vosso|"
    r"vossas|vossos|minha|meu|todas (?:as|essas|estas)|todos (?:os|esses|estes))"
)
_PT_MAILING = (
    r"(?:lista(?: de (?:e ?mails?|emails|correio|distribuicao|envio|contatos|contactos))?|"
    r"mailing(?: list)?|newsletters?|boletins|boletim|informativos?|e ?mails?|emails|mails?|"
    r"mensagens|comunicacoes|envios|inscricao|assinatura|subscricao|briefings?|security chatter)"
)
_PT_TARGET = (
    rf"(?:(?:de|em)\s+{_PT_THIS}\s+(?:\w+\s+)?{_PT_MAILING}"
    r"|(?:da|do|das|dos|desta|deste|destas|destes|dessa|desse|dessas|desses|na|no|nesta|neste|"
    rf"nessa|nesse)\s+(?:\w+\s+)?{_PT_MAILING}"
    rf"|{_PT_THIS}\s+(?:\w+\s+)?{_PT_MAILING})"
)
_PT_POLITE = (
    r"(?:(?:ola|oi|obrigado|obrigada|ok|sim|bom dia|boa tarde)\s+)?"
    r"(?:(?:por favor|por gentileza|favor|pf|pfv|quero|queria|gostaria de|gostaria|desejo|"
    r"solicito|peco que|peco|podem|poderiam|pode|poderia|voces podem|eu quero|eu queria|"
    r"eu gostaria de|eu desejo|preciso|gostaria que|solicito que|agradeco se)\s+)*"
)
_PT_REMOVE = (
    r"(?:remover|remova|removam|retirar|retire|retirem|tirar|tire|tirem|excluir|exclua|excluam|"
    r"apagar|apague|apaguem)"
)
_PT_VERBS = (
    r"(?:me\s+)?(?:descadastrar|descadastre|descadastrem|descadastra|desinscrever|desinscreva|"
    r"desinscrevam|cancelar (?:a\s+)?(?:minha\s+)?(?:inscricao|assinatura|subscricao))(?:\s+me)?"
    rf"|me\s+{_PT_REMOVE}|{_PT_REMOVE}\s+me"
    rf"|{_PT_REMOVE}\s+(?:o\s+)?meu\s+(?:e ?mail|email|endereco|contato|contacto|cadastro)"
    r"|ser\s+(?:removid[oa]|excluid[oa]|retirad[oa]|descadastrad[oa])"
    r"|(?:(?:o|a|meu|minha)\s+)?(?:descadastro|descadastramento|"
    r"cancelamento(?: d[ao] (?:minha |meu )?(?:inscricao|assinatura|subscricao))?)"
    r"|(?:eu\s+)?(?:ja\s+)?nao\s+(?:quero|desejo|pretendo|preciso)\s+(?:mais\s+)?"
    r"(?:receber|continuar a receber|continuar recebendo)(?:\s+mais)?"
    r"|deixar de receber|parem de (?:me\s+)?(?:enviar|mandar)|nao (?:me\s+)?(?:enviem|mandem) mais"
    r"|(?:eu\s+)?nunca me (?:inscrevi|cadastrei|registrei|registei|subscrevi)|stop"
)
_PT_TAIL = r"(?:\s+(?:por favor|obrigado|obrigada|obg|grato|grata|ja|imediatamente|urgente))*"

# Italian -----------------------------------------------------------------------------------------
_IT_THIS = (
    r"(?:questa|questo|queste|questi|la|il|lo|le|i|gli|l|vostra|vostro|vostre|vostri|sua|suo|"
    r"sue|tua|tuo|mia|mio|ulteriori|tutte (?:le|queste)|tutti (?:i|questi))"
)
_IT_MAILING = (
    r"(?:lista(?: di (?:distribuzione|posta|invio|contatti))?|mailing ?list|newsletter|"
    r"bollettin[oi]|notiziari?o?|e ?mails?|emails|mails?|messaggi|comunicazioni|invii|"
    r"iscrizione|abbonamento|briefings?|security chatter)"
)
_IT_TARGET = (
    rf"(?:(?:da|di|a)\s+{_IT_THIS}\s+(?:\w+\s+)?{_IT_MAILING}"
    r"|(?:dalla|dal|dai|dalle|dallo|dagli|dall|della|del|dei|delle|dello|alla|al|ai|alle|nella|"
    rf"nel)\s+(?:\w+\s+)?{_IT_MAILING}"
    rf"|{_IT_THIS}\s+(?:\w+\s+)?{_IT_MAILING})"
)
_IT_POLITE = (
    r"(?:(?:ciao|salve|buongiorno|grazie|ok|si)\s+)?"
    r"(?:(?:per favore|per piacere|per cortesia|vi prego di|la prego di|ti prego di|vi chiedo di|"
    r"le chiedo di|chiedo di|vorrei|voglio|desidero|potete|potreste|puoi|potresti|puo|potrebbe|"
    r"gentilmente|cortesemente|prego|vi preghiamo di|si prega di)\s+)*"
)
_IT_VERBS = (
    r"(?:cancellarmi|cancellatemi|cancellami|rimuovermi|rimuovetemi|rimuovimi|togliermi|"
    r"toglietemi|toglimi|eliminarmi|eliminatemi|eliminami|disiscrivermi|disiscrivetemi|"
    r"disiscrivimi|depennarmi|depennatemi)"
    r"|mi\s+(?:cancelli|cancellate|rimuova|rimuovete|tolga|togliete|elimini|eliminate|"
    r"disiscriva|disiscrivete)"
    r"|(?:annullare|annulla|annullate|cancellare|cancella|cancellate|disdire|disdici|disdite)\s+"
    r"(?:la\s+)?(?:mia\s+)?(?:l\s+)?(?:iscrizione|abbonamento|sottoscrizione)"
    r"|disiscrivere|disiscrizione|cancellazione|annullamento (?:dell\s+)?iscrizione"
    r"|essere\s+(?:cancellat[oa]|rimoss[oa]|tolt[oa]|eliminat[oa]|disiscritt[oa])"
    r"|(?:io\s+)?non\s+(?:voglio|desidero|intendo|vorrei)\s+(?:piu\s+)?ricevere(?:\s+piu)?"
    r"|non\s+(?:mi\s+)?(?:inviate|mandate|spedite|inviatemi|mandatemi)\s+piu"
    r"|(?:smettete|smettetela|smettere)\s+di\s+(?:inviarmi|mandarmi|inviare|mandare|spedirmi)"
    r"|(?:io\s+)?non\s+mi\s+sono\s+mai\s+(?:iscritt[oa]|registrat[oa]|abbonat[oa])|stop"
)
_IT_TAIL = r"(?:\s+(?:per favore|per piacere|grazie|grazie mille|subito|immediatamente))*"

# Dutch -------------------------------------------------------------------------------------------
_NL_THIS = r"(?:deze|dit|de|het|uw|jullie|je|jouw|alle|verdere|toekomstige)"
_NL_MAILING = (
    r"(?:nieuwsbrie(?:f|ven)|mailing ?lijst|verzendlijst|distributielijst|lijst|e ?mails?|"
    r"emails|mails?|berichten|mailings?|abonnement|updates|briefings?|security chatter)"
)
_NL_FROM = rf"(?:(?:van|uit|voor|op)\s+(?:{_NL_THIS}\s+)?(?:\w+\s+)?{_NL_MAILING})"
_NL_OBJ = rf"(?:{_NL_THIS}\s+(?:\w+\s+)?{_NL_MAILING})"
_NL_ME = r"(?:mij|me|ons)"
_NL_POLITE = (
    r"(?:(?:hallo|hoi|hi|ok|oke|ja|dank u|dank je|bedankt)\s+)?"
    r"(?:(?:graag|gelieve|ik wil|ik zou graag|ik zou|wilt u|wil je|kunt u|kun je|kan u|zou u|"
    r"zou je|kan ik|mag ik|ik verzoek u|ik verzoek|verzoek|wij willen|wij zouden graag|"
    r"willen jullie|kunnen jullie|aub|a u b|alstublieft|alsjeblieft|svp|s v p|bij deze|"
    r"hierbij)\s+)*"
)
_NL_VERBS = (
    rf"(?:{_NL_ME}\s+)?(?:{_NL_FROM}\s+)?(?:afmelden|uitschrijven|verwijderen|schrappen)"
    rf"|(?:{_NL_OBJ}\s+)?opzeggen"
    rf"|{_NL_ME}\s+(?:{_NL_FROM}\s+)?(?:uit te schrijven|af te melden|te verwijderen|te schrappen)"
    rf"|(?:schrijf|meld|verwijder|haal|schrap)(?:\s+u|\s+je)?\s+{_NL_ME}(?:\s+(?:uit|af))?"
    rf"(?:\s+{_NL_FROM})?(?:\s+(?:uit|af))?"
    rf"|(?:{_NL_ME}\s+)?(?:{_NL_FROM}\s+)?(?:(?:afgemeld|uitgeschreven|verwijderd)\s+worden"
    r"|afgemeld|uitgeschreven)"
    r"|afmelding|uitschrijving"
    rf"|(?:{_NL_OBJ}\s+|(?:dit|deze|ze|het)\s+)?niet (?:meer|langer) (?:ontvangen|krijgen)"
    rf"|geen\s+(?:\w+\s+)?{_NL_MAILING}\s+meer(?:\s+(?:ontvangen|krijgen|sturen|toesturen))?"
    rf"|(?:stuur|stuurt|zend)(?:\s+u)?\s+(?:{_NL_ME}\s+)?geen\s+(?:\w+\s+)?{_NL_MAILING}\s+meer"
    r"|stop(?:\s+(?:met|maar)\s+(?:het\s+)?(?:sturen|mailen|verzenden|versturen|toesturen))?"
    r"|ik heb (?:me|mij) (?:hier\s+)?nooit (?:voor\s+)?(?:aangemeld|ingeschreven|geabonneerd)"
)
_NL_TARGET = rf"(?:{_NL_FROM}|{_NL_OBJ})"
_NL_TAIL = (
    r"(?:\s+(?:graag|aub|a u b|alstublieft|alsjeblieft|bedankt|dank u|dank je|dank u wel|svp|"
    r"s v p|per direct|direct|meteen))*"
)

# Polish ------------------------------------------------------------------------------------------
# ("ł" has no accent to remove: "chciałbym" stays "chciałbym", so both spellings are listed.)
_PL_THIS = r"(?:tej|tego|tych|waszej|waszego|panstwa|mojej|mojego|tego)"
_PL_MAILING = (
    r"(?:listy(?: (?:mailingowej|dystrybucyjnej|wysylkowej|adresowej|subskrybentow|odbiorcow))?|"
    r"newslett?era|newslett?eru|biuletynu|subskrypcji|mailingu|wysylki|bazy(?: danych| "
    r"mailingowej| adresowej)?|korespondencji|powiadomien|security chatter)"
)
_PL_FROM = rf"(?:(?:z|ze)\s+(?:{_PL_THIS}\s+)?(?:\w+\s+)?{_PL_MAILING})"
_PL_ME = (
    r"(?:mnie|nas|moj adres(?: e ?mail)?|moj e ?mail|mojego adresu(?: e ?mail)?|"
    r"mojego maila|moich danych)"
)
_PL_POLITE = (
    r"(?:(?:dzien dobry|witam|czesc|ok|tak|dziekuje)\s+)?"
    r"(?:(?:prosze|uprzejmie prosze|bardzo prosze|prosimy|chcia[lł](?:bym|abym)|chce|chcemy|"
    r"czy mozna|czy moge|czy mozecie|czy mogliby panstwo|zwracam sie z prosba)\s+)*"
)
_PL_VERBS = (
    rf"(?:o\s+)?(?:wypisanie|usuniecie|wykreslenie)(?:\s+{_PL_ME})?"
    rf"|(?:wypisz|wypiszcie|wypisac|usun|usuncie|usunac|wykresl|wykreslcie|wykreslic)\s+{_PL_ME}"
    rf"|{_PL_ME}\s+(?:wypisac|usunac|wykreslic)"
    r"|(?:sie\s+)?wypisac(?:\s+sie)?|wypisuje sie|wypisz"
    r"|(?:rezygnuje|rezygnujemy)|rezygnacja(?:\s+z\s+subskrypcji)?"
    r"|(?:anuluj|anulowac|anulowanie)\s+(?:moja\s+|mojej\s+)?subskrypcj[eia]"
    r"|nie\s+(?:chce|chcemy|chcia[lł](?:bym|abym))\s+(?:juz\s+)?(?:wiecej\s+)?"
    r"(?:otrzymywac|dostawac)(?:\s+(?:juz|wiecej|tych|tego|tej|tego typu))*"
    r"(?:\s+(?:wiadomosci|maili|e ?maili|newslettera|biuletynu|korespondencji))?"
    r"|(?:prosze\s+)?nie\s+(?:wysylac|przysylac|wysylajcie|przysylajcie)(?:\s+(?:mi|nam))?"
    r"(?:\s+(?:juz|wiecej))*(?:\s+(?:wiadomosci|maili|e ?maili|newslettera|biuletynu))?"
    r"|stop"
)
_PL_TAIL = (
    r"(?:\s+(?:prosze|dziekuje|dziekuje bardzo|dzieki|z gory dziekuje|pilnie|natychmiast|"
    r"od zaraz))*"
)

# Swedish -----------------------------------------------------------------------------------------
_SV_THIS = r"(?:detta|denna|dessa|ert|er|era|den|det|min|mitt|mina|alla|framtida)"
_SV_MAILING = (
    r"(?:nyhetsbrev(?:et|en)?|utskickslista(?:n)?|sandlista(?:n)?|e ?postlista(?:n)?|"
    r"mejllista(?:n)?|maillista(?:n)?|lista(?:n)?|prenumeration(?:en|er)?|utskick(?:en|et)?|"
    r"mejl(?:en|et)?|mail(?:en|et)?|e ?post(?:en)?|security chatter)"
)
_SV_FROM = rf"(?:(?:fran|ur|pa)\s+(?:{_SV_THIS}\s+)?(?:\w+\s+)?{_SV_MAILING})"
_SV_OBJ = rf"(?:(?:{_SV_THIS}\s+)?(?:\w+\s+)?{_SV_MAILING})"
_SV_ME = r"(?:mig|oss|min (?:e ?post|mejl|mail)?adress)"
_SV_POLITE = (
    r"(?:(?:hej|hejsan|hallo|god morgon|ok|ja|tack)\s+)?"
    r"(?:(?:var vanlig och|vanligen|jag vill|jag skulle vilja|jag onskar|vi vill|vi skulle vilja|"
    r"kan ni|kan du|skulle ni kunna|snalla|garna)\s+)*"
)
_SV_VERBS = (
    rf"(?:avregistrera|avanmal|avanmala|ta bort|stryk|radera|plocka bort)\s+{_SV_ME}"
    rf"|(?:avsluta|saga upp|sag upp|saga upp)\s+{_SV_OBJ}"
    r"|bli\s+(?:avregistrerad|avanmald|borttagen|struken)"
    r"|avregistrera|avregistrering|avanmalan|avsluta prenumerationen|stopp|stop"
    r"|(?:inte|inga)\s+(?:fa|ta emot|ha)\s+(?:fler|mer|nagra fler|nagra)"
    r"(?:\s+(?:\w+\s+)?(?:nyhetsbrev|mejl|mail|utskick|e ?post))?"
    rf"|(?:sluta|slut)\s+(?:att\s+)?skicka(?:\s+{_SV_ME})?(?:\s+{_SV_OBJ})?"
)
_SV_TAIL = r"(?:\s+(?:tack|tack sa mycket|tack pa forhand|omgaende|direkt|snarast|med en gang))*"

# Danish and Norwegian (one rule: "meld mig af nyhedsbrevet", "meld meg av nyhetsbrevet";
# `normalise` keeps "æ" and "ø") -----------------------------------------------------------
_DA_THIS = r"(?:dette|denne|disse|jeres|deres|dere|det|den|min|mit|mine|alle|fremtidige)"
_DA_MAILING = (
    r"(?:nyhedsbrev(?:et|e|ene)?|nyhetsbrev(?:et|ene)?|mailliste(?:n)?|e ?mail ?liste(?:n)?|"
    r"e ?post ?liste(?:n)?|liste(?:n)?|abonnement(?:et)?|udsendelse(?:r|rne)?|"
    r"utsendelse(?:r|ne)?|mails?|e ?mails?|e ?post(?:en)?|security chatter)"
)
_DA_FROM = rf"(?:(?:fra|af|av|pa)\s+(?:{_DA_THIS}\s+)?(?:\w+\s+)?{_DA_MAILING})"
_DA_ME = r"(?:mig|meg|os|oss|min (?:e ?mail|mail|e ?post)?adresse)"
_DA_PLEASE = r"(?:\s+(?:venligst|vennligst|gerne|gjerne))?"
_DA_POLITE = (
    r"(?:(?:hej|hei|hallo|god morgen|ok|ja|tak|takk)\s+)?"
    r"(?:(?:venligst|vennligst|vil (?:i|du|dere)(?: venligst| vennligst)?|kan (?:i|du|dere)|"
    r"jeg vil (?:gerne|gjerne)|vi vil (?:gerne|gjerne)|jeg (?:ø|o)nsker (?:at|a)|"
    r"v(?:æ|ae)r (?:venlig at|sa snill a)|gerne|gjerne)\s+)*"
)
_DA_VERBS = (
    rf"(?:afmeld|afmelde|frameld|framelde|avmeld|avmelde|meld|melde)\s+{_DA_ME}{_DA_PLEASE}"
    r"(?:\s+(?:af|av|ud|ut))?"
    rf"|(?:fjern|fjerne|slet|slette|stryg|stryk|tag|ta)\s+{_DA_ME}{_DA_PLEASE}"
    r"(?:\s+(?:af|av|ud|ut|bort))?"
    r"|afmeld|avmeld|afmelding|avmelding|frameld|stop|stopp"
    r"|(?:jeg|vi) (?:vil|(?:ø|o)nsker) ikke (?:l(?:æ|ae)ngere|lenger) (?:at |a )?(?:modtage|motta)"
    rf"(?:\s+(?:{_DA_THIS}\s+)?(?:\w+\s+)?{_DA_MAILING})?"
)
_DA_TAIL = r"(?:\s+(?:tak|takk|mange tak|tusen takk|pa forhand tak|omgaende|straks))*"


def _rule(polite: str, verbs: str, target: str, tail: str) -> str:
    return rf"{polite}(?:{verbs})(?:\s+{target})?{tail}"


OPT_OUT = re.compile(
    "^(?:"
    + "|".join(
        [
            _rule(_FR_POLITE, _FR_VERBS, _FR_TARGET, _FR_TAIL),
            _rule(_DE_POLITE, _DE_VERBS, f"(?:{_DE_FROM}|{_DE_OBJ})", _DE_TAIL),
            _rule(_PT_POLITE, _PT_VERBS, _PT_TARGET, _PT_TAIL),
            _rule(_IT_POLITE, _IT_VERBS, _IT_TARGET, _IT_TAIL),
            _rule(_NL_POLITE, _NL_VERBS, _NL_TARGET, _NL_TAIL),
            _rule(_PL_POLITE, _PL_VERBS, _PL_FROM, _PL_TAIL),
            _rule(_SV_POLITE, _SV_VERBS, f"(?:{_SV_FROM})", _SV_TAIL),
            _rule(_DA_POLITE, _DA_VERBS, f"(?:{_DA_FROM})", _DA_TAIL),
        ]
    )
    + ")$"
)

# Politeness: a greeting, thanks or a closing, followed at most by a name ("Bonjour Fausto",
# "Mit freundlichen Grüßen", "Grazie mille"). The name must be written as one, with
# capitals (POLITE_TO_NAME's `name`): "Merci de m'appeler" is a request, not thanks to someone
# called "de m appeler".
_GREETING = (
    r"bonjour|bonsoir|salut|bonjour a tous|madame|monsieur|mesdames|messieurs|"
    r"mesdames et messieurs|madame monsieur|cher|chere|chers|cheres|hallo|hallo zusammen|"
    r"guten (?:tag|morgen|abend)|sehr geehrte[rs]?(?: damen und herren)?|liebe[rs]?|moin|servus|"
    r"ola|ola a todos|oi|bom dia|boa tarde|boa noite|prezad[oa]s?|car[oa]s?|buongiorno|"
    r"buongiorno a tutti|buonasera|salve|ciao|ciao a tutti|gentil[ei]|egregi[oa]|spettabile|"
    r"hoi|beste|beste allemaal|hallo allemaal|geachte|geachte heer|geachte mevrouw|"
    r"geachte heer mevrouw|geachte dames en heren|goedemorgen|goedemiddag|goedenavond|"
    r"dzien dobry|witam|czesc|szanowni panstwo|szanowny panie|szanowna pani|"
    r"hej|hejsan|hej alla|god morgon|god eftermiddag|hei|god morgen|k(?:æ|ae)re"
)
_GRUSS = r"gru(?:ß|ss)(?:e|en)?"
_THANKS_CLOSING = (
    r"merci|merci beaucoup|merci bien|merci d avance|merci par avance|merci a vous|"
    r"merci (?:pour|de) votre (?:aide|comprehension)|je vous remercie|cordialement|"
    r"bien cordialement|tres cordialement|bien a vous|salutations(?: distinguees)?|"
    r"sinceres salutations|meilleures salutations|bonne (?:journee|soiree)|a bientot|"
    r"danke(?: schon| sehr)?|vielen dank|besten dank|herzlichen dank|(?:vielen )?dank im voraus|"
    r"danke im voraus|danke fur ihr verstandnis|"
    rf"(?:mit )?(?:freundlichen|freundliche|viele|beste|besten|herzliche|herzlichen|liebe|"
    rf"schone|sonnige) {_GRUSS}|{_GRUSS}|mfg|lg|vg|"
    r"obrigad[oa]|muito obrigad[oa]|obrigad[oa] desde ja|grat[oa]|atenciosamente|att|atte|"
    r"cordialmente|abracos?|abs|cumprimentos|melhores cumprimentos|saudacoes|"
    r"grazie|grazie mille|grazie tante|grazie in anticipo|cordiali saluti|distinti saluti|"
    r"saluti|un saluto|cordialita|buona giornata|"
    r"dank (?:u|je)(?: wel)?|bedankt|alvast bedankt|hartelijk dank|"
    r"(?:met )?(?:vriendelijke|hartelijke) groet(?:en)?|groet(?:en|jes)?|met groet|mvg|"
    r"dziekuje(?: bardzo)?|dzieki|z gory dziekuje|pozdrawiam|serdecznie pozdrawiam|"
    r"z powazaniem|pozdrowienia|"
    r"tack(?: sa mycket| pa forhand)?|stort tack|(?:med )?vanliga halsningar|"
    r"med vanlig halsning|halsningar|mvh|"
    r"tak|takk|mange tak|tusen takk|(?:med )?venn?lig hilsen|hilsen"
)
POLITE = re.compile(rf"^(?:{_GREETING}|{_THANKS_CLOSING})$")
POLITE_TO_NAME = re.compile(
    rf"^(?:{_GREETING}|{_THANKS_CLOSING})(?P<name>(?:\s+[^\W\d_]+){{1,3}})$"
)

# A closing that ends the message: what follows is the signature.
CLOSING = re.compile(
    r"^(?:cordialement|bien cordialement|tres cordialement|bien a vous|salutations|"
    r"sinceres salutations|meilleures salutations|"
    r"(?:mit )?(?:freundlichen|freundliche|viele|beste|besten|herzliche|herzlichen|liebe) "
    rf"{_GRUSS}|{_GRUSS}|mfg|lg|vg|atenciosamente|cumprimentos|melhores cumprimentos|abracos|att|"
    r"cordiali saluti|distinti saluti|saluti|un saluto|"
    r"(?:met )?(?:vriendelijke|hartelijke) groet(?:en)?|groeten|met groet|mvg|"
    r"pozdrawiam|serdecznie pozdrawiam|z powazaniem|"
    r"(?:med )?vanliga halsningar|med vanlig halsning|halsningar|mvh)\b"
)
