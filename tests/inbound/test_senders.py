"""Where answers to a reply go, and when the partner is warned (mailer/inbound/senders.py): pure
functions, no database."""

from __future__ import annotations

from mailer.inbound.senders import answers_go_to, caution, head_of, same_mailbox, sent_from


def test_one_mailbox_is_recognised_however_it_is_written() -> None:
    assert same_mailbox("Jose.Rivera1+news@Example.ORG", "jose.rivera1@example.org")
    assert same_mailbox("j.o.se@googlemail.com", "jose@gmail.com")
    assert not same_mailbox("jose.rivera@example.org", "jose.rivera1@example.org")


def test_answers_go_to_the_reply_to_and_a_crafted_name_stays_a_name() -> None:
    head = head_of(
        b"From: =?utf-8?q?Jos=C3=A9_Rivera=0D=0ABcc=3A_x=40evil=2Eexample?= <jose@example.org>"
        b"\r\nReply-To: Jos\xc3\xa9 Rivera <inbox@elsewhere.example>\r\n\r\nhi\r\n"
    )
    assert answers_go_to(head) == ("José Rivera", "inbox@elsewhere.example")
    assert sent_from(head)[1] == "jose@example.org"


def test_the_caution_names_where_answers_go_and_whose_address_is_on_file() -> None:
    said = caution(
        "inbox@elsewhere.example",
        on_file="jose@example.org",
        on_file_name="José Rivera",
        from_address="jose@example.org",
    )
    assert said.startswith(
        "Caution: replies to this message go to inbox@elsewhere.example, not to the address we "
        "have on file for José Rivera (jose@example.org)."
    )
    same = caution(
        "Jose+x@Example.org", on_file="jose@example.org", on_file_name="", from_address=""
    )
    assert same == ""


def test_with_no_reader_on_file_a_reply_to_away_from_the_from_is_cautioned() -> None:
    """The reader was erased: nothing on file, but answers leaving the From still warn."""
    said = caution(
        "inbox@elsewhere.example", on_file="", on_file_name="", from_address="jose@example.org"
    )
    assert "not to the address it was sent from (jose@example.org)" in said
    assert caution("jose@example.org", on_file="", on_file_name="", from_address="jose@x.org")
    assert not caution("jose@x.org", on_file="", on_file_name="", from_address="Jose@X.org")


def test_an_encoded_name_with_raw_specials_stays_one_name_over_its_own_address() -> None:
    """Sloppy encoders (and forgers) leave ":", "@" or "," unencoded inside an encoded word; mail
    clients read the word as the name all the same, so answers go to the address after it."""
    head = head_of(
        b"From: =?utf-8?Q?Eve=0D=0ABcc:_victim@evil.example?= <eve@example.org>\r\n"
        b"Subject: hi\r\n\r\nhi\r\n"
    )
    name, address = answers_go_to(head)
    assert address == "eve@example.org"
    assert "\r" not in name and "\n" not in name and name.startswith("Eve")
    head = head_of(b"From: =?iso-8859-1?Q?M=FCller, Hans?= <hans@example.de>\r\n\r\nhi\r\n")
    assert answers_go_to(head) == ("Müller, Hans", "hans@example.de")
