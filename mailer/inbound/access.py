"""What is held about one person's inbound mail (GDPR access): the bounces, complaints and
inquiries keys that `mailer subscribers show` / `export-data` and the admin's JSON export add to
a subscriber's data. The one place both doors read it from; erasing it is erasure.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mailer.inbound.bounces import describe_bounces
from mailer.inbound.complaints import describe_complaints
from mailer.inbound.inquiries import describe_inquiries


def inbound_sections(session: Session, data: dict[str, Any]) -> None:
    """Add `bounces`, `complaints` and `inquiries` to `data` (a subscriber's description, with
    `data["subscriber"]["id"]`; None when only a suppression entry is left), each only when it
    has rows: most readers never bounce nor write back."""
    person = data.get("subscriber")
    if person is None:
        return
    for key, rows in (
        ("bounces", describe_bounces(session, person["id"])),
        ("complaints", describe_complaints(session, person["id"])),
        ("inquiries", describe_inquiries(session, person["id"])),
    ):
        if rows:
            data[key] = rows
