"""The issue's link table: every link a reader can follow, numbered once per campaign.

Click tracking never puts a URL in a token. The renderer numbers the issue's links (each item's
source, the archive, the PDF edition, "More information") in a table stored with the campaign's
rendering; a tracked link names only a delivery and an index into that table, so no token,
however it is made, can send a reader anywhere the issue does not link to.

Templates mark a link with `track(url, kind, item, label)`. While rendering stage one that call
returns the URL wrapped in two letter-only sentinels (they survive MJML and premailer like the
other per-recipient fields); `second_stage` turns them into a choice the per-recipient template
makes: the reader's signed redirect when the message is tracked, else the URL exactly as stage
one rendered it (previews, the web edition, readers who opted out, MAILER_TRACK_CLICKS=false).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from mailer.rendering.errors import RenderError
from mailer.tokens import LINK_SLOTS

SENTINEL_PREFIX = "QxPersonalField"  # shared with email_edition's sentinels (same guards)
_DIGITS = "ABCDEFGHIJKLMNOP"  # an index in base 16, as letters
_END = f"{SENTINEL_PREFIX}LinkEndQx"
_MARKED = re.compile(rf"{SENTINEL_PREFIX}Link([A-P]+)Qx(.*?){_END}", re.S)
MARKED_LINK = _MARKED  # a link as stage one marks it: group 2 is its URL

KINDS = ("item", "archive", "pdf", "more", "other")


@dataclass(frozen=True)
class Link:
    """One link of the issue: where it goes and what it is (reports group clicks by item)."""

    url: str
    kind: str  # one of KINDS
    item: int | None = None  # the item's number (1-based) for kind "item"
    label: str = ""  # what reports show: the item's headline, "PDF edition"…

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Link:
        return cls(
            url=str(data["url"]),
            kind=str(data["kind"]),
            item=int(data["item"]) if data.get("item") is not None else None,
            label=str(data.get("label", "")),
        )


def _letters(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 16)
        out = _DIGITS[r] + out
        if not n:
            return out


def _number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 16 + _DIGITS.index(ch)
    return n


class LinkTable:
    """Collects the links a rendering marks; a template calls it as `track(…)`.

    Disabled (MAILER_TRACK_CLICKS=false), it returns every URL unchanged and collects nothing,
    so the rendering is exactly the untracked one."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.links: list[Link] = []
        self._index: dict[tuple[str, str, int | None], int] = {}

    def __call__(
        self, url: str, kind: str = "other", item: int | None = None, label: str = ""
    ) -> str:
        if not self.enabled or not url:
            return url
        if kind not in KINDS:
            raise RenderError(f"track(): unknown link kind {kind!r} (one of {', '.join(KINDS)})")
        key = (url, kind, item)
        index = self._index.get(key)
        if index is None:
            index = len(self.links)
            if index >= LINK_SLOTS:
                raise RenderError(f"the issue has more than {LINK_SLOTS} links to track")
            self._index[key] = index
            self.links.append(Link(url=url, kind=kind, item=item, label=label))
        return f"{SENTINEL_PREFIX}Link{_letters(index)}Qx{url}{_END}"


def second_stage(rendered: str) -> str:
    """Marked links → `links[N]` when the message is tracked, else the URL as rendered."""

    def choice(m: re.Match[str]) -> str:
        n = _number(m.group(1))
        return f"[[@ if links @]][[% links[{n}] %]][[@ else @]]{m.group(2)}[[@ endif @]]"

    return _MARKED.sub(choice, rendered)
