"""A campaign's rendering, stored once when it starts and loaded by every batch that sends it:
the issue is rendered once per campaign, never per recipient (nor per worker)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from mailer.rendering.links import Link
from mailer.sending.campaigns import CampaignStateError
from mailer.sending.models import Campaign, CampaignRender

if TYPE_CHECKING:
    from mailer.rendering.email_edition import RenderedIssue


def store_rendering(session: Session, campaign: Campaign, rendered: RenderedIssue) -> None:
    session.merge(
        CampaignRender(
            campaign_id=campaign.id,
            subject=rendered.subject,
            preheader=rendered.preheader,
            html_template=rendered.html_template,
            text_template=rendered.text_template,
            pdf=rendered.pdf,
            pdf_filename=rendered.pdf_filename,
            links=[link.to_dict() for link in rendered.links],
            web_edition=rendered.web_edition,
        )
    )


def load_rendering(session: Session, campaign_id: int) -> RenderedIssue:
    # Imported here: reading campaigns (`mailer campaign list`) needs no rendering library.
    from mailer.rendering.email_edition import RenderedIssue

    row = session.get(CampaignRender, campaign_id)
    if row is None:
        raise CampaignStateError(f"campaign {campaign_id} has not been rendered yet")
    return RenderedIssue(
        subject=row.subject,
        preheader=row.preheader,
        html_template=row.html_template,
        text_template=row.text_template,
        pdf=bytes(row.pdf),
        pdf_filename=row.pdf_filename,
        links=tuple(Link.from_dict(d) for d in row.links or ()),
        web_edition=row.web_edition,
    )
