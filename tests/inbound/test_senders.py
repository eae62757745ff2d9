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
