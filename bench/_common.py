"""Shared pieces of the benchmarks: the fixture issue, settings, timing, and the naive baseline.

The naive baseline is what a first implementation would do for every recipient: fill the Jinja
template with the recipient's own values, compile MJML, inline the CSS with premailer, fill the
text template, and build a standard-library `EmailMessage` with the PDF attached (and so
base64-encoded) again. It uses the same templates, library options and PDF bytes as the real
pipeline (mailer/rendering/email_edition.py), so the only difference measured is *where* the work
happens: per recipient here, once per campaign there.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from mjml import mjml2html
from premailer import Premailer

from mailer.content.document import IssueContent
from mailer.content.issues import parse_issue, read_issue_file
from mailer.rendering.context import issue_context
from mailer.rendering.email_edition import EMAIL_TEMPLATE, TEXT_TEMPLATE
from mailer.rendering.environment import TEMPLATE_ROOT, template_env
from mailer.sending.compose import CampaignInfo
from mailer.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BRIEFING = ROOT / "mailer" / "samples" / "security-chatter-2025-04-09.txt"
PG_SERVER = os.environ.get("MAILER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
SECRET = "bench-secret-" + "x" * 40
MAIL_DOMAIN = "news.example.com"
PUBLIC_URL = "https://news.example.com"
FROM = "Miranda Delphi Solutions <briefing@news.example.com>"
POSTAL = "Miranda Delphi Solutions, Paseo de la Reforma 250, Piso 12, 06600 Ciudad de México"


def bench_env() -> dict[str, str]:
    """The MAILER_* values every benchmark process uses (on top of the caller's environment)."""
    return {
        "MAILER_SECRET_KEY": SECRET,
        "MAILER_MAIL_DOMAIN": MAIL_DOMAIN,
        "MAILER_PUBLIC_URL": PUBLIC_URL,
        "MAILER_FROM": FROM,
        "MAILER_POSTAL_ADDRESS": POSTAL,
    }


def bench_settings(**overrides: Any) -> Settings:
    """Settings for in-process measurements; no .env file is read, so runs are comparable."""
    values: dict[str, Any] = {
        "secret_key": SECRET,
        "mail_domain": MAIL_DOMAIN,
        "public_url": PUBLIC_URL,
        "postal_address": POSTAL,
        "MAILER_FROM": FROM,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def fixture_content() -> IssueContent:
    """The firm's real briefing, parsed (no database needed)."""
    content, _ = parse_issue(read_issue_file(BRIEFING), path=str(BRIEFING))
    return content


def fixture_campaign_info(content: IssueContent) -> CampaignInfo:
    """What the Composer needs about a campaign of the fixture issue (no database)."""
    return CampaignInfo(
        campaign_id=1,
        issue_slug="security-chatter-2025-04-09",
        partner_name=content.partner.name,
        partner_email=content.partner.email,
        list_slug="briefing",
        list_name="Security Chatter",
    )


def write_key(path: Path, key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | None = None) -> Path:
    """`key` (a new RSA-2048 key when None) written to `path` as unencrypted PKCS#8 PEM, as
    `openssl genpkey` writes it, readable by its owner only: a MAILER_DKIM_*KEY_FILE."""
    key = key if key is not None else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the median of `repeat` runs of `number` calls, after warm-up."""

    median: float
    best: float
    runs: int
    calls: int

    @property
    def us(self) -> float:
        return self.median * 1e6


def measure(fn: Callable[[int], object], *, number: int, repeat: int, warmup: int = 1) -> Timing:
    """Time `fn(i)` with time.perf_counter; `i` counts calls so each can use fresh data."""
    i = 0
    for _ in range(warmup):
        fn(i)
        i += 1
    per_call: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            fn(i)
            i += 1
        per_call.append((time.perf_counter() - started) / number)
    return Timing(statistics.median(per_call), min(per_call), repeat, number)


def fmt_us(seconds: float) -> str:
    us = seconds * 1e6
    if us >= 1e6:
        return f"{us / 1e6:,.2f} s"
    if us >= 1e4:
        return f"{us / 1e3:,.1f} ms"
    return f"{us:,.0f} µs"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain fixed-width table (first column left-aligned, the others right-aligned)."""
    widths = [max(len(str(r[c])) for r in [headers, *rows]) for c in range(len(headers))]

    def line(cells: list[str]) -> str:
        out = [str(cells[0]).ljust(widths[0])]
        out += [str(cell).rjust(w) for cell, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join(out)

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


# --------------------------------------------------------------------------------------------
# Recipients
# --------------------------------------------------------------------------------------------

FIRST = ["Ana", "Luis", "Carmen", "José", "Raúl", "María", "Jorge", "Paula", "Héctor", "Siobhán"]
LAST = ["García", "Rivera", "Díaz", "Martínez", "López", "O'Brien", "Sánchez", "Morales"]


def recipient(i: int) -> tuple[str, str]:
    """(email, name) of the i-th generated reader: accents and apostrophes, as real lists have."""
    name = f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}"
    return f"reader{i}@client{i % 97}.example.com", name


# --------------------------------------------------------------------------------------------
# The naive per-recipient pipeline (the baseline)
# --------------------------------------------------------------------------------------------


class NaiveBuilder:
    """Everything per recipient: Jinja → MJML → premailer → text → EmailMessage + PDF.

    Only the Jinja environments (a template cache any naive code gets for free) and the PDF bytes
    (printed once, then attached to every message) are shared between recipients.
    """

    def __init__(self, content: IssueContent, settings: Settings, pdf: bytes, pdf_filename: str):
        self.settings = settings
        self.pdf = pdf
        self.pdf_filename = pdf_filename
        self.context = issue_context(content, settings)
        self.html_env = template_env(TEMPLATE_ROOT, html=True)
        self.text_env = template_env(TEMPLATE_ROOT, html=False)

    def build(self, i: int, email: str, name: str) -> EmailMessage:
        token = f"naive{i:08d}"
        unsubscribe = f"{self.settings.public_url}/u/{token}"
        context = dict(self.context)
        context["personal"] = {
            "email": email,
            "name": name,
            "unsubscribe_url": unsubscribe,
            "preferences_url": f"{unsubscribe}#preferences",
            "recipient": f"{name} ({email})" if name else email,
            "reply_address": f"reply+{token}@{self.settings.mail_domain}",
            "if_tracked": "",
            "end_tracked": "",
            "open_pixel": "",
        }
        context["track"] = lambda url, *_args: url  # links as written (no tracking)
        context["links_tracked"] = False
        mjml_source = self.html_env.get_template(EMAIL_TEMPLATE).render(context)
        html = mjml2html(mjml_source, disable_comments=True, fonts={})
        html = Premailer(
            html,
            keep_style_tags=True,
            strip_important=False,
            remove_classes=False,
            disable_validation=True,
            allow_network=False,
            cssutils_logging_level=logging.CRITICAL,
        ).transform(pretty_print=False)
        text = self.text_env.get_template(TEXT_TEMPLATE).render(context)

        msg = EmailMessage()
        msg["From"] = self.settings.from_
        msg["To"] = f"{name} <{email}>" if name else email
        msg["Subject"] = f"{self.context['newsletter']}, {self.context['date_long']}"
        msg["Date"] = format_datetime(time_now())
        msg["Message-ID"] = make_msgid(domain=self.settings.mail_domain)
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        msg.add_attachment(
            self.pdf, maintype="application", subtype="pdf", filename=self.pdf_filename
        )
        return msg

    def message_bytes(self, i: int, email: str, name: str) -> bytes:
        from email import policy

        return self.build(i, email, name).as_bytes(policy=policy.SMTP)


def time_now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)
