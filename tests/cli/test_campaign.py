"""What `mailer campaign list`, `campaign status`, `report`, `list list` and `segment list` print
for realistic data (the firm's list names, long issue slugs and SMTP replies), at 80 columns."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer import db as mailer_db
from mailer.cli import app
from mailer.content.issues import import_issue
from mailer.content.partners import add_partner
from mailer.inbound.models import InboundMessage, Inquiry
from mailer.sending.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from mailer.settings import Settings
from subscribers.db import make_engine, session_factory
from subscribers.lists import create_list
from subscribers.models import Segment, SuppressionReason
from subscribers.suppression import add_suppression
from tests.builders import newsroom
from tests.conftest import BRIEFING
from tests.smtpd import SMTPServer

SLUG = "security-chatter-2026-11-30-special-edition-ransomware-in-the-energy-sector"
LIST = "security-chatter-emea-clients"
LIST_NAME = "Security Chatter — EMEA clients, partners and the incident-response desk"
SEGMENT = "emea-energy-and-utilities-clients"
EXPRESSION = (
    "tag:client and (attr.sector:energy or attr.sector:utilities) and not domain:example.com"
)
GREYLISTED = (
    "451 4.7.1 <reader@utility.example>: Recipient address rejected: Greylisted, see "
    "https://postmaster.example.net/greylisting/why-am-i-seeing-this.html"
)
runner = CliRunner()
UNKNOWN = "550 5.1.1 <gone@energy.example>: Recipient address rejected: User unknown in table"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder whose mailer.db holds one campaign to a saved segment (sent, deferred with a long
    greylisting reply, failed) and one to a --where expression."""
    url = f"sqlite:///{tmp_path / 'mailer.db'}"
    mailer_db.upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        _campaigns(session)
        session.commit()
    engine.dispose()
    return tmp_path


def _campaigns(session: Session) -> None:
    issue = import_issue(session, BRIEFING)
    issue.slug = SLUG
    mlist = create_list(session, LIST, LIST_NAME)
    session.flush()
    segment = Segment(list_id=mlist.id, slug=SEGMENT, expression=EXPRESSION)
    session.add(segment)
    session.flush()
    sending = Campaign(
        issue_id=issue.id,
        list_id=mlist.id,
        segment_id=segment.id,
        expression=EXPRESSION,
        status=CampaignStatus.SENDING,
        total=6,
    )
    planned = Campaign(issue_id=issue.id, list_id=mlist.id, expression="lang:es or lang:pt")
    partner = add_partner(
        session,
        "ana-lucia-montes-de-oca",
        name="Ana Lucía Montes de Oca",
        email="ana.lucia.montes-de-oca@miranda-partners.example",
        title="Partner, Head of Cybersecurity and Data Protection, Energy Regulatory Practice",
    )
    message = InboundMessage(
        rcpt_to="reply+abc@news.example.com", address_kind="reply", size=3, raw=b"raw"
    )
    session.add(message)
    session.flush()
    session.add(
        Inquiry(
            inbound_message_id=message.id,
            issue_id=issue.id,
            partner_id=partner.id,
            client_name="José Antonio Rivera Villaseñor",
            client_email="jose.antonio.rivera-villasenor@utility-holdings.example",
            subject=f"Re: Security Chatter — {SLUG}: can we talk about the NERC CIP item?",
            forward_message_id="<fwd1@news.example.com>",
        )
    )
    session.add_all([sending, planned])
    session.flush()
    add_suppression(
        session,
        "jose.antonio.rivera-villasenor@utility-holdings.example",
        "any secret",  # keys the hash kept after an erasure; not read by the listing
        SuppressionReason.HARD_BOUNCE,
        UNKNOWN,
    )
    for status, reply in [
        ("sent", None),
        ("sent", None),
        ("deferred", GREYLISTED),
        ("deferred", GREYLISTED),
        ("failed", UNKNOWN),
        ("pending", None),
    ]:
        session.add(
            Delivery(
                campaign_id=sending.id,
                issue_id=issue.id,
                status=DeliveryStatus(status),
                last_reply=reply,
            )
        )


def mailer(folder: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILER_")}
    env["COLUMNS"] = "80"
    done = subprocess.run(
        [sys.executable, "-m", "mailer", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize(
    "command",
    [
        ("campaign", "list"),
        ("campaign", "status", "1"),
        ("report", "1"),
        ("report", SLUG),
        ("list", "list"),
        ("segment", "list", "--list", LIST),
        ("partner", "list"),
        ("inquiries", "list"),
        ("suppression", "list"),
    ],
)
def test_every_listing_fits_80_columns(folder: Path, command: tuple[str, ...]) -> None:
    out = mailer(folder, *command)
    wide = [line for line in out.splitlines() if len(line) > 80]
    assert wide == [], out
    flat = "".join(line.strip() for line in out.splitlines())
    # Folded, not cut: the long texts are all there once the lines are joined.
    if command[0] in ("campaign", "report") and command[1] != "list":
        assert "".join(GREYLISTED.split()) in "".join(flat.split())
    if command[0] == "list":
        assert LIST in out and "".join(LIST_NAME.split()) in "".join(flat.split())
    if command[0] == "segment":
        assert "".join(EXPRESSION.split()) in "".join(flat.split())
    if command[0] == "partner":
        assert "EnergyRegulatoryPractice" in "".join(flat.split())
    if command[0] == "suppression":
        assert "".join(UNKNOWN.split()) in "".join(flat.split())
    if command[0] == "inquiries":
        assert "NERCCIPitem?" in "".join(flat.split()) and "ana-lucia-montes-de-oca" in out


def test_the_report_names_issue_and_audience_and_counts_complaints_once(folder: Path) -> None:
    out = mailer(folder, "report", SLUG)
    lines = [line.rstrip() for line in out.splitlines()]
    first = lines.index(next(line for line in lines if "campaign 1" in line))
    # The header under the rule: the slug folds under itself at 80 columns, nothing is cut.
    assert lines[first + 1 : first + 5] == [
        f"issue     {SLUG[:70]}",
        f"          {SLUG[70:]}",
        f"to        {LIST} › segment",
        f"          {SEGMENT}",
    ]
    assert f"to        {LIST} › lang:es or lang:pt" in lines
    assert sum("complaints" in line for line in lines) == 2  # one line for each campaign
    assert [line for line in lines if "complaints" in line][0] == (
        "complaints 0 of 2 delivered (0.00%, under the 0.3% line)"
    )
    assert "unsubscribes 0" in lines


def test_campaign_status_names_issue_and_audience(folder: Path) -> None:
    lines = [line.rstrip() for line in mailer(folder, "campaign", "status", "2").splitlines()]
    assert lines[:3] == [
        "campaign 2: planned",
        f"  issue   {SLUG[:70]}",
        f"          {SLUG[70:]}",
    ]
    assert f"  to      {LIST} › lang:es or lang:pt" in lines


def test_a_scheduled_campaign_paused_before_its_time_says_when_and_whom_not_total_0(
    session: Session, settings: Settings, relay: SMTPServer
) -> None:
    """Paused before it started, a scheduled campaign has snapshotted nobody: `campaign status`
    and `campaign list` say whom it was counted for and when it was due (resume schedules it
    again), not "total 0", which reads as "sends to nobody", with no word of its time."""
    room = newsroom(session, settings)
    args = ["send", room.issue_slug, "--list", room.list_slug, "--at", "2099-01-01T09:00"]
    created = runner.invoke(app, [*args, "--yes"])
    assert created.exit_code == 0, created.output + repr(created.exception)
    [campaign] = session.scalars(select(Campaign)).all()
    paused = runner.invoke(app, ["campaign", "pause", str(campaign.id)])
    assert paused.exit_code == 0, paused.output
    status = " ".join(runner.invoke(app, ["campaign", "status", str(campaign.id)]).output.split())
    assert f"campaign {campaign.id}: paused" in status
    assert f"not started: {campaign.recipients} recipients when counted" in status
    assert "total 0" not in status
    assert "scheduled for 2099-01-01 09:00 UTC" in status
    assert f"`mailer campaign resume {campaign.id}` schedules it again" in status
    listing = runner.invoke(app, ["campaign", "list"]).output
    row = next(line for line in listing.splitlines() if line.lstrip().startswith(str(campaign.id)))
    assert row.rstrip().endswith(f"~{campaign.recipients}") and "~N: not started yet" in listing
    assert relay.sink.received == []


def test_retry_failed_with_nothing_failed_says_there_was_nothing_to_retry(folder: Path) -> None:
    """`campaign retry-failed` on a campaign with no failed delivery printed "0 failed
    deliveries queued again", as if it had done something: it says there was nothing to retry."""
    out = mailer(folder, "campaign", "retry-failed", "2", "--no-wait")
    assert out.strip() == "campaign 2: no failed deliveries to retry; nothing was queued again"
