"""On PostgreSQL a search by a fragment of an address, a name or a company has an index to answer
it instead of reading every subscriber.

The search box (`/admin/subscribers?q=`, the bulk actions' count) and the API's
`GET /api/v1/subscribers?q=` match `lower(column) LIKE '%fragment%'` on the three columns, which
no B-tree answers: each search read the whole table (0.5 s a page at 100,000 subscribers on a
loaded 2-core machine, growing with the table; 24-55 ms with these indexes). A trigram GIN index
of exactly the expression the query compares (`lower(column)`) is what lets PostgreSQL answer the
LIKE from the index; on a table of a few rows the planner rightly reads the table, so what is
checked is that the database has the indexes the real query's expressions need.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from mailer.web import queries
from subscribers import search
from subscribers.db import make_engine, session_factory
from tests.conftest import _truncate_all

COLUMNS = ("email", "name", "company")


@pytest.fixture
def pg_session(pg_database: str) -> Iterator[Session]:
    _truncate_all(pg_database)
    engine = make_engine(pg_database)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def trigram_indexed(session: Session) -> set[str]:
    """The expressions over subscriber that a trigram GIN index covers (e.g. "lower(email)")."""
    found = set()
    for definition in session.scalars(
        text("SELECT indexdef FROM pg_indexes WHERE tablename = 'subscriber'")
    ):
        shape = re.search(r"USING gin \((.+) gin_trgm_ops\)", definition)
        if shape:
            found.add(re.sub(r"\(\((\w+)\)::text\)", r"(\1)", shape.group(1)))
    return found


def compared(session: Session, fragment: str) -> set[str]:
    """The expressions the real search queries compare with LIKE."""
    dialect = session.get_bind().dialect
    sql = " ".join(
        str(q.compile(dialect=dialect))
        for q in (
            search.SubscriberSearch(text=fragment).ids(),  # the admin's search page, its count
            queries.subscriber_query(None, fragment, None),  # the API's list
        )
    )
    return set(re.findall(r"(lower\(subscriber\.\w+\)) LIKE", sql))


def test_each_column_a_text_search_reads_has_a_trigram_index(pg_session: Session) -> None:
    wanted = {e.replace("subscriber.", "") for e in compared(pg_session, "der12")}
    assert wanted == {f"lower({c})" for c in COLUMNS}
    assert wanted <= trigram_indexed(pg_session)
