"""Sending without a broker (mailer/sending/dispatch.py): what `mailer send` says and leaves
behind when a service the sending needs cannot be reached."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.sending.models import Campaign, CampaignStatus
from mailer.settings import Settings, reset_settings
from tests.builders import newsroom
from tests.smtpd import SMTPServer, free_port

runner = CliRunner()


def test_a_rate_limit_redis_that_cannot_be_reached_pauses_the_campaign_naming_it(
    session: Session, settings: Settings, relay: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rate limit's Redis down: `mailer send` used to die on a redis traceback and leave its
    campaign "sending" with nobody sending it. Now the campaign is paused with the reason (the
    service, its setting, the error; the password hidden) and the way to go on, and the command
    says so and exits 1; nothing was sent."""
    room = newsroom(session, settings)
    monkeypatch.setenv("MAILER_RATE_LIMIT", "100/second")
    monkeypatch.setenv(
        "MAILER_RATELIMIT_STORAGE_URL", f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"
    )
    reset_settings()
    result = runner.invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
    said = " ".join((result.output + str(result.exception or "")).split())
    assert result.exit_code == 1, said
    assert "Traceback" not in said and "hunter2" not in said
    assert "cannot reach Redis (MAILER_RATELIMIT_STORAGE_URL" in said
    session.expire_all()
    [campaign] = session.scalars(select(Campaign)).all()
    assert campaign.status == CampaignStatus.PAUSED
    assert "cannot reach Redis" in campaign.status_reason
    assert f"`mailer campaign resume {campaign.id}`" in campaign.status_reason
    assert "hunter2" not in campaign.status_reason
    assert relay.sink.received == []
