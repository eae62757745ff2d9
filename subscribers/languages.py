"""Subscriber languages: ISO 639-1 two-letter codes.

The 184 codes are those Debian's iso-codes (the data pycountry ships) gives an `alpha_2` in
ISO 639-2; a constant here instead of a dependency because the set changes about once a decade.
"""

from __future__ import annotations

from subscribers.errors import InvalidInput

ISO_639_1: frozenset[str] = frozenset(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi
    ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks
    ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl
    nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl
    sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve
    vi vo wa wo xh yi yo za zh zu
    """.split()  # noqa: SIM905 - 184 codes read better as a block than as a list literal
)


def parse_language(raw: str | None) -> str | None:
    """A language code in lower case, None when empty, InvalidInput when it is not ISO 639-1."""
    code = (raw or "").strip().lower()
    if not code:
        return None
    if code not in ISO_639_1:
        raise InvalidInput(
            f"unknown language {code!r}: use a two-letter ISO 639-1 code such as en or es"
        )
    return code
