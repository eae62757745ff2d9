"""The partner's follow-up digest: who among the readers of their issue engaged, by company.

Some time after a campaign finishes (MAILER_DIGEST_AFTER, 48 h by default) the partner who wrote
the issue gets one email listing the readers who clicked an item, replied, or unsubscribed,
grouped by company, with links to each reader's page in the admin. A reader who opted out of
tracking never appears in it.

Once per campaign and partner, whatever the number of workers and restarts: a `partner_digest`
row, unique per (campaign, partner), is inserted (claimed) before the message is composed and
sent; a worker that finds the row already there does nothing. An error before the relay's answer
gives the claim back; a claim whose process was killed before recording the answer is taken over
after MAILER_STALE_AFTER seconds, by the tick and `mailer digest send` alike, so the only possible
duplicate is a digest that was in flight when its process died.
"""

from __future__ import annotations

import email.policy
import enum
import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.selectable import Exists

from mailer import tokens
from mailer.content.document import long_date
from mailer.content.models import Issue, Partner
from mailer.content.partners import get_partner
from mailer.db import rowcount, utcnow
from mailer.engagement.models import Click, DigestStatus, PartnerDigest
from mailer.engagement.reports import LinkClicks, delivered_of, link_table, unsubscribed_after
from mailer.errors import MailerError
from mailer.headers import check_address, clean_header_text, unstructured
from mailer.inbound.models import Inquiry
from mailer.rendering.environment import TEMPLATE_ROOT, fill_template, template_envs
from mailer.sending.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from mailer.sending.transport import Reply, Transport
from mailer.settings import Settings
from subscribers.models import Subscriber, Subscription
from subscribers.text import without_format_characters

TEXT_TEMPLATE = "digest/digest.txt.j2"
HTML_TEMPLATE = "digest/digest.html.j2"
NO_COMPANY = "(no company on record)"
# Campaigns that finished longer ago than this before their digest fell due get none: an upgrade
# must not mail partners about every campaign of the past.
CATCH_UP = timedelta(days=7)


@dataclass
class Reader:
    """One reader of the issue who did something with it."""

    subscriber_id: int
    name: str
    email: str
    company: str
    clicked: list[str] = field(default_factory=list)  # titles of the links they followed
    replied: int = 0  # inquiries about this campaign
    unsubscribed: bool = False
    admin_url: str = ""


@dataclass
class Digest:
    campaign_id: int
    partner: Partner
    issue_title: str
    issue_date: str
    delivered: int
    companies: dict[str, list[Reader]]  # company → readers, both sorted by name
    campaign_url: str

    @property
    def readers(self) -> int:
        return sum(len(v) for v in self.companies.values())


def _engaged(session: Session, campaign: Campaign, public_url: str) -> dict[int, Reader]:
    """The readers of the campaign who clicked, replied or unsubscribed (not opted out).

    Three set-wise queries, each over the readers who did that one thing: a campaign of tens of
    thousands loads only the few hundred who engaged."""
    readers: dict[int, Reader] = {}
    table = link_table(session, campaign.id)
    theirs = and_(
        Delivery.campaign_id == campaign.id,
        Delivery.status == DeliveryStatus.SENT,
        Subscriber.tracking_opt_out.is_(False),
    )

    def reader(sub: Subscriber) -> Reader:
        if sub.id not in readers:
            readers[sub.id] = Reader(
                subscriber_id=sub.id,
                # Stored before the doors dropped format characters, a name could still hold
                # a bidi override: dropped here too, so the digest shows what is there.
                name=without_format_characters(sub.name or ""),
                email=sub.email or "",
                company=without_format_characters(sub.company).strip() or NO_COMPANY,
                admin_url=f"{public_url}/admin/subscribers/{sub.id}",
            )
        return readers[sub.id]

    for sub, index in session.execute(
        select(Subscriber, Click.link_index)
        .join(Delivery, Delivery.id == Click.delivery_id)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(theirs, Click.human_at.is_not(None))
        .order_by(Click.human_at)
    ):
        if index < len(table):
            link = table[index]
            title = LinkClicks(index, link.kind, link.item, link.label, link.url, 1, 0).title
            reader(sub).clicked.append(title)
    for (sub,) in session.execute(
        select(Subscriber)
        .join(Delivery, Delivery.subscriber_id == Subscriber.id)
        .join(Inquiry, Inquiry.delivery_id == Delivery.id)
        .where(theirs)
        .order_by(Inquiry.id)
    ):
        reader(sub).replied += 1
    for (sub,) in session.execute(
        select(Subscriber)
        .join(Delivery, Delivery.subscriber_id == Subscriber.id)
        .join(
            Subscription,
            and_(
                Subscription.subscriber_id == Subscriber.id,
                Subscription.list_id == campaign.list_id,
            ),
        )
        .where(
            theirs, unsubscribed_after(Delivery.subscriber_id, Delivery.sent_at, campaign.list_id)
        )
    ):
        reader(sub).unsubscribed = True
    return readers


def build_digest(session: Session, campaign_id: int, partner: Partner, public_url: str) -> Digest:
    """Who engaged with the campaign's issue, grouped by company (pure reads)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise MailerError(f"no campaign {campaign_id}; see `mailer campaign list`")
    issue: Issue = campaign.issue
    readers = _engaged(session, campaign, public_url)
    companies: dict[str, list[Reader]] = defaultdict(list)
    for r in readers.values():
        companies[r.company].append(r)
    ordered = {
        company: sorted(people, key=lambda r: (r.name.lower(), r.email))
        for company, people in sorted(
            companies.items(), key=lambda kv: (kv[0] == NO_COMPANY, kv[0].lower())
        )
    }
    sent = (
        session.query(Delivery)
        .filter(Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.SENT)
        .count()
    )
    delivered = delivered_of(session, campaign_id, sent)
    return Digest(
        campaign_id=campaign_id,
        partner=partner,
        issue_title=issue.title,
        issue_date=long_date(issue.issue_date),
        delivered=delivered,
        companies=ordered,
        campaign_url=f"{public_url}/admin/campaigns/{campaign_id}",
    )


def digest_message_id(campaign_id: int, partner_id: int, settings: Settings) -> str:
    tag = tokens.digest("partner-digest", f"{campaign_id}:{partner_id}", settings.secret())
    return f"<digest.c{campaign_id}.p{partner_id}.{tag}@{settings.mail_domain}>"


def render_digest(digest: Digest, settings: Settings) -> tuple[str, str, str]:
    """(subject, text, HTML) of the digest."""
    html_env, text_env = template_envs(str(TEMPLATE_ROOT))
    context = {"d": digest, "firm": settings.firm_name}
    subject = clean_header_text(
        f"Who engaged with {digest.issue_title}: {digest.readers} readers", limit=300
    )
    return (
        subject,
        fill_template(text_env, TEXT_TEMPLATE, context),
        fill_template(html_env, HTML_TEMPLATE, context),
    )


@dataclass(frozen=True)
class DigestMessage:
    envelope_from: str
    recipients: tuple[str, ...]
    data: bytes
    message_id: str


def compose_digest(digest: Digest, settings: Settings, *, when: datetime) -> DigestMessage:
    """The digest as a message to the partner (text and HTML alternatives)."""
    subject, text, html = render_digest(digest, settings)
    firm_name, firm_addr = parseaddr(settings.from_)
    firm_addr = check_address(firm_addr)
    partner_addr = check_address(digest.partner.email)
    message_id = digest_message_id(digest.campaign_id, digest.partner.id, settings)
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = Address(display_name=clean_header_text(firm_name), addr_spec=firm_addr)
    msg["To"] = Address(display_name=clean_header_text(digest.partner.name), addr_spec=partner_addr)
    msg["Subject"] = unstructured(subject, limit=400)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    msg.set_boundary("=_digest_" + hashlib.sha256(message_id.encode()).hexdigest()[:24])
    return DigestMessage(
        envelope_from=firm_addr,
        recipients=(partner_addr,),
        data=msg.as_bytes(policy=email.policy.SMTP),
        message_id=message_id,
    )


def _insert(session: Session) -> postgresql.Insert | sqlite.Insert:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(PartnerDigest)
    return sqlite.insert(PartnerDigest)


def claim(
    session: Session,
    campaign_id: int,
    partner_id: int,
    owner: str,
    *,
    stale_after: float,
    retry_failed: bool = False,
) -> bool:
    """Take the right to send this digest: True for exactly one caller. Commits.

    The row is inserted once (unique per campaign and partner); a claim older than
    `stale_after` seconds whose sender never recorded an answer can be taken over, and with
    `retry_failed` (`mailer digest send`, by hand) so can a digest the relay refused."""
    now = utcnow()
    inserted = session.execute(
        _insert(session)
        .values(
            campaign_id=campaign_id,
            partner_id=partner_id,
            status=DigestStatus.CLAIMED.value,
            claimed_by=owner,
            claimed_at=now,
            message_id="",
            readers=0,
            last_reply="",
        )
        .on_conflict_do_nothing(index_elements=["campaign_id", "partner_id"])
        .returning(PartnerDigest.id)
    )
    taken = inserted.first() is not None  # a row comes back only to the one who inserted
    if not taken:
        stale = and_(
            PartnerDigest.status == DigestStatus.CLAIMED,
            PartnerDigest.claimed_at < now - timedelta(seconds=stale_after),
        )
        takeable = (
            or_(stale, PartnerDigest.status == DigestStatus.FAILED) if retry_failed else stale
        )
        taken = bool(
            rowcount(
                session.execute(
                    update(PartnerDigest)
                    .where(
                        PartnerDigest.campaign_id == campaign_id,
                        PartnerDigest.partner_id == partner_id,
                        takeable,
                    )
                    .values(status=DigestStatus.CLAIMED, claimed_by=owner, claimed_at=now)
                    .execution_options(synchronize_session=False)
                )
            )
        )
    session.commit()
    return taken


def _record(session: Session, campaign_id: int, partner_id: int, **values: object) -> None:
    session.execute(
        update(PartnerDigest)
        .where(PartnerDigest.campaign_id == campaign_id, PartnerDigest.partner_id == partner_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _release(
    sessions: sessionmaker[Session], campaign_id: int, partner_id: int, owner: str
) -> None:
    """Give the claim back (only if it is still `owner`'s): the next try may send at once."""
    with sessions() as session:
        session.execute(
            delete(PartnerDigest).where(
                PartnerDigest.campaign_id == campaign_id,
                PartnerDigest.partner_id == partner_id,
                PartnerDigest.claimed_by == owner,
                PartnerDigest.status == DigestStatus.CLAIMED,
            )
        )
        session.commit()


class Outcome(enum.StrEnum):
    SENT = "sent"  # this call sent it
    ALREADY_SENT = "already sent"  # an earlier one did: nothing to do
    IN_PROGRESS = "in progress"  # another process holds a live claim
    FAILED = "failed"  # the relay refused it (now or before)
    DEFERRED = "deferred"  # the relay could not take it now; the claim was given back
    NOTHING_SENT = "nothing sent"  # no message of the campaign went out: no readers to report


@dataclass(frozen=True)
class DigestResult:
    campaign_id: int
    partner_slug: str
    outcome: Outcome
    readers: int
    detail: str  # the relay's reply, or why nothing was sent and what to do

    @property
    def sent(self) -> bool:
        return self.outcome is Outcome.SENT


def _not_taken(
    session: Session, campaign_id: int, partner: Partner, settings: Settings
) -> DigestResult:
    """Why the claim was not ours, said so that a person knows what to do."""
    row = session.scalar(
        select(PartnerDigest).where(
            PartnerDigest.campaign_id == campaign_id, PartnerDigest.partner_id == partner.id
        )
    )
    if row is not None and row.status == DigestStatus.SENT:
        when = f" on {row.sent_at:%Y-%m-%d %H:%M} UTC" if row.sent_at else ""
        detail = f"already sent to {partner.slug}{when}"
        return DigestResult(campaign_id, partner.slug, Outcome.ALREADY_SENT, row.readers, detail)
    if row is not None and row.status == DigestStatus.FAILED:
        detail = (
            f"refused by the relay: {row.last_reply}; "
            f"`mailer digest send {campaign_id}` tries again"
        )
        return DigestResult(campaign_id, partner.slug, Outcome.FAILED, row.readers, detail)
    since = row.claimed_at if row is not None else utcnow()
    free_at = since + timedelta(seconds=settings.stale_after)
    detail = (
        f"another mailer process has been sending it since {since:%Y-%m-%d %H:%M:%S} UTC; "
        f"if none is running any more (it was stopped before it finished), run "
        f"`mailer digest send {campaign_id}` again from {free_at:%Y-%m-%d %H:%M:%S} UTC "
        f"(MAILER_STALE_AFTER={settings.stale_after:g} s after the claim), or let the periodic "
        "tick send it then"
    )
    return DigestResult(campaign_id, partner.slug, Outcome.IN_PROGRESS, 0, detail)


def send_digest(
    sessions: sessionmaker[Session],
    campaign_id: int,
    settings: Settings,
    transport: Transport,
    *,
    partner_slug: str | None = None,
    retry_failed: bool = False,
) -> DigestResult:
    """Send the campaign's digest to its issue's partner (or `partner_slug`), at most once.

    Takes a session factory, not a session: the claim and the outcome are each committed as
    they happen, in sessions of its own, whatever transaction the caller holds. An error
    between the claim and the relay's answer gives the claim back before it propagates, so
    the next `mailer digest send` or tick tries again at once; only a process killed in that
    window leaves a claim behind, taken over after MAILER_STALE_AFTER seconds by either.
    `retry_failed` (by hand) also sends a digest the relay refused before. Raises MailerError
    for an unknown campaign or partner."""
    with sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise MailerError(f"no campaign {campaign_id}; see `mailer campaign list`")
        partner = get_partner(session, partner_slug) if partner_slug else campaign.issue.partner
        if not session.scalar(select(_any_sent(campaign_id))):
            detail = (
                f"no message of campaign {campaign_id} went out (cancelled or skipped before "
                "any was sent): there is no reader to report on"
            )
            return DigestResult(campaign_id, partner.slug, Outcome.NOTHING_SENT, 0, detail)
        owner = uuid.uuid4().hex[:16]
        stale_after = settings.stale_after
        if not claim(
            session,
            campaign_id,
            partner.id,
            owner,
            stale_after=stale_after,
            retry_failed=retry_failed,
        ):
            return _not_taken(session, campaign_id, partner, settings)
        try:
            digest = build_digest(session, campaign_id, partner, settings.public_url)
            session.commit()  # the reads are done: no transaction held while the relay answers
            message = compose_digest(digest, settings, when=utcnow())
            reply: Reply = transport.send(message)[message.recipients[0]]
        except BaseException:
            session.rollback()
            _release(sessions, campaign_id, partner.id, owner)
            raise
        if reply.accepted:
            _record(
                session,
                campaign_id,
                partner.id,
                status=DigestStatus.SENT,
                sent_at=utcnow(),
                message_id=message.message_id,
                readers=digest.readers,
                last_reply=str(reply)[:500],
            )
            return DigestResult(campaign_id, partner.slug, Outcome.SENT, digest.readers, str(reply))
    if reply.permanent:
        with sessions() as session:
            _record(
                session, campaign_id, partner.id, status=DigestStatus.FAILED, last_reply=str(reply)
            )
        return DigestResult(campaign_id, partner.slug, Outcome.FAILED, digest.readers, str(reply))
    _release(sessions, campaign_id, partner.id, owner)  # the next tick tries again
    return DigestResult(campaign_id, partner.slug, Outcome.DEFERRED, digest.readers, str(reply))


def _any_sent(campaign_id: object) -> Exists:  # an id, or the column of an outer query
    """At least one of the campaign's messages was sent: a digest of a campaign that reached
    nobody (cancelled before its first message, every row skipped) would tell the partner that
    their issue went out."""
    return exists().where(
        Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.SENT
    )


def due_campaigns(session: Session, settings: Settings, now: datetime | None = None) -> list[int]:
    """Finished campaigns that sent something, whose digest delay has passed and whose partner
    has no digest row."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=settings.digest_after)
    stale = now - timedelta(seconds=settings.stale_after)
    pending = (
        select(PartnerDigest.id)
        .join(Issue, Issue.partner_id == PartnerDigest.partner_id)
        .where(
            PartnerDigest.campaign_id == Campaign.id,
            Issue.id == Campaign.issue_id,
            or_(
                PartnerDigest.status != DigestStatus.CLAIMED,
                PartnerDigest.claimed_at >= stale,
            ),
        )
        .exists()
    )
    return list(
        session.scalars(
            select(Campaign.id)
            .where(
                and_(
                    Campaign.status == CampaignStatus.DONE,
                    Campaign.finished_at <= cutoff,
                    Campaign.finished_at > cutoff - CATCH_UP,
                    ~pending,
                    _any_sent(Campaign.id),
                )
            )
            .order_by(Campaign.id)
        )
    )
