"""CSV import into a list: streamed, batched, upserting by canonical address, reporting every row.

The file's contract (what `mailer subscribers import` documents):
- UTF-8, with or without a BOM; a header row is required; columns in any order.
- Lines may end in LF, CRLF or a lone CR (old Mac exports); the separator may be a comma, a
  semicolon (Excel in most of Europe and Latin America), a TAB or `|` (spaces after it are not
  part of the value, so `a, "b, c"` is two values). The separator is the one
  that makes the header hold an `email` column; when several do (a one-column file), clevercsv's
  dialect detection on the first 64 KiB decides. The report says which one was used.
- Known columns: email (required; `Name <address>` and `mailto:address` are that address, the
  display name filling an empty name cell), name, company, language (ISO 639-1, or a locale such
  as `es-MX` read as its language; a column named `lang`,
  the segment keyword, is read as it when the file has no `language` column), tags, and
  status (active|pending|unsubscribed|suppressed, as `export` writes it; listmonk's and
  Mailchimp's words for them too: `import_file.STATUS_SYNONYMS`). `attr.KEY` columns,
  and any other column, are stored as attributes (`attributes[KEY]`, matched by `attr.KEY:`
  segments); the report lists them once so a misspelt header does not go unnoticed. Other
  tools' names for the known columns (`import_file.HEADER_ALIASES`: `Email Address`, `First
  Name` + `Last Name`, `Correo electrónico`…) are read as them, and the report says so. Attribute
  values get the same cleaning and length limit as names (one line, no control characters, at
  most 200 characters); at most 50 attribute columns, keys at most 64 characters.
- Tags: one cell holds them all, split at `;`, `,` or `|` whatever the file's separator
  (`client,vip` in a semicolon file, `"client;vip"` in a comma file: two tags each); so a tag
  can hold none of the three. `export` joins them with `;`.
- A cell that `export` protected from spreadsheets (`'=…`) is read back without that `'`.
- Rows are numbered as a spreadsheet numbers them: the header is row 1. A quoted field can span
  lines, so each problem also gives the file line(s).

What an import does, per address (rows are merged by canonical address first):
- new address → subscriber + active subscription, consent "import" / "import: FILE" / now;
- existing subscriber: a non-empty cell replaces the stored value, an empty cell leaves it alone
  (so a file with only an email column never wipes names); `tags` replaces the tag set when
  non-empty; attributes are merged key by key;
- a suppressed address is never imported (reported as suppressed); a row whose status is
  `suppressed` (an export's bounced, complained or blocked reader) suppresses its address here
  too, as a manual suppression naming the file, and is not imported; a list unsubscribe is never
  undone by an import (reported); a pending subscription stays pending until confirmed;
- `status` is this list's status: `unsubscribed` unsubscribes an active or pending member of
  the list (an edited export of the list itself says who left). An export of *another* list
  carries that list's statuses, so each such change is counted apart (`unsubscribed`, never
  folded into `updated`) and named by row, so it is seen when it was not meant; a row marked
  `unsubscribed` for someone not on this list adds them as unsubscribed (a later import cannot
  subscribe them), counted apart (`added_unsubscribed`, never `imported`), without new consent;
- duplicates in one file are merged, later non-empty cells winning and the tags of all of them
  combined, and reported with both rows;
- a bad row is skipped and reported with its row, lines and reason; good rows are imported anyway.

Memory stays flat: the file is read line by line through the csv module, rows are written in
batches with set-wise statements (no ORM objects are kept), and the addresses already seen — to
report duplicates across batches — live in a temporary table, not in Python.
"""

from __future__ import annotations

import csv
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from subscribers.addresses import hash_canonical
from subscribers.attributes import ATTR_MAX, ATTR_PREFIX
from subscribers.csv_lines import LineSource, decoded_lines, next_record, runaway_row
from subscribers.db import analyze, utcnow
from subscribers.errors import ImportFileError, InvalidAddress, InvalidInput
from subscribers.import_file import (
    BATCH_SIZE,
    COLUMNS,
    EXPORT_COLUMNS,
    SEPARATORS,
    Candidate,
    Columns,
    Duplicate,
    ImportReport,
    Progress,
    RowNote,
    RowProblem,
    choose_separator,
    parse_row,
    read_header,
    sample_lines,
)
from subscribers.models import (
    MailingList,
    Subscriber,
    SubscriberStatus,
    SubscriberTag,
    Subscription,
    SubscriptionStatus,
)
from subscribers.suppression import add_suppression, one_of, suppressed_hashes

__all__ = [
    "ATTR_MAX",
    "ATTR_PREFIX",
    "COLUMNS",
    "EXPORT_COLUMNS",
    "SEPARATORS",
    "Duplicate",
    "ImportReport",
    "RowNote",
    "RowProblem",
    "import_csv",
    "import_csv_file",
]

# --- writing ---------------------------------------------------------------------------------

_seen_metadata = MetaData()
# Addresses this import has written, with their first row: reports duplicates across batches
# without holding every address in memory.
_seen = Table(
    "import_seen_addresses",
    _seen_metadata,
    Column("email", String(320), primary_key=True),
    Column("row", Integer, nullable=False),
    prefixes=["TEMPORARY"],
)


def _upsert_insert(session: Session, table: Table) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING on both backends (a concurrent writer never fails us)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    from sqlalchemy import insert

    return insert(table)


@dataclass
class _Changes:
    """What one batch will write, collected before any statement runs."""

    consent: dict[str, Any]
    now: Any
    new_people: list[Candidate] = field(default_factory=list)
    field_updates: list[dict[str, Any]] = field(default_factory=list)
    consent_updates: list[dict[str, Any]] = field(default_factory=list)
    tag_rewrites: dict[int, list[str]] = field(default_factory=dict)
    new_subs: list[dict[str, Any]] = field(default_factory=list)
    sub_updates: list[dict[str, Any]] = field(default_factory=list)


class _Importer:
    def __init__(self, session: Session, mlist: MailingList, source: str, secret: str):
        self.session = session
        self.list_id = mlist.id
        self.source = Path(source).name  # consent records name the file, not the local path
        self.secret = secret
        self.report = ImportReport(file=str(source), list_slug=mlist.slug)

    # Each unique address of the batch ends in exactly one counter (or in duplicates only, when
    # its first row was in an earlier batch).
    def write_batch(self, batch: dict[str, Candidate]) -> None:
        if not batch:
            return
        s = self.session
        emails = list(batch)
        for email, first_row in s.execute(
            select(_seen.c.email, _seen.c.row).where(one_of(s, _seen.c.email, emails))
        ):
            batch[email].repeat_of = first_row
        fresh = [c for c in batch.values() if c.repeat_of is None]
        if fresh:
            s.execute(_seen.insert(), [{"email": c.email, "row": c.rows[0][0]} for c in fresh])
        for cand in batch.values():
            first = cand.repeat_of if cand.repeat_of is not None else cand.rows[0][0]
            for row, line in cand.rows if cand.repeat_of is not None else cand.rows[1:]:
                self.report.duplicates.append(Duplicate(row, line, first, cand.email))

        hashes = {c.email: hash_canonical(c.email, self.secret) for c in batch.values()}
        blocked = suppressed_hashes(s, hashes.values())
        todo: list[Candidate] = []
        for cand in batch.values():
            if hashes[cand.email] in blocked:
                self._refused(cand, "on the suppression list: not imported")
            elif cand.suppress:
                add_suppression(
                    s,
                    cand.email,
                    self.secret,
                    detail=f"import: {self.source}"[:200],
                    actor="import",
                )
                self._refused(cand, "suppressed by the file's status column: not imported")
            else:
                todo.append(cand)
        self._apply(todo)

    def _refused(self, cand: Candidate, why: str) -> None:
        if cand.repeat_of is None:
            self.report.suppressed += 1
            row, line = cand.rows[0]
            self.report.suppressed_rows.append(RowNote(row, line, cand.email, why))

    def _apply(self, todo: list[Candidate]) -> None:
        """Write one batch of candidates that are not suppressed: read what exists, decide per
        address, then write set-wise. Addresses someone else inserted meanwhile go round again."""
        if not todo:
            return
        now = utcnow()
        existing, subs, tags = self._load_existing(todo)
        changes = _Changes(consent=self._consent(now), now=now)
        for cand in todo:
            old = existing.get(cand.email)
            if old is None:
                changes.new_people.append(cand)
            else:
                self._plan_update(cand, old, subs.get(old.id), tags.get(old.id, set()), changes)
        lost = self._insert_new_people(changes)
        self._write(changes)
        if lost:
            # Inserted by someone else between our SELECT and INSERT: now they exist, so update.
            self._apply(lost)

    def _load_existing(
        self, todo: list[Candidate]
    ) -> tuple[dict[str, Any], dict[int, Any], dict[int, set[str]]]:
        """The batch's existing subscribers by address, their subscriptions to this list and
        their tags, both by subscriber id."""
        s = self.session
        existing = {
            r.email: r
            for r in s.execute(
                select(
                    Subscriber.id,
                    Subscriber.email,
                    Subscriber.name,
                    Subscriber.company,
                    Subscriber.language,
                    Subscriber.attributes,
                ).where(one_of(s, Subscriber.email, [c.email for c in todo]))
            )
        }
        ids = [r.id for r in existing.values()]
        subs = {
            r.subscriber_id: r
            for r in s.execute(
                select(Subscription.id, Subscription.subscriber_id, Subscription.status).where(
                    Subscription.list_id == self.list_id,
                    one_of(s, Subscription.subscriber_id, ids),
                )
            )
        }
        tags: dict[int, set[str]] = {}
        for sid, tag in s.execute(
            select(SubscriberTag.subscriber_id, SubscriberTag.tag).where(
                one_of(s, SubscriberTag.subscriber_id, ids)
            )
        ):
            tags.setdefault(sid, set()).add(tag)
        return existing, subs, tags

    def _consent(self, now: Any) -> dict[str, Any]:
        return {
            "consent_at": now,
            "consent_method": "import",
            "consent_source": f"import: {self.source}"[:500],
            "consent_ip": None,
            "consent_user_agent": None,
        }

    def _plan_update(
        self, cand: Candidate, old: Any, sub: Any, old_tags: set[str], changes: _Changes
    ) -> None:
        """What the file changes for an existing subscriber (see the module docstring), counted
        once per address (not again for a repeat from an earlier batch)."""
        counted = cand.repeat_of is None
        now = changes.now
        if (
            sub is not None
            and sub.status == SubscriptionStatus.UNSUBSCRIBED
            and cand.status != SubscriptionStatus.UNSUBSCRIBED
        ):
            if counted:
                self._not_reactivated(cand)
            return
        changed = False
        fields = {
            "name": cand.name or old.name,
            "company": cand.company or old.company,
            "language": cand.language or old.language,
            "attributes": {
                **(old.attributes or {}),
                **{k: v for k, v in cand.attributes.items() if v},
            },
        }
        if (fields["name"], fields["company"], fields["language"], fields["attributes"]) != (
            old.name,
            old.company,
            old.language,
            old.attributes or {},
        ):
            changes.field_updates.append({"id": old.id, **fields, "updated_at": now})
            changed = True
        tags = cand.tags
        if cand.repeat_of is not None:  # the same file named them earlier: both rows' tags
            tags = sorted(old_tags) + [t for t in cand.tags if t not in old_tags]
        if tags and set(tags) != old_tags:
            changes.tag_rewrites[old.id] = tags
            changed = True
        if sub is None:
            changes.new_subs.append(self._subscription_row(old.id, cand.status, now))
            if cand.status == SubscriptionStatus.UNSUBSCRIBED:
                # A row that says they left (another list's export) is no consent to this one.
                if counted:
                    self._added_unsubscribed(cand)
                return
            changes.consent_updates.append({"id": old.id, **changes.consent})
            if counted:
                self.report.imported += 1
            return
        if (
            cand.status == SubscriptionStatus.UNSUBSCRIBED
            and sub.status != SubscriptionStatus.UNSUBSCRIBED
        ):
            changes.sub_updates.append(
                {
                    "id": sub.id,
                    "status": SubscriptionStatus.UNSUBSCRIBED,
                    "unsubscribed_at": now,
                    "unsubscribe_reason": f"import: {self.source}"[:200],
                }
            )
            if counted:
                self._unsubscribed_by_file(cand, SubscriptionStatus(sub.status))
            return
        if counted:
            if changed:
                self.report.updated += 1
            else:
                self.report.unchanged += 1

    def _unsubscribed_by_file(self, cand: Candidate, was: SubscriptionStatus) -> None:
        self.report.unsubscribed += 1
        self.report.unsubscribed_rows.append(
            _first_row_note(
                cand,
                f"{was.value} on {self.report.list_slug}: unsubscribed by the file's status column",
            )
        )

    def _added_unsubscribed(self, cand: Candidate) -> None:
        self.report.added_unsubscribed += 1
        self.report.added_unsubscribed_rows.append(
            _first_row_note(
                cand,
                f"not on {self.report.list_slug}: added as unsubscribed (the file's status column)",
            )
        )

    def _not_reactivated(self, cand: Candidate) -> None:
        self.report.not_reactivated += 1
        self.report.not_reactivated_rows.append(
            _first_row_note(cand, f"unsubscribed from {self.report.list_slug}: not re-subscribed")
        )

    def _insert_new_people(self, changes: _Changes) -> list[Candidate]:
        """Insert the new subscribers with their tags, queue their subscriptions; the candidates
        another writer inserted first are returned (ON CONFLICT DO NOTHING skipped them)."""
        new_people = changes.new_people
        if not new_people:
            return []
        s, now = self.session, changes.now
        rows = [
            {
                "email": c.email,
                "domain": c.domain,
                "name": c.name,
                "company": c.company,
                "language": c.language,
                "attributes": {k: v for k, v in c.attributes.items() if v},
                "status": SubscriberStatus.ACTIVE,
                **changes.consent,
                "created_at": now,
                "updated_at": now,
            }
            for c in new_people
        ]
        stmt = _upsert_insert(s, Subscriber.__table__).returning(  # type: ignore[arg-type]
            Subscriber.__table__.c.id, Subscriber.__table__.c.email
        )
        created = {email: sid for sid, email in s.execute(stmt, rows)}
        tag_rows = [
            {"subscriber_id": created[c.email], "tag": t}
            for c in new_people
            if c.email in created
            for t in c.tags
        ]
        if tag_rows:
            s.execute(_upsert_insert(s, SubscriberTag.__table__), tag_rows)  # type: ignore[arg-type]
        for c in new_people:
            if c.email in created:
                changes.new_subs.append(self._subscription_row(created[c.email], c.status, now))
                if c.repeat_of is not None:
                    continue
                if c.status == SubscriptionStatus.UNSUBSCRIBED:
                    self._added_unsubscribed(c)
                else:
                    self.report.imported += 1
        return [c for c in new_people if c.email not in created]

    def _write(self, changes: _Changes) -> None:
        """The batch's updates, set-wise: one statement per kind of change."""
        s = self.session
        if changes.field_updates:
            s.execute(update(Subscriber), changes.field_updates)
        if changes.consent_updates:
            s.execute(update(Subscriber), changes.consent_updates)
        if changes.tag_rewrites:
            rewrites = changes.tag_rewrites
            s.execute(
                delete(SubscriberTag).where(one_of(s, SubscriberTag.subscriber_id, list(rewrites)))
            )
            s.execute(
                _upsert_insert(s, SubscriberTag.__table__),  # type: ignore[arg-type]
                [{"subscriber_id": sid, "tag": t} for sid, ts in rewrites.items() for t in ts],
            )
        if changes.new_subs:
            s.execute(_upsert_insert(s, Subscription.__table__), changes.new_subs)  # type: ignore[arg-type]
        if changes.sub_updates:
            s.execute(update(Subscription), changes.sub_updates)

    def _subscription_row(
        self, subscriber_id: int, status: SubscriptionStatus | None, now: Any
    ) -> dict[str, Any]:
        status = status or SubscriptionStatus.ACTIVE
        return {
            "subscriber_id": subscriber_id,
            "list_id": self.list_id,
            "status": status,
            "created_at": now,
            "confirmed_at": now if status == SubscriptionStatus.ACTIVE else None,
            "unsubscribed_at": now if status == SubscriptionStatus.UNSUBSCRIBED else None,
            "unsubscribe_reason": (
                f"import: {self.source}"[:200]
                if status == SubscriptionStatus.UNSUBSCRIBED
                else None
            ),
        }


def _import_rows(
    reader: Any,
    lines: LineSource,
    cols: Columns,
    importer: _Importer,
    batch_size: int,
    written: Callable[[], None],
) -> None:
    """Every row after the header: parsed, merged by address, written in batches of
    `batch_size` (`written` is called after each); a bad row is reported and skipped."""
    report, source = importer.report, importer.report.file
    row = 1
    batch: dict[str, Candidate] = {}
    while True:
        record = next_record(reader, source, f" in row {row + 1}", lines)
        if record is None:
            break
        row += 1
        line = lines.first_line
        if not any(cell.strip() for cell in record):
            continue  # a blank row: nothing to import, nothing lost
        report.records += 1
        runaway = runaway_row(record, lines, cols, row)
        if runaway is not None:
            report.skipped += 1
            report.problems.append(runaway)
            continue
        try:
            cand = parse_row(record, cols, row, line, separator=lines.separator)
        except (InvalidAddress, InvalidInput) as exc:
            email_pos = cols.index["email"]
            raw = record[email_pos] if email_pos < len(record) else ""
            report.skipped += 1
            column = getattr(exc, "column", "")
            report.problems.append(RowProblem(row, line, lines.last_line, raw, str(exc), column))
            continue
        report.value_notes.extend(RowNote(row, line, cand.email, note) for note in cand.notes)
        if cand.email in batch:
            batch[cand.email].merge(cand)
        else:
            batch[cand.email] = cand
        if len(batch) >= batch_size:
            importer.write_batch(batch)
            batch = {}
            written()
    importer.write_batch(batch)
    written()


def import_csv_file(
    session: Session,
    mlist: MailingList,
    fileobj: BinaryIO,
    source: str,
    secret: str,
    *,
    total_bytes: int = 0,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    separator: str | None = None,
) -> ImportReport:
    """Import an open binary CSV stream (an uploaded file, or a file on disk) into `mlist`.

    `source` names the file in errors and (its last part) in consent records. Runs inside the
    caller's transaction: a file-level error (no header, bad UTF-8) raises ImportFileError and
    the caller's rollback leaves the database as it was; row-level problems are in the report.
    `separator` forces the field separator (one of SEPARATORS); by default it is detected.
    """
    if separator is not None and separator not in SEPARATORS:
        raise InvalidInput(f"unknown separator {separator!r}: use one of , ; | or a TAB (\\t)")
    importer = _Importer(session, mlist, source, secret)
    report = importer.report
    read = [0]
    lines = decoded_lines(fileobj, source, read, report.legacy_lines, report.legacy_encodings)
    sample = sample_lines(lines)
    report.separator = separator or choose_separator(sample)
    report.separator_detected = separator is None
    source_lines = LineSource(itertools.chain(sample, lines), report.separator)
    # A space after the separator is not part of the value (`a, "b, c"` is two values).
    reader = csv.reader(source_lines, delimiter=report.separator, skipinitialspace=True)
    connection = session.connection()
    _seen.drop(connection, checkfirst=True)
    _seen.create(connection)
    try:
        header = next_record(reader, source, "", source_lines)
        cols = read_header(header, source, report)

        def written() -> None:
            if progress is not None:
                progress(read[0], total_bytes)

        _import_rows(reader, source_lines, cols, importer, batch_size, written)
    finally:
        _seen.drop(connection, checkfirst=True)
    # A campaign may be sent right after this import: plan it from statistics that know the rows.
    analyze(session, "subscriber", "subscription", "subscriber_tag")
    report.duplicates.sort(key=lambda d: d.row)
    return report


def import_csv(
    session: Session,
    mlist: MailingList,
    path: str | os.PathLike[str],
    secret: str,
    *,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    separator: str | None = None,
) -> ImportReport:
    """`mailer subscribers import FILE --list SLUG`: see the module docstring for the rules."""
    p = Path(path)
    try:
        fileobj = p.open("rb")
    except OSError as exc:
        raise ImportFileError(f"cannot open: {exc.strerror}", path=str(path)) from None
    with fileobj:
        return import_csv_file(
            session,
            mlist,
            fileobj,
            str(path),
            secret,
            total_bytes=p.stat().st_size,
            progress=progress,
            batch_size=batch_size,
            separator=separator,
        )


def _first_row_note(cand: Candidate, text: str) -> RowNote:
    """A note about `cand` at the first row that named it."""
    row, line = cand.rows[0]
    return RowNote(row, line, cand.email, text)
