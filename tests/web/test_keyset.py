"""Keyset cursors as the admin's page links carry them (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from mailer.web import keyset


def test_a_cursor_carries_its_key_through_the_url_and_anything_else_is_the_first_page() -> None:
    when = datetime(2026, 11, 30, 22, 45, 1, 123456, tzinfo=UTC)
    for key in [("ana@example.com", 7), (when, 12), ("", 3), (None, 4), ("Ñandú & co", 2**31 - 1)]:
        token = keyset.encode(key)
        assert token.isascii() and "=" not in token and "&" not in token  # safe in a query
        assert keyset.decode(token, 2) == key
    assert keyset.decode(keyset.encode(("a", 1)), 3) is None  # another sort's cursor
    assert keyset.decode("%%%", 2) is None and keyset.decode("", 2) is None
    assert keyset.decode(keyset.encode(({"t": "not a time"}, 1)), 2) is None
    assert keyset.Position.of("garbage", "", "", 2) == keyset.Position()
    assert keyset.Position.of("", "", "last", 2).last
    after = keyset.Position.of(keyset.encode(("b", 2)), "", "", 2)
    assert after.after == ("b", 2) and not after.backwards
