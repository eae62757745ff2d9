"""File names from data (mailer/filenames.py): one cleaning rule for other people's names
(`download_name`, an inquiry's attachments) and, built on it, for ours (`file_name`, the PDF
edition's name as a preview file and an attachment's filename)."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.filenames import MAX_DOWNLOAD_NAME, download_name, file_name, file_name_problem

# Names an attacker (or a careless paste) would try: separators, dots, controls, bidi, private use.
HOSTILE = st.text(
    alphabet=st.one_of(
        st.characters(), st.sampled_from(list('/\\.:*?"<>| -\x00\r\n\x85\u2028\u202e\u200b\ue000'))
    ),
    max_size=300,
)


@given(HOSTILE)
@settings(max_examples=300)
def test_our_file_name_is_always_one_the_import_rule_accepts(name: str) -> None:
    assert file_name_problem(file_name(name)) is None


@given(HOSTILE)
@settings(max_examples=300)
def test_a_download_name_is_one_short_visible_path_component(name: str) -> None:
    shown = download_name(name, "attachment-1")
    assert "/" not in shown and "\\" not in shown
    assert not shown.startswith((".", " ")) and not shown.endswith((".", " "))
    assert all(c == " " or not unicodedata.category(c).startswith(("C", "Z")) for c in shown)
    assert 0 < len(shown) <= MAX_DOWNLOAD_NAME


def test_a_sender_name_loses_private_use_and_unassigned_code_points() -> None:
    """They show as nothing, or as whatever a later Unicode assigns them: the same rule as for
    our own names, which import refuses with them."""
    assert download_name("in\ue000forme\U000e0fff.pdf", "attachment-1") == "informe.pdf"


def test_a_control_character_in_our_stored_name_keeps_the_words_apart() -> None:
    """The control character becomes a space, as in a sender's name, rather than gluing the
    words on either side together."""
    assert file_name("Security\nChatter\x00April.pdf") == "Security Chatter April.pdf"


def test_our_file_name_is_normalised_like_a_sender_name() -> None:
    assert file_name("Informe an\u0303o.pdf") == "Informe a\u00f1o.pdf"


def test_a_stored_path_stays_readable_in_our_name_but_is_cut_to_its_base_in_a_sender_name() -> None:
    assert file_name("../../tmp/trial_pwned.pdf") == "tmp-trial_pwned.pdf"
    assert download_name("../../tmp/trial_pwned.pdf", "attachment-1") == "trial_pwned.pdf"
