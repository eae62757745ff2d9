"""Fixtures the inbound-mail tests share: the newsroom with a real relay behind it, and an
in-process `mailer inbound` server on the test's database. A test module that needs another
newsroom (tests/inbound/test_bounces.py: no relay, the classify task in-process) defines its own
`room`, and `server` is then built on that one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from mailer.settings import get_settings
from tests.builders import Newsroom, newsroom
from tests.inbound_support import InboundServer
from tests.smtpd import SMTPServer


@pytest.fixture
def room(session: Session, relay: SMTPServer) -> Newsroom:
    """The fixture newsroom, with tasks running in-process against a real SMTP relay."""
    return newsroom(session, get_settings())


@pytest.fixture
def server(room: Newsroom) -> Iterator[InboundServer]:
    """`mailer inbound` listening on a free port, storing into the newsroom's database."""
    with InboundServer(get_settings()) as srv:
        yield srv
