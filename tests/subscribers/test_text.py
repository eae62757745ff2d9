"""The one control-character class and cleaner, used by subscribers and by the mailer's headers
and forms alike."""

from __future__ import annotations

import pytest

from mailer.headers import clean_header_text
from subscribers.errors import InvalidInput
from subscribers.lifecycle import clean_tags, clean_text
from subscribers.text import has_control_characters, one_line, without_format_characters


@pytest.mark.parametrize(
    "char", ["\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9b", "\u2028", "\u2029"]
)
def test_every_layer_sees_the_same_control_characters(char: str) -> None:
    assert has_control_characters(f"Ann{char}Smith")
    assert one_line(f"Ann{char}Smith") == "Ann Smith"
    assert clean_header_text(f"Ann{char}Bcc: x@example.com") == "Ann Bcc: x@example.com"
    with pytest.raises(InvalidInput, match="control character"):
        clean_tags([f"vip{char}x"])


def test_names_in_any_script_are_not_control_characters() -> None:
    for name in ("Zoë Ångström", "Łukasz Żółw", "山田 太郎", "O'Brien-Smith"):
        assert not has_control_characters(name)
        assert one_line(f"  {name}  ") == name


def test_one_line_cuts_after_cleaning() -> None:
    assert one_line("a\r\n\r\nb  c", 3) == "a b"


def test_a_line_break_in_a_name_becomes_a_space_but_escape_is_refused() -> None:
    assert clean_text("Ann\r\nSmith\u2028Jr", "name", 200) == "Ann Smith Jr"
    with pytest.raises(InvalidInput, match="name contains a control character"):
        clean_text("Ann\x1b[31mSmith", "name", 200)
    with pytest.raises(InvalidInput, match="name contains a control character"):
        clean_text("Ann\x9bSmith", "name", 200)


# A right-to-left override, a zero-width space, joiner and non-joiner, a byte-order mark,
# left-to-right and right-to-left marks, an isolate and its end.
INVISIBLE = "\u202e\u200b\u200d\u200c\ufeff\u200e\u200f\u2067\u2069"


def test_invisible_format_characters_leave_a_name() -> None:
    """A bidi override makes `Ana\u202emoc.live@` read as `Ana@evil.com`; zero-width characters
    make two different names look the same. Dropped where every door cleans a name."""
    assert clean_text(f"Ana{INVISIBLE} López", "name", 200) == "Ana López"
    assert clean_text("\u202egnp.exe", "company", 200) == "gnp.exe"
    assert clean_text(INVISIBLE, "name", 200) == ""
    assert clean_tags(["cli\u200bent", "client"]) == ["client"]
    # The joiners stay where a script needs them: Persian, Devanagari, an emoji sequence.
    for name in ("می\u200cخواهم", "क्\u200dष", "👩\u200d💻 Ana"):
        assert clean_text(name, "name", 200) == name
    assert without_format_characters("Ana\u200d López") == "Ana López"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "subscribed from Miranda Delphi Solutions, S.C",
            "subscribed from Miranda Delphi Solutions, S.C.",
        ),
        (
            "subscribed from Miranda Delphi Solutions, S.C.",
            "subscribed from Miranda Delphi Solutions, S.C.",
        ),
        ("An email address must have an @-sign.", "An email address must have an @-sign."),
        ("Is it an address?", "Is it an address?"),
        ("Wait…", "Wait…"),
        ('He said "stop."', 'He said "stop."'),
        ("Northgate Advisory, LLP  ", "Northgate Advisory, LLP."),
    ],
)
def test_a_sentence_ends_with_one_full_stop_whatever_its_last_name_ends_with(
    text: str, expected: str
) -> None:
    from subscribers.text import sentence

    assert sentence(text) == expected
