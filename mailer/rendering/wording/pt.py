"""Portuguese: the pages and mails a subscriber sees outside an edition (keys and fields as en.py).

Brazilian Portuguese with você, as the Portuguese edition writes (rendering/chrome.py); wording
that would assume the reader's gender (inscrito, inscrita) is avoided: the inscrição is what is
active or cancelled.
"""

from __future__ import annotations

WORDS: dict[str, str] = {
    "skip_to_content": "Pular para o conteúdo",
    "archive_of_past_issues": "Arquivo de edições anteriores",
    "needs_attention": "Algo precisa da sua atenção",
    "read_past_issues": "Ler edições anteriores",
    "unsubscribe_from_title": "Cancelar a inscrição em {list}",
    "nothing_left_heading": "Não há mais nada para cancelar",
    "nothing_left_text": "Este endereço já foi removido dos nossos registros; você não receberá "
    "mais nada de nós.",
    "already_unsubscribed": "Sua inscrição já foi cancelada",
    "no_longer_receives": "{email} não recebe mais {list}.",
    "changed_your_mind": "Mudou de ideia?",
    "subscribe_again": "Inscrever-se novamente",
    "we_ask_to_confirm": "— pediremos que você confirme por e-mail.",
    "unsubscribe_from_question": "Cancelar a inscrição em {list}?",
    "about_to_stop": "Você está prestes a deixar de receber {list} no endereço",
    "opened_from_issue": "Você abriu esta página a partir da edição de {date}: {title}.",
    "change_preferences_instead": "Prefiro alterar minhas preferências",
    "your_preferences": "Suas preferências",
    "keep_receiving": "Continuar recebendo",
    "untick_to_stop": "Desmarque um boletim para deixar de recebê-lo.",
    "subscribed_to_none": "No momento você não recebe nenhum dos nossos boletins.",
    "preferred_language": "Idioma preferido",
    "no_preference": "Sem preferência",
    "link_tracking": "Rastreamento de links",
    "tracking_consent": "Permitir que {firm} veja quais links de uma edição eu sigo (quem "
    "assina a edição usa isso para dar seguimento)",
    "everything": "Tudo",
    "stop_all": "Parar todos os e-mails de {firm}",
    "save_preferences": "Salvar preferências",
    "preferences": "Preferências",
    "preferences_saved": "Preferências salvas",
    "preferences_are_saved": "Suas preferências foram salvas",
    "back_to_preferences": "Voltar às suas preferências",
    "choose_a_language": "Escolha um idioma.",
    "no_more_email": "Você não receberá mais e-mails de nós.",
    "unsubscribed_from": "Inscrição em {list} cancelada",
    "language_set": "Idioma escolhido: {language}.",
    "language_removed": "Preferência de idioma removida.",
    "tracking_on": "Rastreamento de links ativado.",
    "tracking_off": "Seus cliques não serão rastreados.",
    "nothing_changed": "Não havia nada a alterar.",
    "unsubscribed": "Inscrição cancelada",
    "you_are_unsubscribed": "Sua inscrição foi cancelada",
    "will_no_longer_receive": "{email} não receberá mais {list}.",
    "you_will_no_longer_receive": "Você não receberá mais {list}.",
    "issue_on_its_way": "Uma edição que já esteja a caminho ainda pode chegar nos próximos "
    "minutos.",
    "manage_other_preferences": "Gerenciar outras preferências",
    "unsubscribed_by_mistake": "Cancelou por engano? Inscreva-se novamente",
    "archive": "Arquivo",
    "read_online": "Ler online",
    "nothing_published": "Nenhuma edição foi publicada ainda.",
    "confirm": "Confirmar",
    "already_subscribed": "Sua inscrição já está ativa",
    "already_receives": "{email} recebe {list}. Não é preciso fazer mais nada.",
    "confirm_your_subscription": "Confirme sua inscrição",
    "start_sending": "Começar a enviar {list} para {email}?",
    "yes_subscribe_me": "Sim, quero me inscrever",
    "did_not_ask": "Se você não pediu isso, feche esta página: nada será enviado.",
    "welcome": "Boas-vindas",
    "subscription_confirmed": "Inscrição confirmada",
    "you_are_subscribed": "Sua inscrição está ativa",
    "will_receive_from_next": "{email} receberá {list} a partir da próxima edição.",
    "mail_subject": "Confirme sua inscrição em {list}",
    "mail_title": "Confirme sua inscrição em {list}",
    "mail_preview": "Um clique para confirmar: não enviaremos {list} até que você confirme.",
    "mail_heading": "Confirme sua inscrição",
    "mail_hello_name": "Olá, {name},",
    "mail_hello": "Olá,",
    "mail_someone_asked": "Alguém — esperamos que você — pediu para receber {list} de {firm} em "
    "{email}. Não enviaremos nada até que você confirme.",
    "mail_someone_asked_text": "Alguém (esperamos que você) pediu para receber {list} de {firm} "
    "em {email}. Não enviaremos nada até que você confirme.",
    "mail_button": "Confirmar minha inscrição",
    "mail_paste_link": "Ou cole este link no seu navegador:",
    "mail_open_link": "Confirme sua inscrição abrindo este link:",
    "mail_valid_for": "O link é válido por {days} dias. Se você não pediu isso, ignore este "
    "e-mail: nenhuma inscrição será ativada e você não receberá mais nada de "
    "nós.",
    "mail_past_issues": "Edições anteriores:",
    "subscribe_to_title": "Inscrever-se em {list}",
    "subscribe_lede": "{list} por e-mail, de {firm}. Primeiro enviamos um e-mail para confirmar "
    "seu endereço; cada edição tem um link para cancelar a inscrição na hora.",
    "email_address": "Endereço de e-mail",
    "your_name": "Nome",
    "optional": "(opcional)",
    "leave_empty": "Deixe este campo vazio",
    "pow_note": "Este formulário verifica seu navegador antes de ser enviado; ele precisa de "
    "JavaScript.",
    "subscribe_note": "Enviaremos por e-mail um link para confirmar. Nada é enviado até que "
    "você confirme, e cada edição tem um link para cancelar a inscrição com "
    "um clique.",
    "enter_email": "Informe seu endereço de e-mail.",
    "not_an_email": "Isto não parece um endereço de e-mail: {problem}",
    "shorten_name": "Encurte seu nome para {limit} caracteres.",
    "pow_unfinished": "Seu navegador ainda não terminou a verificação (ela precisa de "
    "JavaScript). Espere o botão ser ativado e envie o formulário novamente.",
    "one_more_step": "Só mais um passo",
    "check_your_inbox": "Verifique sua caixa de entrada",
    "confirmation_on_its_way": "Se {email} puder receber nossos e-mails, uma mensagem pedindo "
    "que você confirme sua inscrição em {list} está a caminho.",
    "open_and_follow": "Abra-a e siga o link para começar a receber o boletim. O link é válido "
    "por sete dias.",
    "look_in_spam": "Nada chegou em alguns minutos? Procure na pasta de spam ou de promoções.",
    "back_to_form": "Voltar ao formulário",
}

ERRORS: dict[str, tuple[str, ...]] = {
    "bad_link": (
        "Este link não é válido",
        "O endereço que você abriu está incompleto ou foi alterado — talvez tenha sido dividido "
        "em duas linhas no seu e-mail. Abra novamente o link de cancelamento no e-mail ou use "
        "“Cancelar inscrição” no fim de qualquer edição.",
    ),
    "unknown_link": (
        "Não encontramos esta mensagem",
        "Este link não pertence a nenhuma mensagem que enviamos. Se quiser deixar de receber "
        "nosso boletim, use o link de cancelamento no fim de uma edição recente, ou responda a "
        "ela e cuidaremos disso.",
    ),
    "test_copy_link": (
        "Este link é de uma cópia de teste",
        "Nada foi alterado. Uma cópia [TEST] vai para os endereços aos quais foi enviada, fora "
        "de qualquer lista, por isso seu link de cancelamento não pertence a nenhuma inscrição.",
        "Na edição como uma lista a recebe, este link abre a página de quem a recebe: de qual "
        "lista está saindo, um botão para confirmar e suas preferências (outras listas, idioma, "
        "rastreamento).",
    ),
    "not_one_click": (
        "Nada foi alterado",
        "Esta solicitação não pedia o cancelamento. Use o botão na página de cancelamento.",
    ),
    "erased": (
        "Não há mais nada a alterar",
        "Este endereço foi removido dos nossos registros a seu pedido.",
    ),
    "other_origin": (
        "Use o formulário da nossa página",
        "Suas preferências só podem ser alteradas na própria página de preferências. Abra "
        "novamente o link do seu e-mail.",
    ),
    "not_our_form": (
        "Nada foi alterado",
        "Use o formulário da página de preferências.",
    ),
    "too_large": (
        "Esta solicitação é grande demais",
        "Use o formulário desta página.",
    ),
    "unreadable_form": (
        "Não conseguimos ler esse formulário",
        "Volte e tente novamente.",
    ),
    "bad_tracked_link": (
        "Este link não funciona",
        "O endereço que você abriu está incompleto ou foi alterado — talvez tenha sido dividido "
        "em duas linhas no seu e-mail. Abra novamente o link no e-mail.",
    ),
    "issue_not_found": (
        "Não encontramos essa edição",
        "Talvez ainda não tenha sido publicada. Estas são as edições que enviamos.",
    ),
    "list_not_found": (
        "Não encontramos esse boletim",
        "A página de inscrição que você abriu não existe. Verifique o endereço ou leia nossas "
        "edições anteriores.",
    ),
    "bad_confirm": (
        "Este link de confirmação não é válido",
        "O endereço que você abriu está incompleto ou foi alterado — talvez tenha sido dividido "
        "em duas linhas no seu e-mail. Copie o link completo do e-mail ou inscreva-se novamente "
        "para receber um novo.",
    ),
    "expired_confirm": (
        "Este link de confirmação expirou",
        "Os links de confirmação são válidos por {days} dias. Inscreva-se novamente e "
        "enviaremos um novo.",
    ),
    "subscription_not_found": (
        "Não encontramos esta inscrição",
        "Ela pode ter sido removida. Inscreva-se novamente.",
    ),
    "superseded_confirm": (
        "Este link de confirmação não é mais válido",
        "A inscrição foi cancelada depois que este link foi enviado. Para se inscrever "
        "novamente, use o formulário de inscrição e confirme o novo e-mail.",
    ),
    "cannot_subscribe": (
        "Este endereço não pode ser inscrito",
        "Fale conosco respondendo a qualquer um dos nossos e-mails.",
    ),
    "closed_list": (
        "Este boletim não aceita mais inscrições",
        "Ele não está mais aberto a inscrições pelo nosso site, por isso este link de "
        "confirmação não pode ser usado e nenhuma inscrição foi ativada. Se você acha que "
        "deveria recebê-lo, fale conosco.",
    ),
    "too_many_attempts": (
        "Tentativas demais",
        "Recebemos várias solicitações de inscrição da sua rede em pouco tempo. Tente novamente "
        "em {seconds} segundos.",
    ),
    "confirmations_paused": (
        "Tente novamente mais tarde",
        "Estamos recebendo um número incomum de solicitações de inscrição, por isso pausamos o "
        "envio de e-mails de confirmação. Nada foi enviado a você. Tente novamente em cerca de "
        "uma hora.",
    ),
}
