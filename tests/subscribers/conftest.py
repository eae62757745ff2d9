"""Fixtures the subscribers tests share."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from subscribers.lists import create_list
from subscribers.models import MailingList


@pytest.fixture
def weekly(session: Session) -> MailingList:
    """An empty list, `weekly`, committed."""
    mlist = create_list(session, "weekly", "Weekly Briefing")
    session.commit()
    return mlist
