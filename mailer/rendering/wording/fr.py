"""French: the pages and mails a subscriber sees outside an edition (keys and fields as en.py).

Vous throughout, as the French edition writes (rendering/chrome.py); wording that would assume
the reader's gender (abonné, abonnée, désabonné) is avoided: the abonnement is what is active or
résilié, and the one who signs an issue is « la personne qui signe ».
"""

from __future__ import annotations

WORDS: dict[str, str] = {
    "skip_to_content": "Aller au contenu",
    "archive_of_past_issues": "Archives des numéros précédents",
    "needs_attention": "Un point demande votre attention",
    "read_past_issues": "Lire les numéros précédents",
    "unsubscribe_from_title": "Se désabonner de {list}",
    "nothing_left_heading": "Il n’y a plus rien à résilier",
    "nothing_left_text": "Cette adresse a déjà été supprimée de nos fichiers : vous ne recevrez "
    "plus rien de notre part.",
    "already_unsubscribed": "Votre abonnement est déjà résilié",
    "no_longer_receives": "{email} ne reçoit plus {list}.",
    "changed_your_mind": "Vous avez changé d’avis ?",
    "subscribe_again": "Se réabonner",
    "we_ask_to_confirm": "— nous vous demanderons de confirmer par e-mail.",
    "unsubscribe_from_question": "Se désabonner de {list} ?",
    "about_to_stop": "Vous êtes sur le point de ne plus recevoir {list} à l’adresse",
    "opened_from_issue": "Vous avez ouvert cette page depuis le numéro du {date} : {title}.",
    "change_preferences_instead": "Modifier plutôt mes préférences",
    "your_preferences": "Vos préférences",
    "keep_receiving": "Continuer à recevoir",
    "untick_to_stop": "Décochez un bulletin pour ne plus le recevoir.",
    "subscribed_to_none": "Vous ne recevez actuellement aucun de nos bulletins.",
    "preferred_language": "Langue préférée",
    "no_preference": "Aucune préférence",
    "link_tracking": "Suivi des liens",
    "tracking_consent": "Permettre à {firm} de voir quels liens d’un numéro je suis (la "
    "personne qui signe le numéro s’en sert pour assurer le suivi)",
    "everything": "Tout",
    "stop_all": "Ne plus recevoir aucun e-mail de {firm}",
    "save_preferences": "Enregistrer mes préférences",
    "preferences": "Préférences",
    "preferences_saved": "Préférences enregistrées",
    "preferences_are_saved": "Vos préférences sont enregistrées",
    "back_to_preferences": "Revenir à vos préférences",
    "choose_a_language": "Veuillez choisir une langue.",
    "no_more_email": "Vous ne recevrez plus aucun e-mail de notre part.",
    "unsubscribed_from": "Abonnement à {list} résilié",
    "language_set": "Langue choisie : {language}.",
    "language_removed": "Préférence de langue supprimée.",
    "tracking_on": "Suivi des liens activé.",
    "tracking_off": "Vos clics ne seront pas suivis.",
    "nothing_changed": "Il n’y avait rien à modifier.",
    "unsubscribed": "Désabonnement",
    "you_are_unsubscribed": "Votre désabonnement est enregistré",
    "will_no_longer_receive": "{email} ne recevra plus {list}.",
    "you_will_no_longer_receive": "Vous ne recevrez plus {list}.",
    "issue_on_its_way": "Un numéro déjà en route peut encore vous parvenir dans les prochaines "
    "minutes.",
    "manage_other_preferences": "Gérer mes autres préférences",
    "unsubscribed_by_mistake": "Désabonnement par erreur ? Se réabonner",
    "archive": "Archives",
    "read_online": "Lire en ligne",
    "nothing_published": "Aucun numéro n’a encore été publié.",
    "confirm": "Confirmation",
    "already_subscribed": "Votre abonnement est déjà actif",
    "already_receives": "{email} reçoit {list}. Il n’y a rien d’autre à faire.",
    "confirm_your_subscription": "Confirmez votre abonnement",
    "start_sending": "Commencer à envoyer {list} à {email} ?",
    "yes_subscribe_me": "Oui, je m’abonne",
    "did_not_ask": "Si vous n’avez rien demandé, fermez cette page : rien ne sera envoyé.",
    "welcome": "Bienvenue",
    "subscription_confirmed": "Abonnement confirmé",
    "you_are_subscribed": "Votre abonnement est actif",
    "will_receive_from_next": "{email} recevra {list} à partir du prochain numéro.",
    "mail_subject": "Veuillez confirmer votre abonnement à {list}",
    "mail_title": "Confirmez votre abonnement à {list}",
    "mail_preview": "Un clic pour confirmer : nous n’enverrons pas {list} avant votre "
    "confirmation.",
    "mail_heading": "Veuillez confirmer votre abonnement",
    "mail_hello_name": "Bonjour {name},",
    "mail_hello": "Bonjour,",
    "mail_someone_asked": "Quelqu’un — vous, nous l’espérons — a demandé à recevoir {list} de "
    "{firm} à l’adresse {email}. Nous ne vous enverrons rien tant que "
    "vous n’aurez pas confirmé.",
    "mail_someone_asked_text": "Quelqu’un (vous, nous l’espérons) a demandé à recevoir {list} "
    "de {firm} à l’adresse {email}. Nous ne vous enverrons rien tant "
    "que vous n’aurez pas confirmé.",
    "mail_button": "Confirmer mon abonnement",
    "mail_paste_link": "Ou collez ce lien dans votre navigateur :",
    "mail_open_link": "Confirmez votre abonnement en ouvrant ce lien :",
    "mail_valid_for": "Ce lien est valable {days} jours. Si vous n’avez rien demandé, ignorez "
    "cet e-mail : aucun abonnement ne sera activé et vous n’entendrez plus "
    "parler de nous.",
    "mail_past_issues": "Numéros précédents :",
    "subscribe_to_title": "S’abonner à {list}",
    "subscribe_lede": "{list} par e-mail, de {firm}. Nous envoyons d’abord un e-mail pour "
    "confirmer votre adresse ; chaque numéro contient un lien pour se "
    "désabonner immédiatement.",
    "email_address": "Adresse e-mail",
    "your_name": "Nom",
    "optional": "(facultatif)",
    "leave_empty": "Laissez ce champ vide",
    "pow_note": "Ce formulaire vérifie votre navigateur avant d’être envoyé ; il nécessite "
    "JavaScript.",
    "subscribe_note": "Nous vous enverrons par e-mail un lien de confirmation. Rien n’est "
    "envoyé avant votre confirmation, et chaque numéro contient un lien de "
    "désabonnement en un clic.",
    "enter_email": "Veuillez saisir votre adresse e-mail.",
    "not_an_email": "Cela ne ressemble pas à une adresse e-mail : {problem}",
    "shorten_name": "Veuillez raccourcir votre nom à {limit} caractères.",
    "pow_unfinished": "Votre navigateur n’a pas encore terminé sa vérification (elle nécessite "
    "JavaScript). Attendez que le bouton soit activé, puis renvoyez le "
    "formulaire.",
    "one_more_step": "Encore une étape",
    "check_your_inbox": "Consultez votre boîte de réception",
    "confirmation_on_its_way": "Si {email} peut recevoir nos e-mails, un message vous demandant "
    "de confirmer votre abonnement à {list} est en route.",
    "open_and_follow": "Ouvrez-le et suivez le lien pour commencer à recevoir le bulletin. Le "
    "lien est valable sept jours.",
    "look_in_spam": "Rien reçu après quelques minutes ? Regardez dans vos courriers "
    "indésirables ou promotions.",
    "back_to_form": "Revenir au formulaire",
}

ERRORS: dict[str, tuple[str, ...]] = {
    "bad_link": (
        "Ce lien n’est pas valide",
        "L’adresse que vous avez ouverte est incomplète ou a été modifiée — peut-être a-t-elle "
        "été coupée sur deux lignes dans votre e-mail. Rouvrez depuis l’e-mail le lien de "
        "désabonnement, ou utilisez « Se désabonner » en bas de n’importe quel numéro.",
    ),
    "unknown_link": (
        "Nous n’avons pas trouvé ce message",
        "Ce lien ne correspond à aucun message que nous avons envoyé. Pour ne plus recevoir "
        "notre bulletin, utilisez le lien de désabonnement en bas d’un numéro récent, ou "
        "répondez-y et nous nous en occuperons.",
    ),
    "test_copy_link": (
        "Ce lien provient d’un exemplaire de test",
        "Rien n’a été modifié. Un exemplaire [TEST] va aux adresses auxquelles il a été envoyé, "
        "hors de toute liste : son lien de désabonnement ne correspond donc à aucun abonnement.",
        "Dans le numéro tel qu’une liste le reçoit, ce lien ouvre la page de la personne qui le "
        "reçoit : la liste qu’elle quitte, un bouton pour confirmer et ses préférences (autres "
        "listes, langue, suivi).",
    ),
    "not_one_click": (
        "Rien n’a été modifié",
        "Cette requête ne demandait pas de désabonnement. Utilisez le bouton de la page de "
        "désabonnement.",
    ),
    "erased": (
        "Il n’y a plus rien à modifier",
        "Cette adresse a été supprimée de nos fichiers à votre demande.",
    ),
    "other_origin": (
        "Veuillez utiliser le formulaire de notre page",
        "Vos préférences ne peuvent être modifiées que depuis la page de préférences elle-même. "
        "Rouvrez le lien de votre e-mail.",
    ),
    "not_our_form": (
        "Rien n’a été modifié",
        "Veuillez utiliser le formulaire de la page de préférences.",
    ),
    "too_large": (
        "Cette requête est trop volumineuse",
        "Veuillez utiliser le formulaire de cette page.",
    ),
    "unreadable_form": (
        "Nous n’avons pas pu lire ce formulaire",
        "Revenez en arrière et réessayez.",
    ),
    "bad_tracked_link": (
        "Ce lien ne fonctionne pas",
        "L’adresse que vous avez ouverte est incomplète ou a été modifiée — peut-être a-t-elle "
        "été coupée sur deux lignes dans votre e-mail. Rouvrez le lien depuis l’e-mail.",
    ),
    "issue_not_found": (
        "Nous n’avons pas trouvé ce numéro",
        "Il n’a peut-être pas encore été publié. Voici les numéros que nous avons envoyés.",
    ),
    "list_not_found": (
        "Nous n’avons pas trouvé ce bulletin",
        "La page d’abonnement que vous avez ouverte n’existe pas. Vérifiez l’adresse, ou lisez "
        "nos numéros précédents.",
    ),
    "bad_confirm": (
        "Ce lien de confirmation n’est pas valide",
        "L’adresse que vous avez ouverte est incomplète ou a été modifiée — peut-être a-t-elle "
        "été coupée sur deux lignes dans votre e-mail. Copiez le lien complet depuis l’e-mail, "
        "ou abonnez-vous à nouveau pour en recevoir un autre.",
    ),
    "expired_confirm": (
        "Ce lien de confirmation a expiré",
        "Les liens de confirmation sont valables {days} jours. Abonnez-vous à nouveau et nous "
        "vous en enverrons un autre.",
    ),
    "subscription_not_found": (
        "Nous n’avons pas trouvé cet abonnement",
        "Il a peut-être été supprimé. Veuillez vous abonner à nouveau.",
    ),
    "superseded_confirm": (
        "Ce lien de confirmation n’est plus valable",
        "Un désabonnement a été enregistré après l’envoi de ce lien. Pour vous abonner à "
        "nouveau, utilisez le formulaire d’abonnement et confirmez le nouvel e-mail.",
    ),
    "cannot_subscribe": (
        "Cette adresse ne peut pas être abonnée",
        "Contactez-nous en répondant à l’un de nos e-mails.",
    ),
    "closed_list": (
        "Ce bulletin n’accepte plus d’abonnements",
        "Il n’est plus ouvert à l’abonnement depuis notre site : ce lien de confirmation ne "
        "peut donc pas être utilisé et aucun abonnement n’a été activé. Si vous pensez devoir "
        "le recevoir, contactez-nous.",
    ),
    "too_many_attempts": (
        "Trop de tentatives",
        "Nous avons reçu plusieurs demandes d’abonnement depuis votre réseau en peu de temps. "
        "Veuillez réessayer dans {seconds} secondes.",
    ),
    "confirmations_paused": (
        "Veuillez réessayer plus tard",
        "Nous recevons en ce moment un nombre inhabituel de demandes d’abonnement : l’envoi des "
        "e-mails de confirmation est suspendu. Rien ne vous a été envoyé. Veuillez réessayer "
        "dans une heure environ.",
    ),
}
