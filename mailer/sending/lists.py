"""A mailing list as sending sees it: one that campaigns refer to cannot be deleted.

The admin's delete button and `mailer list delete` both call `delete_list` here, so the refusal
and the words of its answer are the same at every door."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.sending.models import Campaign
from subscribers import lists
from subscribers.errors import InvalidInput
from subscribers.models import MailingList
from subscribers.text import counted


def campaigns_of(session: Session, list_id: int) -> int:
    """How many campaigns (of any status, cancelled included) were created for the list."""
    return int(session.scalar(select(func.count()).where(Campaign.list_id == list_id)) or 0)


def delete_list(session: Session, slug: str) -> lists.ListDeletion:
    """Delete a list with its subscriptions and saved segments (the people stay). Refused
    (`check_deletable`) while campaigns refer to it. NotFound for an unknown slug. The caller
    commits."""
    mlist = lists.get_list(session, slug)
    check_deletable(session, mlist)
    return lists.delete_list(session, mlist.slug)


def check_deletable(session: Session, mlist: MailingList) -> None:
    """InvalidInput when campaigns (any, a cancelled one too) refer to the list: their figures,
    reports and archive links need it. A door that asks for confirmation checks first."""
    sent = campaigns_of(session, mlist.id)
    if sent:
        raise InvalidInput(
            f"list {mlist.slug} has {counted(sent, 'campaign')}, whose figures and archive refer "
            "to it: it cannot be deleted (rename it instead); nothing was deleted"
        )
