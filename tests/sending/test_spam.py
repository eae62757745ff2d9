"""SpamAssassin's verdict on a composed issue, with local rules only (no network tests here).

Bayes and auto-learning are off and HOME is a scratch folder (see `run_spamassassin`), so the
result does not depend on, or change, anyone's SpamAssassin state.

CI installs spamassassin; without it this test fails (it is a deliverability gate, not optional).
"""

from __future__ import annotations

import shutil

import pytest

from mailer.content.document import IssueContent
from mailer.rendering.email_edition import RenderedIssue
from mailer.rendering.preflight import SpamResult, run_spamassassin
from mailer.sending.compose import Composer
from mailer.settings import Settings
from tests.sending.test_compose import (  # noqa: F401  (module-scoped fixtures reused)
    campaign_info,
    compose_settings,
    content,
    rendered,
)

MAX_SCORE = 1.0


def spamassassin(message: bytes) -> SpamResult:
    if shutil.which("spamassassin") is None:
        pytest.fail(
            "spamassassin is not installed: install it (Debian: apt-get install spamassassin) — "
            "CI does; this deliverability check is not optional"
        )
    result = run_spamassassin(message)
    assert result is not None
    return result


def test_composed_issue_scores_low(
    rendered: RenderedIssue,  # noqa: F811
    content: IssueContent,  # noqa: F811
    compose_settings: Settings,  # noqa: F811
) -> None:
    composer = Composer(rendered, campaign_info(content), compose_settings)
    out = composer.compose(501, "ana.lopez@client.example.mx", "Ana López")
    result = spamassassin(out.data)
    score, rules, details = result.score, result.rules, result.report
    print(f"SpamAssassin score {score}; rules: {', '.join(rules)}\n{details}")
    assert score < MAX_SCORE, details
    # Spam-typical rules about the message's structure must not hit.
    bad = {"MIME_HTML_ONLY", "MISSING_MID", "MISSING_DATE", "MISSING_FROM", "MISSING_SUBJECT"}
    assert not bad & set(rules), rules
    assert not [r for r in rules if r.startswith(("HTML_IMAGE", "MIME_QP_LONG", "PDS_"))], rules
