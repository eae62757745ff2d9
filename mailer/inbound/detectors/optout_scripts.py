"""Opt-out requests and politeness in Russian, Japanese and Chinese.

The same rule as optout.py and optout_languages.py: the sentence is only a request for the reader
*themselves* to stop this mailing ("Отпишите меня от рассылки", "配信停止をお願いします",
"请将我从邮件列表中删除", "退订"), perhaps with a polite opener and tail, or only politeness
("Спасибо", "よろしくお願いします", "谢谢"). A request about anyone or anything else ("удалите моего
коллегу", "请把我的同事从邮件列表中删除") or a question ("配信停止の方法を教えてください": how do I
stop it?) matches nothing: the partner reads it.

Matched on `normalise`d text like the other languages, so every word here is written through
`normalise` too: it drops marks ("й" is read as "и", "ください" as "くたさい") and punctuation
("，", "。"); Japanese and Chinese are not written with spaces, so the parts may touch.
"""

from __future__ import annotations

import re

from mailer.inbound.message import normalise


def _any(*words: str) -> str:
    """`words` as alternatives, each as `normalise` writes it."""
    return "(?:" + "|".join(re.escape(normalise(w)) for w in words) + ")"


_S = r"\s*"  # Japanese and Chinese parts touch; Russian words are spaced

# Russian ----------------------------------------------------------------------------------------
_RU_PLEASE = _any("пожалуйста", "прошу", "просим", "будьте добры", "очень прошу")
_RU_ME = _any("меня", "мой адрес", "мою почту", "мой email", "мой e-mail", "нас")
_RU_MAILING = _any(
    "рассылки",
    "рассылка",
    "рассылку",
    "списка рассылки",
    "списка",
    "этой рассылки",
    "вашей рассылки",
    "вашего списка",
    "этого списка",
    "ваших рассылок",
    "новостной рассылки",
)
_RU_TARGET = rf"(?:{_RU_PLEASE}\s+)?(?:{_any('от', 'из', 'с')}\s+)?{_RU_MAILING}"
_RU_VERBS = (
    rf"(?:{_any('отпишите', 'удалите', 'исключите', 'уберите', 'отписать', 'удалить', 'исключить')}"
    rf"\s+{_RU_ME}"
    rf"|(?:я\s+)?{_any('хочу', 'хотел бы', 'хотела бы', 'прошу')}\s+"
    rf"{_any('отписаться', 'отписать меня', 'удалить меня')}"
    rf"|{_any('отписаться', 'отписка', 'отписать', 'стоп')}"
    rf"|{_any('больше не присылайте', 'не присылайте больше', 'прекратите присылать')}"
    rf"(?:\s+{_any('мне', 'писем', 'письма')})*"
    rf"|{_any('прекратите рассылку', 'не хочу получать', 'больше не хочу получать')}"
    rf"(?:\s+{_any('эту рассылку', 'ваши письма', 'письма', 'рассылку')})?)"
)
_RU_TAIL = rf"(?:\s+{_any('пожалуйста', 'спасибо', 'заранее спасибо', 'срочно')})*"
_RU = rf"(?:{_RU_PLEASE}\s+)*{_RU_VERBS}(?:\s+{_RU_TARGET})?{_RU_TAIL}"

# Japanese ---------------------------------------------------------------------------------------
_JA_WHAT = _any(
    "メールマガジン", "メルマガ", "ニュースレター", "メール", "本メール", "今後のメール"
)
_JA_STOP = _any(
    "配信停止",
    "配信解除",
    "登録解除",
    "購読解除",
    "購読停止",
    "配信を停止",
    "配信を解除",
    "登録を解除",
    "購読を解除",
    "購読を停止",
    "退会",
)
_JA_ASK = _any(
    "をお願いします",
    "をお願いいたします",
    "をお願い致します",
    "お願いします",
    "お願いいたします",
    "希望です",
    "希望します",
    "を希望します",
    "してください",
    "して下さい",
    "してくださいませ",
    "をしてください",
    "願います",
    "ください",
    "をお願い申し上げます",
)
_JA = (
    rf"(?:{_JA_WHAT}{_S}{_any('の', 'は')}{_S})?{_JA_STOP}(?:{_S}{_JA_ASK})?"
    rf"|(?:{_any('今後', 'もう')}{_S})?{_any('送らないでください', '送信しないでください')}"
)

# Chinese (simplified and traditional) -----------------------------------------------------------
_ZH_PLEASE = _any("请", "請", "麻烦", "麻煩", "请帮我", "請幫我", "帮我", "幫我")
_ZH_LIST = _any(
    "邮件列表", "郵件列表", "列表", "名单", "名單", "订阅列表", "訂閱列表", "邮件名单", "郵件名單"
)
_ZH = (
    rf"(?:{_ZH_PLEASE}{_S})?{_any('退订', '退訂', '取消订阅', '取消訂閱', '退订邮件', '退訂郵件')}"
    rf"|(?:{_ZH_PLEASE}{_S})?{_any('将我', '把我', '將我')}{_S}{_any('从', '從')}{_S}{_ZH_LIST}"
    rf"{_S}{_any('中', '里', '裡')}?{_S}{_any('删除', '刪除', '移除', '去掉')}"
    rf"|(?:{_ZH_PLEASE}{_S})?{_any('不要再', '别再', '別再')}{_S}{_any('给我', '給我')}?{_S}"
    rf"{_any('发', '發', '寄')}{_S}{_any('邮件', '郵件', '信', '了')}?{_S}{_any('了')}?"
)
_ZH_TAIL = rf"(?:{_S}{_any('谢谢', '謝謝', '多谢', '多謝', '谢谢你', '谢谢您')})*"

OPT_OUT = re.compile(rf"^(?:{_RU}|(?:{_JA}){_S}|(?:{_ZH}){_ZH_TAIL})$")

# Politeness alone: a greeting, thanks, a closing.
POLITE = re.compile(
    "^"
    + _any(
        "здравствуйте",
        "добрый день",
        "доброе утро",
        "добрый вечер",
        "спасибо",
        "спасибо большое",
        "заранее спасибо",
        "с уважением",
        "всего доброго",
        "お世話になっております",
        "お世話になります",
        "よろしくお願いします",
        "よろしくお願いいたします",
        "宜しくお願い致します",
        "ありがとうございます",
        "以上",
        "谢谢",
        "謝謝",
        "多谢",
        "您好",
        "你好",
        "此致",
        "此致敬礼",
        "祝好",
    )
    + "$"
)

# A closing that ends the message: what follows is the signature.
CLOSING = re.compile(
    "^"
    + _any(
        "с уважением",
        "всего доброго",
        "всего наилучшего",
        "よろしくお願いします",
        "よろしくお願いいたします",
        "宜しくお願い致します",
        "よろしくお願い致します",
        "以上",
        "此致",
        "此致敬礼",
        "祝好",
        "顺祝商祺",
        "順祝商祺",
    )
)
