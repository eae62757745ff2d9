"""The one sample-reader preview (admin issue page, `mailer issue preview`, `mailer demo`)."""

from __future__ import annotations

import re

from mailer.content.briefing import parse_briefing
from mailer.rendering.preview import SAMPLE_EMAIL, preview_email
from mailer.settings import Settings
from tests.conftest import BRIEFING


def test_the_preview_is_the_email_for_the_sample_reader_with_no_working_token() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        public_url="https://news.example.com",
        postal_address="1 Example Street, Example City",
        secret_key="test-secret-key-" + "x" * 32,
    )
    content = parse_briefing(BRIEFING.read_text(encoding="utf-8"), path=str(BRIEFING))
    html, text = preview_email(content, settings)
    for part in (html, text):
        assert SAMPLE_EMAIL in part
        assert content.items[0].headline.split()[0] in part
        links = set(re.findall(r"https://news\.example\.com/u/[^\s\"<]*", part))
        assert links == {"https://news.example.com/u/preview"}
    assert "[[%" not in html and "[[%" not in text  # every per-recipient value is filled
