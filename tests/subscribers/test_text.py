"""The one control-character class and cleaner, used by subscribers and by the mailer's headers
and forms alike."""

from __future__ import annotations

import pytest

from mailer.headers import clean_header_text
from subscribers.errors import InvalidInput
from subscribers.lifecycle import clean_tags, clean_text
from subscribers.text import has_control_characters, one_line


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
