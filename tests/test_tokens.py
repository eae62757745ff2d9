"""Delivery tokens against a forger, a mail server that changes case, and a key rotation."""

from __future__ import annotations

import re
import string

import pytest

from mailer import tokens
from mailer.errors import TokenError
from mailer.settings import Settings
from mailer.tokens import (
    bounce_address,
    delivery_token,
    parse_address,
    parse_delivery_token,
    reply_address,
    sign,
    unsubscribe_address,
    verify,
)

KEY = "k1-" + "a" * 40
OLD = "k0-" + "b" * 40


@pytest.mark.parametrize("delivery_id", [0, 1, 35, 36, 12345, 2**31 - 1, 10**12])
def test_round_trip(delivery_id: int) -> None:
    token = delivery_token(delivery_id, KEY)
    assert parse_delivery_token(token, [KEY]) == delivery_id


def test_only_lowercase_letters_digits_and_one_separator_at_most_30_chars() -> None:
    for delivery_id in (0, 7, 10**6, 10**9, 10**12):
        token = delivery_token(delivery_id, KEY)
        assert len(token) <= 30, token
        assert re.fullmatch(r"[a-z0-9]+-[a-z0-9]+", token), token


def test_every_single_character_alteration_is_rejected() -> None:
    token = delivery_token(987654321, KEY)
    replacements = string.ascii_lowercase + string.digits + "-_.+=/ "
    tried = 0
    for pos, original in enumerate(token):
        for ch in replacements:
            if ch == original:
                continue
            altered = token[:pos] + ch + token[pos + 1 :]
            with pytest.raises(TokenError):
                parse_delivery_token(altered, [KEY])
            tried += 1
    assert tried == len(token) * (len(replacements) - 1)


def test_truncated_extended_and_malformed_tokens_are_rejected() -> None:
    token = delivery_token(42, KEY)
    for bad in [token[:-1], token[1:], token + "a", "a" + token, "", "-", token.replace("-", "")]:
        with pytest.raises(TokenError):
            parse_delivery_token(bad, [KEY])
    # The same id with a leading zero is not the same token.
    with pytest.raises(TokenError):
        parse_delivery_token("0" + token, [KEY])


def test_upper_cased_token_is_accepted() -> None:
    token = delivery_token(5551212, KEY)
    assert parse_delivery_token(token.upper(), [KEY]) == 5551212
    assert parse_delivery_token(token.title(), [KEY]) == 5551212


def test_previous_secret_is_accepted_unknown_secret_rejected() -> None:
    old_token = delivery_token(77, OLD)
    assert parse_delivery_token(old_token, [KEY, OLD]) == 77
    with pytest.raises(TokenError):
        parse_delivery_token(old_token, [KEY])
    with pytest.raises(TokenError):
        parse_delivery_token(delivery_token(77, "someone-else"), [KEY, OLD])


def test_settings_rotation(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Tokens minted under the old MAILER_SECRET_KEY verify once it moves to the previous keys."""
    monkeypatch.chdir(tmp_path)
    before = Settings(secret_key=OLD)
    token = delivery_token(9, before.secret())
    after = Settings(secret_key=KEY, previous_secret_keys=[OLD])
    assert parse_delivery_token(token, after.verification_secrets()) == 9
    with pytest.raises(TokenError):
        parse_delivery_token(token, Settings(secret_key=KEY).verification_secrets())


def test_purposes_are_separated() -> None:
    """A delivery token cannot be replayed as a token for another purpose, and vice versa."""
    token = delivery_token(3, KEY)
    with pytest.raises(TokenError):
        verify("confirm", token, [KEY])
    with pytest.raises(TokenError):
        parse_delivery_token(sign("confirm", 3, KEY), [KEY])


def test_bytes_payload_round_trip_and_type_separation() -> None:
    payload = (12345).to_bytes(4, "big") + (1_800_000_000).to_bytes(5, "big")
    token = sign("confirm", payload, KEY)
    assert re.fullmatch(r"[a-z2-7]+-[a-z2-7]{16}", token)
    assert verify("confirm", token, [KEY], "bytes") == payload
    assert verify("confirm", token.upper(), [KEY], "bytes") == payload
    with pytest.raises(TokenError):
        verify("confirm", token, [KEY], "int")


def test_addresses_build_and_parse() -> None:
    token = delivery_token(1001, KEY)
    domain = "news.example.com"
    assert reply_address(token, domain) == f"reply+{token}@{domain}"
    assert bounce_address(token, domain) == f"bounces+{token}@{domain}"
    assert unsubscribe_address(token, domain) == f"unsubscribe+{token}@{domain}"
    assert parse_address(f"bounces+{token}@{domain}") == ("bounces", token)
    # A server that upper-cases the whole address, and angle brackets from an SMTP envelope.
    assert parse_address(f"<REPLY+{token.upper()}@NEWS.EXAMPLE.COM>", domain) == ("reply", token)
    kind, parsed = parse_address(unsubscribe_address(token, domain), domain)
    assert (kind, parse_delivery_token(parsed, [KEY])) == ("unsubscribe", 1001)


@pytest.mark.parametrize(
    "addr",
    [
        "postmaster@news.example.com",
        "reply@news.example.com",
        "reply+@news.example.com",
        "other+abc-def@news.example.com",
        "bounces+abc-def@evil.example.org",
        "no-at-sign",
    ],
)
def test_foreign_addresses_are_refused(addr: str) -> None:
    with pytest.raises(TokenError):
        parse_address(addr, "news.example.com")


def test_minter_makes_the_same_tokens_as_sign_and_click_tokens_round_trip() -> None:
    minter = tokens.Minter(tokens.CLICK, "k" * 40)
    for n in (0, 1, 255, 256, 10**9 * 256 + 7):
        assert minter.sign(n) == tokens.sign(tokens.CLICK, n, "k" * 40)
    token = minter.sign(tokens.click_payload(12345, 8))
    assert tokens.parse_click_token(token.upper(), ["old-key", "k" * 40]) == (12345, 8)
    # A click token is no delivery token, and the reverse.
    with pytest.raises(TokenError):
        tokens.parse_delivery_token(token, ["k" * 40])
    with pytest.raises(TokenError):
        tokens.parse_click_token(tokens.delivery_token(12345 * 256 + 8, "k" * 40), ["k" * 40])
    assert len(token) <= 30


def test_the_mac_text_is_standard_base32() -> None:
    import base64
    import random

    from mailer.tokens import _mac_text

    rng = random.Random(13)
    for _ in range(2000):
        mac = rng.randbytes(32)
        assert _mac_text(mac) == base64.b32encode(mac[:10]).decode().rstrip("=").lower()


# A delivery's Message-ID is the proof a bounce or complaint is about the message we sent: the
# tokens above are in the reader's mail for anyone to copy; the Message-ID is signed the same way.
DOMAIN = "news.example.com"


def test_a_delivery_message_id_names_its_delivery_and_matches_per_campaign_signing() -> None:
    mid = tokens.delivery_message_id(7, 12345, KEY, DOMAIN)
    assert re.fullmatch(r"<c7\.d12345\.[a-z2-7]{8}@news\.example\.com>", mid), mid
    assert tokens.MessageIds(7, KEY, DOMAIN).delivery(12345) == mid
    assert tokens.parse_message_id(mid, [KEY]) == 12345
    assert tokens.parse_message_id(mid.upper(), [KEY]) == 12345  # a relay may change case
    assert tokens.parse_message_id(mid.strip("<>"), [KEY]) == 12345


def test_a_message_id_altered_anywhere_or_signed_by_another_key_does_not_verify() -> None:
    mid = tokens.delivery_message_id(7, 12345, KEY, DOMAIN)
    tag = mid.split(".")[2].split("@")[0]
    altered = [
        mid.replace(tag, tag[:-1] + ("a" if tag[-1] != "a" else "b")),  # one character of the MAC
        mid.replace("d12345", "d12346"),  # another delivery, same MAC
        mid.replace("<c7.", "<c8."),  # another campaign
        mid.replace(tag, tag[:7]),  # truncated
        tokens.delivery_message_id(7, 12345, "someone-else", DOMAIN),
        "<c7.t0.abc.aaaaaaaa@news.example.com>",  # a test copy's shape
        "<CAF3x9=abc@mail.gmail.com>",
    ]
    for value in altered:
        assert tokens.parse_message_id(value, [KEY, OLD]) is None, value
    assert tokens.our_message_ids(f"Message-ID: {altered[0]}\r\n", [KEY]) == ()


def test_a_message_id_sent_under_the_previous_key_still_verifies(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.chdir(tmp_path)
    mid = tokens.delivery_message_id(3, 41, Settings(secret_key=OLD).secret(), DOMAIN)
    rotated = Settings(secret_key=KEY, previous_secret_keys=[OLD])
    assert tokens.our_message_ids(f"Message-ID: {mid}", rotated.verification_secrets()) == (41,)
    assert tokens.our_message_ids(f"Message-ID: {mid}", [KEY]) == ()


def test_our_message_ids_are_found_wherever_a_report_carries_the_original() -> None:
    """In a returned message's headers (base64-encoded as some relays send it), in References
    and In-Reply-To, in a DSN's text: each delivery once, in order; a forged one is left out."""
    import base64

    first, second, third = (tokens.delivery_message_id(2, n, KEY, DOMAIN) for n in (5, 6, 7))
    forged = first.replace("d5.", "d9.")
    headers = f"From: news@{DOMAIN}\r\nMessage-ID: {second}\r\nReferences: {forged}\r\n\r\n"
    encoded = base64.encodebytes(headers.encode()).decode()
    report = (
        "From: MAILER-DAEMON@mx.example.org\r\nMIME-Version: 1.0\r\n"
        f"In-Reply-To: {first}\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain\r\n\r\nYour message {third} could not be delivered.\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{encoded}--b--\r\n"
    ).encode()
    assert second not in report.decode()  # only the base64 part holds it
    assert tokens.our_message_ids(report, [KEY]) == (5, 7, 6)
    assert tokens.our_message_ids(report, [OLD]) == ()
