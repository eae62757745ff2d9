"""Partners: the people who sign issues and receive the clients' replies.

A partner is identified by email (replies must reach exactly one person), so importing issue after
issue signed by the same partner matches the existing row instead of creating a duplicate; the slug
is only a short handle for the CLI (`mailer inquiries list --partner fausto-carbajal-glass`).
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.content.document import PartnerInfo, slugify
from mailer.content.errors import PartnerError
from mailer.content.models import Partner
from mailer.errors import NotFound

PRONOUNS = ("him", "her", "them")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def normalise_email(email: str) -> str:
    """Validated and lower-cased, so that matching by email ignores how it was typed."""
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise PartnerError(f"{email!r} is not a valid email address: {exc}") from None
    return email.strip().lower()


def slug_for_name(session: Session, name: str) -> str:
    """`Fausto Carbajal Glass` → `fausto-carbajal-glass`, with -2, -3… if already taken."""
    base = slugify(name)[:60].strip("-") or "partner"
    slug, n = base, 1
    while session.scalar(select(Partner.id).where(Partner.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def find_by_email(session: Session, email: str) -> Partner | None:
    return session.scalar(select(Partner).where(func.lower(Partner.email) == email.lower()))


def add_partner(
    session: Session,
    slug: str,
    name: str,
    email: str,
    title: str = "",
    *,
    firm: str = "",
    pronoun: str = "them",
) -> Partner:
    """Create a partner; refuses a slug or an email that is already in use."""
    if not _SLUG.match(slug):
        raise PartnerError(
            f"{slug!r} is not a valid slug: use lower-case letters, digits and hyphens "
            "(e.g. fausto-carbajal)"
        )
    if not name.strip():
        raise PartnerError("a partner needs a name (--name)")
    if pronoun not in PRONOUNS:
        raise PartnerError(f"the pronoun must be one of {', '.join(PRONOUNS)}, not {pronoun!r}")
    email = normalise_email(email)
    existing = session.scalar(select(Partner).where(Partner.slug == slug))
    if existing is not None:
        raise PartnerError(
            f"a partner with the slug {slug!r} already exists ({existing.name} <{existing.email}>)"
        )
    same_email = find_by_email(session, email)
    if same_email is not None:
        raise PartnerError(
            f"{email} already belongs to the partner {same_email.slug!r} ({same_email.name})"
        )
    partner = Partner(
        slug=slug,
        name=" ".join(name.split()),
        email=email,
        title=title.strip(),
        firm=firm.strip(),
        pronoun=pronoun,
    )
    session.add(partner)
    session.flush()
    return partner


def match_or_create(session: Session, info: PartnerInfo) -> tuple[Partner, bool]:
    """The partner with this email, its empty fields filled from `info`; or a new one.

    Returns (partner, created). Fields already set are never overwritten: the database is where an
    editor corrects a partner, and an old issue being re-imported must not undo that.
    """
    email = normalise_email(info.email)
    partner = find_by_email(session, email)
    if partner is None:
        if not info.name:
            raise NotFound(
                f"no partner with the email {email}: add one with "
                f"`mailer partner add SLUG --name NAME --email {email}`",
                web=f"no partner with the email {email}: give the partner's name with the email",
            )
        partner = Partner(
            slug=slug_for_name(session, info.name),
            name=info.name,
            email=email,
            title=info.title,
            firm=info.firm,
            pronoun=info.pronoun if info.pronoun in PRONOUNS else "them",
        )
        session.add(partner)
        session.flush()
        return partner, True
    if not partner.name and info.name:
        partner.name = info.name
    if not partner.title and info.title:
        partner.title = info.title
    if not partner.firm and info.firm:
        partner.firm = info.firm
    if partner.pronoun == "them" and info.pronoun in ("him", "her"):
        partner.pronoun = info.pronoun  # "them" is also the default, i.e. "not known yet"
    session.flush()
    return partner, False


def get_partner(session: Session, ref: str) -> Partner:
    """A partner by slug or email; NotFound says how to list or add one."""
    partner = (
        find_by_email(session, ref)
        if "@" in ref
        else session.scalar(select(Partner).where(Partner.slug == ref))
    )
    if partner is None:
        raise NotFound(
            f"no partner {ref!r}: see `mailer partner list`, or add one with "
            "`mailer partner add SLUG --name NAME --email EMAIL`"
        )
    return partner


def list_partners(session: Session) -> list[Partner]:
    return list(session.scalars(select(Partner).order_by(Partner.slug)))


def info_of(partner: Partner) -> PartnerInfo:
    return PartnerInfo(
        name=partner.name,
        email=partner.email,
        title=partner.title,
        firm=partner.firm,
        pronoun=partner.pronoun,
    )
