"""docs/SEGMENTS.md, the users' reference of the segment language, is true: its people are
imported from the CSV block into a real list, and every example expression picks exactly the
people the page says (in SQL on the backend under test, and in the Python reference `evaluate`);
every mistake it shows is refused with the message it quotes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mailer.settings import Settings
from subscribers.errors import SegmentSyntaxError
from subscribers.importing import import_csv
from subscribers.lists import create_list
from subscribers.models import Subscriber
from subscribers.segments import evaluate, matching_subscriber_ids, parse

DOC = Path(__file__).parent.parent.parent / "docs" / "SEGMENTS.md"
TEXT = DOC.read_text(encoding="utf-8")


def block(name: str) -> list[str]:
    found = re.search(rf"<!-- segment {name} -->\n```\w*\n(.*?)\n```", TEXT, re.S)
    assert found, f"docs/SEGMENTS.md lost its {name} block"
    return found[1].splitlines()


def examples() -> list[tuple[str, set[str]]]:
    pairs = []
    for line in block("examples"):
        expr, who = (part.strip() for part in line.split("→"))
        pairs.append((expr, set() if who == "nobody" else set(who.split(", "))))
    return pairs


def test_the_readme_links_the_reference() -> None:
    readme = (DOC.parent.parent / "README.md").read_text(encoding="utf-8")
    assert "docs/SEGMENTS.md" in readme


def test_every_documented_example_picks_the_documented_people(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("\n".join(block("people")) + "\n", encoding="utf-8")
    mlist = create_list(session, "docs", "Docs")
    report = import_csv(session, mlist, people, settings.secret())
    session.commit()
    assert (report.imported, report.skipped) == (5, 0)
    everyone = session.scalars(select(Subscriber).options(selectinload(Subscriber.tag_rows))).all()
    assert len(examples()) >= 20
    for expr, who in examples():
        ids = set(session.scalars(matching_subscriber_ids(session, mlist.id, expr)))
        picked = {p.email.split("@")[0] for p in everyone if p.id in ids}
        assert picked == who, expr
        node = parse(expr)
        assert {p.email.split("@")[0] for p in everyone if evaluate(node, p)} == who, expr


@pytest.mark.parametrize("line", block("errors"))
def test_every_documented_mistake_is_refused_as_the_page_says(line: str) -> None:
    expr, message = (part.strip() for part in line.split("✗"))
    with pytest.raises(SegmentSyntaxError) as caught:
        parse(expr)
    assert message in str(caught.value).splitlines()[0], expr
