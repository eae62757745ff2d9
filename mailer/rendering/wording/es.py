"""Spanish: the pages and mails a subscriber sees outside an edition (keys and fields as en.py).

Usted throughout, as the Spanish edition writes (rendering/chrome.py); wording that would
assume the reader's gender (suscrito, suscrita) is avoided: the subscription is what is active
or cancelled.
"""

from __future__ import annotations

WORDS: dict[str, str] = {
    "skip_to_content": "Ir al contenido",
    "archive_of_past_issues": "Archivo de números anteriores",
    "needs_attention": "Algo requiere su atención",
    "read_past_issues": "Leer números anteriores",
    "unsubscribe_from_title": "Cancelar la suscripción a {list}",
    "nothing_left_heading": "No queda ninguna suscripción que cancelar",
    "nothing_left_text": "Esta dirección ya se eliminó de nuestros registros, así que no "
    "recibirá nada más de nuestra parte.",
    "already_unsubscribed": "Su suscripción ya está cancelada",
    "no_longer_receives": "{email} ya no recibe {list}.",
    "changed_your_mind": "¿Cambió de opinión?",
    "subscribe_again": "Suscribirse de nuevo",
    "we_ask_to_confirm": "— le pediremos que lo confirme por correo.",
    "unsubscribe_from_question": "¿Cancelar la suscripción a {list}?",
    "about_to_stop": "Está a punto de dejar de recibir {list} en la dirección",
    "opened_from_issue": "Abrió esta página desde el número del {date}: {title}.",
    "change_preferences_instead": "Prefiero cambiar mis preferencias",
    "your_preferences": "Sus preferencias",
    "keep_receiving": "Seguir recibiendo",
    "untick_to_stop": "Desmarque un boletín para dejar de recibirlo.",
    "subscribed_to_none": "En este momento no recibe ninguno de nuestros boletines.",
    "preferred_language": "Idioma preferido",
    "no_preference": "Sin preferencia",
    "link_tracking": "Seguimiento de enlaces",
    "tracking_consent": "Permitir que {firm} vea qué enlaces de cada número sigo (quien firma "
    "el número lo usa para hacer seguimiento)",
    "everything": "Todo",
    "stop_all": "Dejar de recibir cualquier correo de {firm}",
    "save_preferences": "Guardar preferencias",
    "preferences": "Preferencias",
    "preferences_saved": "Preferencias guardadas",
    "preferences_are_saved": "Sus preferencias se han guardado",
    "back_to_preferences": "Volver a sus preferencias",
    "choose_a_language": "Elija un idioma.",
    "no_more_email": "No recibirá más correos de nuestra parte.",
    "unsubscribed_from": "Suscripción a {list} cancelada",
    "language_set": "Idioma elegido: {language}.",
    "language_removed": "Preferencia de idioma eliminada.",
    "tracking_on": "Seguimiento de enlaces activado.",
    "tracking_off": "No registraremos sus clics.",
    "nothing_changed": "No había nada que cambiar.",
    "unsubscribed": "Suscripción cancelada",
    "you_are_unsubscribed": "Su suscripción está cancelada",
    "will_no_longer_receive": "{email} ya no recibirá {list}.",
    "you_will_no_longer_receive": "Ya no recibirá {list}.",
    "issue_on_its_way": "Un número que ya esté en camino aún podría llegarle en los próximos "
    "minutos.",
    "manage_other_preferences": "Gestionar otras preferencias",
    "unsubscribed_by_mistake": "¿Canceló por error? Suscribirse de nuevo",
    "archive": "Archivo",
    "read_online": "Leer en línea",
    "nothing_published": "Aún no se ha publicado ningún número.",
    "confirm": "Confirmar",
    "already_subscribed": "Su suscripción ya está activa",
    "already_receives": "{email} recibe {list}. No hace falta nada más.",
    "confirm_your_subscription": "Confirme su suscripción",
    "start_sending": "¿Empezar a enviar {list} a {email}?",
    "yes_subscribe_me": "Sí, suscribirme",
    "did_not_ask": "Si no lo pidió, cierre esta página: no se enviará nada.",
    "welcome": "Suscripción activa",
    "subscription_confirmed": "Suscripción confirmada",
    "you_are_subscribed": "Su suscripción está activa",
    "will_receive_from_next": "{email} recibirá {list} a partir del próximo número.",
    "mail_subject": "Confirme su suscripción a {list}",
    "mail_title": "Confirme su suscripción a {list}",
    "mail_preview": "Un clic para confirmar: no enviaremos {list} hasta que lo haga.",
    "mail_heading": "Confirme su suscripción",
    "mail_hello_name": "Hola, {name}:",
    "mail_hello": "Hola:",
    "mail_someone_asked": "Alguien —esperamos que usted— pidió recibir {list} de {firm} en "
    "{email}. No le enviaremos nada hasta que lo confirme.",
    "mail_someone_asked_text": "Alguien (esperamos que usted) pidió recibir {list} de {firm} en "
    "{email}. No le enviaremos nada hasta que lo confirme.",
    "mail_button": "Confirmar mi suscripción",
    "mail_paste_link": "O pegue este enlace en su navegador:",
    "mail_open_link": "Confirme su suscripción abriendo este enlace:",
    "mail_valid_for": "El enlace es válido durante {days} días. Si no lo pidió, ignore este "
    "correo: no se activará ninguna suscripción y no recibirá nada más de "
    "nuestra parte.",
    "mail_past_issues": "Números anteriores:",
    "subscribe_to_title": "Suscribirse a {list}",
    "subscribe_lede": "{list} por correo, de {firm}. Primero le enviamos un correo para "
    "confirmar su dirección; cada número incluye un enlace para cancelar la "
    "suscripción al instante.",
    "email_address": "Correo electrónico",
    "your_name": "Nombre",
    "optional": "(opcional)",
    "leave_empty": "Deje este campo vacío",
    "pow_note": "Este formulario comprueba su navegador antes de enviarse; necesita JavaScript.",
    "subscribe_note": "Le enviaremos por correo un enlace para confirmar. No se envía nada "
    "hasta que lo haga, y cada número tiene un enlace para cancelar la "
    "suscripción con un clic.",
    "enter_email": "Escriba su dirección de correo.",
    "not_an_email": "Esto no parece una dirección de correo: {problem}",
    "shorten_name": "Acorte su nombre a {limit} caracteres.",
    "pow_unfinished": "Su navegador aún no ha terminado su comprobación (necesita JavaScript). "
    "Espere a que el botón se active y vuelva a enviar el formulario.",
    "one_more_step": "Un paso más",
    "check_your_inbox": "Revise su bandeja de entrada",
    "confirmation_on_its_way": "Si {email} puede recibir nuestro correo, va en camino un "
    "mensaje que le pide confirmar su suscripción a {list}.",
    "open_and_follow": "Ábralo y siga el enlace para empezar a recibir el informe. El enlace es "
    "válido durante siete días.",
    "look_in_spam": "¿No ha llegado nada en unos minutos? Revise su carpeta de spam o de "
    "promociones.",
    "back_to_form": "Volver al formulario",
}

ERRORS: dict[str, tuple[str, ...]] = {
    "bad_link": (
        "Este enlace no es válido",
        "La dirección que abrió está incompleta o se ha modificado; quizá quedó partida en dos "
        "líneas en su correo. Vuelva a abrir desde el correo el enlace para cancelar la "
        "suscripción, o use «Cancelar suscripción» al pie de cualquier número.",
    ),
    "unknown_link": (
        "No encontramos este mensaje",
        "Este enlace no corresponde a ningún mensaje que hayamos enviado. Si quiere dejar de "
        "recibir nuestro informe, use el enlace para cancelar la suscripción al pie de un "
        "número reciente, o responda a ese correo y nos encargaremos.",
    ),
    "test_copy_link": (
        "Este enlace es de una copia de prueba",
        "No se cambió nada. Una copia [TEST] va a las direcciones a las que se envió, fuera de "
        "toda lista, así que su enlace para cancelar no corresponde a ninguna suscripción.",
        "En el número tal como lo recibe una lista, este enlace abre la página de quien lo "
        "recibe: qué lista deja, un botón para confirmarlo y sus preferencias (otras listas, "
        "idioma, seguimiento).",
    ),
    "not_one_click": (
        "No se cambió nada",
        "Esta solicitud no pedía cancelar la suscripción. Use el botón de la página para "
        "cancelar la suscripción.",
    ),
    "erased": (
        "No queda nada que cambiar",
        "Esta dirección se eliminó de nuestros registros a petición suya.",
    ),
    "other_origin": (
        "Use el formulario de nuestra página",
        "Sus preferencias solo pueden cambiarse desde la propia página de preferencias. Vuelva "
        "a abrir el enlace de su correo.",
    ),
    "not_our_form": (
        "No se cambió nada",
        "Use el formulario de la página de preferencias.",
    ),
    "too_large": (
        "La solicitud es demasiado grande",
        "Use el formulario de esta página.",
    ),
    "unreadable_form": (
        "No pudimos leer ese formulario",
        "Vuelva atrás e inténtelo de nuevo.",
    ),
    "bad_tracked_link": (
        "Este enlace no funciona",
        "La dirección que abrió está incompleta o se modificó; quizá quedó partida en dos "
        "líneas en su correo. Vuelva a abrir el enlace desde el correo.",
    ),
    "issue_not_found": (
        "No encontramos ese número",
        "Puede que aún no se haya publicado. Estos son los números que hemos enviado.",
    ),
    "list_not_found": (
        "No encontramos ese boletín",
        "La página de suscripción que abrió no existe. Compruebe la dirección o lea nuestros "
        "números anteriores.",
    ),
    "bad_confirm": (
        "Este enlace de confirmación no es válido",
        "La dirección que abrió está incompleta o se ha modificado; quizá quedó partida en dos "
        "líneas en su correo. Copie el enlace completo del correo o vuelva a suscribirse para "
        "recibir uno nuevo.",
    ),
    "expired_confirm": (
        "Este enlace de confirmación ha caducado",
        "Los enlaces de confirmación son válidos durante {days} días. Vuelva a suscribirse y le "
        "enviaremos uno nuevo.",
    ),
    "subscription_not_found": (
        "No encontramos esta suscripción",
        "Puede que se haya eliminado. Vuelva a suscribirse.",
    ),
    "superseded_confirm": (
        "Este enlace de confirmación ya no es válido",
        "Canceló la suscripción después de que se enviara este enlace. Para volver a "
        "suscribirse, use el formulario de suscripción y confirme el nuevo correo.",
    ),
    "cannot_subscribe": (
        "Esta dirección no se puede suscribir",
        "Escríbanos respondiendo a cualquiera de nuestros correos.",
    ),
    "closed_list": (
        "Este boletín ya no admite suscripciones",
        "Ya no está abierto a suscripciones desde nuestro sitio web, así que este enlace de "
        "confirmación no puede usarse y no se ha activado ninguna suscripción. Si cree que "
        "debería recibirlo, escríbanos.",
    ),
    "too_many_attempts": (
        "Demasiados intentos",
        "Recibimos varias solicitudes de suscripción desde su red en poco tiempo. Vuelva a "
        "intentarlo dentro de {seconds} segundos.",
    ),
    "confirmations_paused": (
        "Vuelva a intentarlo más tarde",
        "Estamos recibiendo un número inusual de solicitudes de suscripción, así que hemos "
        "pausado el envío de correos de confirmación. No se le envió nada. Vuelva a intentarlo "
        "dentro de una hora, aproximadamente.",
    ),
}
