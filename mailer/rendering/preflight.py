"""Preflight checks on a composed issue, run by `mailer issue check` before anything is sent.

Each check answers a question an editor would otherwise learn from a complaint: will Gmail clip it,
do images have alt text, does every link go somewhere a reader can follow, are the headers that make
unsubscribing and replying work there, and what does SpamAssassin think of it.
"""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import urlsplit

import lxml.html

from mailer.rendering.email_edition import MAX_HTML_BYTES

REQUIRED_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Archive",
    "Precedence",
    "MIME-Version",
)
LINK_SCHEMES = ("http", "https", "mailto")
SPAM_WARN = 1.0  # above this, worth a look
SPAM_FAIL = 5.0  # SpamAssassin's own "this is spam" threshold

PASS, WARN, FAIL, INFO = "pass", "warn", "FAIL", "info"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # PASS, WARN, FAIL or INFO
    detail: str
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> bool:
        return self.status == FAIL


@dataclass(frozen=True)
class SpamResult:
    score: float
    rules: tuple[str, ...]
    report: str


def check_html_size(html: str) -> Check:
    size = len(html.encode("utf-8"))
    detail = f"{size / 1024:.1f} KB of HTML (Gmail clips at {MAX_HTML_BYTES // 1024} KB)"
    return Check("HTML size", PASS if size < MAX_HTML_BYTES else FAIL, detail)


def check_images(html: str) -> Check:
    doc = lxml.html.document_fromstring(html)
    images = doc.xpath("//img")
    missing = tuple(img.get("src", "(no src)")[:100] for img in images if img.get("alt") is None)
    if missing:
        return Check(
            "Image alt text", FAIL, f"{len(missing)} of {len(images)} without alt", missing
        )
    return Check("Image alt text", PASS, f"{len(images)} image(s), all with alt")


def check_links(html: str) -> Check:
    doc = lxml.html.document_fromstring(html)
    hrefs = [(a.get("href") or "").strip() for a in doc.xpath("//a")]
    bad = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.scheme.lower() not in LINK_SCHEMES:
            bad.append(href or "(empty href)")
        elif parts.scheme.lower() in ("http", "https") and not parts.netloc:
            bad.append(href)
    if bad:
        return Check("Links", FAIL, f"{len(bad)} of {len(hrefs)} not http(s)/mailto", tuple(bad))
    return Check("Links", PASS, f"{len(hrefs)} link(s), all http(s) or mailto")


def check_headers(msg: EmailMessage, *, web_edition: bool = True) -> Check:
    """The headers every issue's message carries (RFC 2369/2919 list headers, RFC 8058
    one-click). A private list's message (`web_edition` false) must have no List-Archive: the
    archive is public, and the list's issues are not in it."""
    required = (
        REQUIRED_HEADERS
        if web_edition
        else tuple(h for h in REQUIRED_HEADERS if h != "List-Archive")
    )
    problems = tuple(f"missing {h}" for h in required if msg[h] is None)
    if not web_edition and msg["List-Archive"] is not None:
        problems += ("List-Archive on a private list's message (its issues are not archived)",)
    if problems:
        return Check("Headers", FAIL, f"{len(problems)} problem(s)", problems)
    return Check("Headers", PASS, f"all {len(required)} required headers present")


def check_parts(msg: EmailMessage) -> Check:
    tree = [p.get_content_type() for p in msg.walk()]
    want = ["multipart/mixed", "multipart/alternative", "text/plain", "text/html"]
    if tree[:4] != want or "application/pdf" not in tree[4:]:
        return Check("MIME structure", FAIL, " > ".join(tree))
    return Check("MIME structure", PASS, "text + HTML alternatives, PDF attached")


def run_spamassassin(message: bytes, timeout: float = 120) -> SpamResult | None:
    """SpamAssassin's score with local rules only (`-L`), or None when it is not installed.

    Bayes is off and HOME is a throw-away folder, so a check never trains or changes any state.
    """
    exe = shutil.which("spamassassin")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="mailer-sa-") as home:
        proc = subprocess.run(
            [exe, "-L", "-t", "--cf=use_bayes 0", "--cf=bayes_auto_learn 0"],
            input=message,
            capture_output=True,
            timeout=timeout,
            env={"HOME": home, "PATH": "/usr/local/bin:/usr/bin:/bin"},
            check=False,
        )
    out = proc.stdout.decode("utf-8", "replace")
    status = re.search(r"^X-Spam-Status: .*?(?=^\S)", out, re.M | re.S)
    if status is None:
        err = proc.stderr.decode("utf-8", "replace").strip()[-500:]
        raise RuntimeError(f"spamassassin gave no verdict (exit {proc.returncode}): {err}")
    value = re.sub(r",\s+", ",", " ".join(status.group(0).split()))  # unfold the rule list
    score_match = re.search(r"score=(-?[\d.]+)", value)
    if score_match is None:
        raise RuntimeError(f"spamassassin's verdict has no score: {value}")
    tests = re.search(r"tests=(\S*)", value)
    rules = tuple(r for r in (tests.group(1) if tests else "").split(",") if r and r != "none")
    start = out.find("Content analysis details")
    return SpamResult(float(score_match.group(1)), rules, out[start:] if start >= 0 else "")


def check_spam(message: bytes) -> Check:
    result = run_spamassassin(message)
    if result is None:
        return Check("SpamAssassin", INFO, "not installed (apt-get install spamassassin)")
    status = PASS if result.score < SPAM_WARN else WARN if result.score < SPAM_FAIL else FAIL
    rules = ", ".join(result.rules) or "none"
    return Check("SpamAssassin", status, f"score {result.score} (rules: {rules})", result.rules)


def preflight(message: bytes, *, spam: bool = True, web_edition: bool = True) -> list[Check]:
    """Every check on one composed message (as a sample recipient would get it); `web_edition`
    false for a private list's message, which links to no public archive."""
    msg = email.message_from_bytes(message, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    html_part = msg.get_body(("html",))
    html = html_part.get_content() if html_part is not None else ""
    checks = [
        check_parts(msg),
        check_headers(msg, web_edition=web_edition),
        check_html_size(html),
        check_images(html) if html else Check("Image alt text", FAIL, "no HTML part"),
        check_links(html) if html else Check("Links", FAIL, "no HTML part"),
    ]
    if spam:
        checks.append(check_spam(message))
    return checks
