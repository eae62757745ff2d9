"""Issue content's tables: partners, issues and their ordered items."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mailer.db import utcnow
from subscribers.db import Base, JSONType, UTCDateTime


class Partner(Base):
    """A partner of the firm: signs issues and receives the clients' replies."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    firm: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), unique=True)
    pronoun: Mapped[str] = mapped_column(String(8), default="them")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    issues: Mapped[list[Issue]] = relationship(back_populates="partner")


class Issue(Base):
    __tablename__ = "issue"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    newsletter: Mapped[str] = mapped_column(String(200))
    issue_date: Mapped[date] = mapped_column(Date)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    summary: Mapped[str] = mapped_column(Text)
    call_to_action: Mapped[str] = mapped_column(Text, default="")
    more_info_url: Mapped[str | None] = mapped_column(String(2000))
    pdf_name: Mapped[str] = mapped_column(String(200))
    source_format: Mapped[str] = mapped_column(String(16))  # "briefing" or "markdown"
    source_text: Mapped[str] = mapped_column(Text)  # the file as imported, for re-rendering
    extra: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    partner: Mapped[Partner] = relationship(back_populates="issues")
    items: Mapped[list[IssueItem]] = relationship(
        back_populates="issue", order_by="IssueItem.position", cascade="all, delete-orphan"
    )


class IssueItem(Base):
    __tablename__ = "issue_item"
    __table_args__ = (UniqueConstraint("issue_id", "position", name="uq_issue_item_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    headline: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)  # paragraphs separated by one blank line
    source_outlet: Mapped[str] = mapped_column(String(200))
    source_date: Mapped[date | None] = mapped_column(Date)
    source_author: Mapped[str] = mapped_column(String(200))
    source_title: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(String(2000))

    issue: Mapped[Issue] = relationship(back_populates="items")
