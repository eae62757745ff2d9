"""Engagement end to end with real processes: two `mailer worker`s on a private Redis and
PostgreSQL, `mailer web` serving the tracked links to a real HTTP client, `mailer beat` (restarted
once) sending the partner's digest to a real SMTP server, and `mailer report` reading it back."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from mailer import tokens
from tests.conftest import _truncate_all
from tests.engagement.support import ITEM_URLS, LINKED_ISSUE, MORE_INFO
from tests.faults.support import RedisServer
from tests.processes import Stack, wait_until
from tests.smtpd import SMTPServer, free_port
from tests.web_support import parse, recipient, text_part

pytestmark = pytest.mark.slow

SECRET = "engagement-e2e-secret-" + "q" * 32
PARTNER = "fausto.carbajal@miranda-partners.com"
COMPANIES = [
    "Acme Mining SA de CV",
    "Banco del Norte",
    "Acme Mining SA de CV",
    "Ferrocarriles del Golfo",
    "Grupo Portuario",
    "Banco del Norte",
    "Energía Sur",
    "Grupo Portuario",
    "Energía Sur",
    "Aerolíneas Centro",
]
READERS = [f"reader{i}@client{i}.example.com" for i in range(10)]


@pytest.fixture
def stack(pg_database: str, tmp_path: Path) -> Iterator[tuple[Stack, SMTPServer, str]]:
    _truncate_all(pg_database)
    redis_server = RedisServer(tmp_path / "redis")
    redis_server.start()
    port = free_port()
    with SMTPServer() as relay:
        stack = Stack(
            pg_database,
            redis_server.url,
            relay.url,
            tmp_path,
            secret=SECRET,
            MAILER_PUBLIC_URL=f"http://127.0.0.1:{port}",
            MAILER_DIGEST_AFTER="3600",  # the workers that send wait; those started later don't
            COLUMNS="250",
        )
        try:
            yield stack, relay, f"http://127.0.0.1:{port}"
        finally:
            stack.close()
            redis_server.kill()


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/archive", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _link_of(msg: EmailMessage, index: int) -> str:
    """The message's tracked link for entry `index` of the link table (decoded from tokens)."""
    found = re.findall(r"http://127\.0\.0\.1:\d+/r/[a-z0-9]+-[a-z2-7]{16}", text_part(msg))
    for url in found:
        _delivery, n = tokens.parse_click_token(url.rsplit("/", 1)[1], [SECRET])
        if n == index:
            return url
    raise AssertionError(f"no tracked link {index} in the message to {recipient(msg)}")


def _digest_runs(stack: Stack, names: list[str]) -> int:
    """Digest tasks the workers finished (Celery logs each one's success)."""
    done = re.compile(rb"mailer\.tasks\.send_due_digests\[[^\]]+\] succeeded")
    return sum(len(done.findall(stack.log(n))) for n in names)


def test_clicks_report_and_the_partners_digest(
    stack: tuple[Stack, SMTPServer, str], tmp_path: Path
) -> None:
    s, relay, base = stack
    s.cli("db", "upgrade")
    slug = s.cli("issue", "import", str(LINKED_ISSUE)).split()[-1]
    s.cli("list", "create", "clients", "--name", "Security Chatter")
    csv = tmp_path / "readers.csv"
    csv.write_text(
        "email,name,company,language,tags\n"
        + "".join(
            f"{e},Reader {i},{c},en,client\n"
            for i, (e, c) in enumerate(zip(READERS, COMPANIES, strict=True))
        ),
        encoding="utf-8",
    )
    s.cli("subscribers", "import", str(csv), "--list", "clients")
    senders = [s.worker("worker1"), s.worker("worker2")]
    s.spawn("web", "--host", "127.0.0.1", "--port", base.rsplit(":", 1)[1], name="web")
    wait_until(lambda: _answers(base), 60, "`mailer web` to answer")
    out = s.cli("send", slug, "--list", "clients", "--yes", "--no-wait")
    campaign = re.search(r"campaign (\d+)", out)
    assert campaign is not None
    cid = campaign.group(1)
    relay.sink.wait_for(10)
    by_rcpt = {recipient(r.message): r.message for r in relay.sink.received}
    assert sorted(by_rcpt) == sorted(READERS)
    # Link table: 0 archive, 1–6 the items, 7 the PDF, 8 "More information" (rendering order).
    last = max(r.received_at for r in relay.sink.received)
    wait_until(lambda: time.time() > last + 1.2, 5, "a reader's pace after delivery")

    client = httpx.Client(follow_redirects=False, timeout=10)

    def follow(reader: int, index: int) -> str:
        response = client.get(_link_of(by_rcpt[READERS[reader]], index))
        assert response.status_code == 302, response.text
        return response.headers["location"]

    t0 = time.time()
    assert follow(0, 1) == ITEM_URLS[0]  # query string and `&` exactly as in the issue
    assert follow(1, 1) == ITEM_URLS[0]
    assert follow(2, 3) == ITEM_URLS[2]
    assert follow(3, 2) == ITEM_URLS[1]  # reader 3 then opts out of tracking (below)
    # A person reads between two clicks: the next links of the same messages a moment later.
    wait_until(lambda: time.time() > t0 + 1.2, 5, "a reader's pace")
    assert follow(0, 2) == ITEM_URLS[1]
    assert follow(1, 8) == MORE_INFO
    wait_until(lambda: time.time() > t0 + 2.4, 5, "a reader's pace")
    assert follow(0, 1) == ITEM_URLS[0]  # the same link again counts once

    # A tampered token: 404, nothing recorded, no redirect anywhere.
    good = _link_of(by_rcpt[READERS[4]], 4)
    bad = good[:-1] + ("a" if good[-1] != "a" else "b")
    response = client.get(bad)
    assert response.status_code == 404 and "location" not in response.headers

    # Reader 3 turns tracking off on the preferences page: their click is forgotten.
    unsubscribe = re.search(
        r"<(http://[^>]+/u/[^>]+)>", str(by_rcpt[READERS[3]]["List-Unsubscribe"])
    )
    assert unsubscribe is not None
    saved = client.post(
        unsubscribe.group(1) + "/preferences",
        data={"form": "preferences", "keep": "clients", "language": "en"},
        headers={"Origin": base},
    )
    assert saved.status_code == 200 and "will not be tracked" in saved.text

    report = s.cli("report", cid)
    assert re.search(r"clickers\s+3 unique \(30\.0% of delivered\)", report), report
    per_item = {
        m.group(1): int(m.group(2))
        for m in re.finditer(
            r"(Item \d|PDF edition|More information|Web edition)[^│]*│\s*(\d+)", report
        )
    }
    assert per_item == {
        "Item 1": 2,
        "Item 2": 1,
        "Item 3": 1,
        "Item 4": 0,
        "Item 5": 0,
        "Item 6": 0,
        "PDF edition": 0,
        "More information": 1,
        "Web edition": 0,
    }, report
    assert "delivered 10" in report

    # The digest falls due (two workers restarted with MAILER_DIGEST_AFTER=0, and a beat): it
    # is sent once; a restarted beat and further ticks of both workers do not send it again.
    for proc in senders:
        s.kill(proc)
    s.env["MAILER_DIGEST_AFTER"] = "0"
    s.worker("worker3")
    s.worker("worker4")
    beat = s.beat()
    relay.sink.wait_for(11, timeout=60)
    s.kill(beat)
    s.beat()
    before = _digest_runs(s, ["worker3", "worker4"])
    wait_until(
        lambda: _digest_runs(s, ["worker3", "worker4"]) >= before + 3,
        60,
        "three more digest runs after beat restarted",
    )
    digests = relay.sink.to(PARTNER)
    assert len(digests) == 1
    assert len(relay.sink.received) == 11
    assert "already sent" in s.cli("digest", "send", cid)
    assert len(relay.sink.to(PARTNER)) == 1
    digest = parse(digests[0].data)
    body = text_part(digest)
    assert "Acme Mining SA de CV" in body and "Banco del Norte" in body
    for reader in ("reader0@", "reader1@", "reader2@"):
        assert reader in body
    assert "reader3@" not in body and "Ferrocarriles del Golfo" not in body
    assert body.count("clicked: Item 1:") == 2 and body.count("clicked: Item 2:") == 1
    assert "clicked: More information" in body and "clicked: Item 3:" in body
    assert f"/admin/campaigns/{cid}" in body
