"""Test copies: "[TEST]" messages of an issue to named addresses only.

No campaign and no delivery row: the issue is rendered afresh and each copy carries a token signed
for its own purpose, so a test copy can never pass for a real delivery in a reply or an
unsubscribe (see `Composer.token`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from mailer.content.issues import content_of
from mailer.content.models import Issue
from mailer.db import get_sessionmaker
from mailer.errors import MailerError
from mailer.rendering.email_edition import render_issue
from mailer.sending.compose import CampaignInfo, Composer, new_test_send
from mailer.sending.transport import Reply, make_transport
from mailer.settings import get_settings

MAX_TEST_ADDRESSES = 10
_SEPARATORS = re.compile(r"[,;\n]")


def split_test_addresses(values: Iterable[str]) -> list[str]:
    """The addresses of a test send as typed at either door: the admin's one field or the CLI's
    repeated --test, each value holding one address or several separated by commas, semicolons
    or lines ("a@x.com, b@x.com"). Not validated here (each door names a bad one its way).

    Raises MailerError for none at all or more than MAX_TEST_ADDRESSES."""
    wanted = [a.strip() for value in values for a in _SEPARATORS.split(value)]
    wanted = [a for a in wanted if a]
    if not wanted:
        raise MailerError("give at least one address for the test copy")
    if len(wanted) > MAX_TEST_ADDRESSES:
        raise MailerError(f"at most {MAX_TEST_ADDRESSES} test addresses at a time")
    return wanted


def send_test_copies(
    issue_id: int, addresses: list[str], *, web_edition: bool = True
) -> dict[str, Reply]:
    """ "[TEST]" copies of an issue to named addresses only; no campaign, no delivery row.
    `web_edition` false: as a private list's campaign would send it (no link to the archive)."""
    settings = get_settings()
    factory = get_sessionmaker()
    with factory() as session:
        issue = session.get(Issue, issue_id)
        if issue is None:
            raise MailerError(f"no issue with id {issue_id}")
        info = CampaignInfo.for_issue(
            issue, list_slug="test", list_name=f"{issue.newsletter} (test)"
        )
        rendered = render_issue(replace(content_of(issue), web_edition=web_edition), settings)
    composer = Composer(rendered, info, settings)
    composer.test_send = new_test_send()  # this send's copies are new messages, not repeats
    results: dict[str, Reply] = {}
    transport = make_transport(settings.smtp_url)
    try:
        for n, addr in enumerate(addresses):
            message = composer.compose(n, addr, "", test=True)
            results[addr] = transport.send(message)[message.recipients[0]]
    finally:
        transport.close()
    return results
