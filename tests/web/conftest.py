"""Fixtures the web tests share: the fixture newsroom with an editor account to sign in with. A
module that needs another newsroom (tests/web/test_admin_hostile.py: a smaller upload limit)
defines its own `room`."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.settings import Settings
from tests.builders import Newsroom, newsroom
from tests.web_support import EDITOR_PASSWORD


@pytest.fixture
def room(session: Session, settings: Settings) -> Newsroom:
    """The fixture newsroom, and editor@example.com with EDITOR_PASSWORD."""
    room = newsroom(session, settings)
    accounts.create_user(session, "editor@example.com", EDITOR_PASSWORD)
    session.commit()
    return room
