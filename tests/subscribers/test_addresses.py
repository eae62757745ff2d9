"""Address canonical form and the keyed hash: what makes two spellings one subscriber."""

from __future__ import annotations

import re

import pytest

from subscribers.addresses import (
    address_hash,
    hash_canonical,
    mailbox_key,
    normalize,
    parse_address,
)
from subscribers.errors import InvalidAddress

KEY = "test-key-" + "k" * 32


def test_case_and_surrounding_spaces_do_not_make_a_second_subscriber() -> None:
    assert normalize("  MIXED.Case@Example.COM ") == "mixed.case@example.com"
    assert normalize("mixed.case@example.com") == "mixed.case@example.com"


def test_the_domain_is_stored_apart_for_domain_segments() -> None:
    address = parse_address("Ana.Lopez@Gob.MX")
    assert (address.email, address.domain) == ("ana.lopez@gob.mx", "gob.mx")


def test_an_idna_domain_has_one_canonical_unicode_form_whichever_way_it_is_written() -> None:
    assert normalize("user@bücher.DE") == "user@bücher.de"
    assert normalize("user@xn--bcher-kva.de") == "user@bücher.de"
    assert parse_address("user@XN--BCHER-KVA.de").domain == "bücher.de"


def test_plus_and_apostrophe_addresses_are_accepted_as_written() -> None:
    assert normalize("o'brien+news@example.ie") == "o'brien+news@example.ie"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("evil@example.com\r\nBcc: victim@example.org", "line break (CR/LF)"),
        ("evil@example.com\nBcc: victim@example.org", "line break (CR/LF)"),
        ("first last@example.com", "contains a space"),
        ("a\tb@example.com", "contains a space"),
        ("ab\x00c@example.com", "control character (U+0000)"),
        ("ab\u200bc@example.com", "control character (U+200B)"),
        ("", "missing email address"),
        ("   ", "missing email address"),
        ("not-an-email", "must have an @-sign"),
        ("a..b@example.com", "two periods in a row"),
        ("user@localhost", "It should have a period"),
    ],
)
def test_unusable_addresses_are_refused_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        normalize(raw)
    assert reason in str(info.value)


def test_the_keyed_hash_is_the_same_for_every_spelling_and_depends_on_the_key() -> None:
    one = address_hash("Mixed.Case@Example.COM", KEY)
    assert re.fullmatch(r"[0-9a-f]{64}", one)
    assert address_hash(" mixed.case@example.com", KEY) == one
    assert hash_canonical("mixed.case@example.com", KEY) == one
    assert address_hash("mixed.case@example.com", KEY + "x") != one
    assert address_hash("other@example.com", KEY) != one


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("Victim+news@Example.com", "victim@example.com"),
        ("first.last@example.com", "first.last@example.com"),  # dots matter at most providers
        ("v.ictim@gmail.com", "victim@gmail.com"),
        ("V.I.C.T.I.M+x@GoogleMail.com", "victim@gmail.com"),
        ("vic.tim@googlemail.com", "victim@gmail.com"),
    ],
)
def test_the_mailbox_key_names_the_inbox_an_address_reaches(spelling: str, key: str) -> None:
    assert mailbox_key(spelling) == key
