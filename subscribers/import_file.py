"""The subscriber file as `mailer subscribers import` reads it: lines, separator, header, rows,
and the report every import fills in (pure data: the CLI prints it, the web admin renders it).

What the file may hold and what an import does with it is the contract in
`subscribers.importing`'s docstring; this module turns bytes into cleaned `Candidate`s and
ImportFileErrors that name the file and line, and touches no database.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from subscribers.addresses import parse_address
from subscribers.attributes import ATTR_KEY_MAX, ATTR_PREFIX, JSON_COLUMNS, row_attributes
from subscribers.encodings import encoding_name
from subscribers.errors import ImportFileError, InvalidAddress, InvalidInput
from subscribers.formulas import unformula
from subscribers.languages import parse_language
from subscribers.lifecycle import COMPANY_MAX, NAME_MAX, clean_tags, clean_text, split_tags
from subscribers.models import (
    SubscriptionStatus,
)
from subscribers.text import has_control_characters

COLUMNS = ("email", "name", "company", "language", "tags")
# Other names taken for a column: `lang` is the segment keyword and the front matter's key, so a
# file calling its language column that means the language (unless it also has `language`).
COLUMN_ALIASES = {"lang": "language"}
# The columns other tools' exports give under their own names (Mailchimp, Outlook, Google
# Contacts, listmonk, a Spanish spreadsheet), in lower case; each is read as the column it names
# when the file has no column of that name (beside a real `email`, `E-mail Address` is an
# attribute). `first_name` and `last_name` make the name when there is no name column.
HEADER_ALIASES = {
    **{k: "email" for k in ("email address", "e-mail address", "e-mail", "e-mail 1 - value")},
    **{k: "email" for k in ("correo", "correo electrónico", "correo electronico")},
    **{k: "name" for k in ("full name", "display name", "nombre completo")},
    **{k: "first_name" for k in ("first name", "first_name", "firstname", "given name")},
    **{k: "first_name" for k in ("nombre", "fname")},
    # German, French, Portuguese and Italian sheets (Excel in those locales, Brevo's French
    # export): `nome` alone is a first name that is the whole name, as `nombre` is.
    **{k: "first_name" for k in ("vorname", "prénom", "prenom", "nome")},
    **{k: "last_name" for k in ("nachname", "nom", "nom de famille", "sobrenome", "cognome")},
    **{k: "company" for k in ("firma", "unternehmen", "société", "societe", "entreprise")},
    **{k: "company" for k in ("azienda",)},
    **{k: "language" for k in ("sprache", "langue", "lingua")},
    **{k: "last_name" for k in ("last name", "last_name", "lastname", "family name", "surname")},
    **{k: "last_name" for k in ("apellido", "apellidos", "lname")},
    **{k: "company" for k in ("organization", "organisation", "organization 1 - name")},
    **{k: "company" for k in ("company name", "empresa", "compañía", "compania")},
    **{k: "language" for k in ("idioma", "language code")},
    **{k: "tags" for k in ("etiquetas", "labels")},  # Ghost calls them labels
    **{k: "status" for k in ("estado",)},
    # A true/false column saying whether the reader gets emails (Ghost), or that they do not
    # (Substack): an export's unsubscribed readers must not come in active.
    "subscribed to emails": "subscribed",
    "email disabled": "email_disabled",
}
NAME_PARTS = ("first_name", "last_name")
FLAGS = ("subscribed", "email_disabled")
_YES = frozenset(("true", "yes", "y", "1", "t", "sí", "si", "x"))
_NO = frozenset(("false", "no", "n", "0", "f", ""))
EMAIL_ALIASES_SHOWN = "'Email Address', 'E-mail Address', 'E-mail 1 - Value', 'Correo electrónico'"
EXPORT_COLUMNS = (*COLUMNS, "status")
ATTR_COLUMNS_MAX = 50
BATCH_SIZE = 1000
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
SNIFF_BYTES = 64 * 1024  # of the file's start, for separator detection

Progress = Callable[[int, int], None]  # (bytes read so far, file size)


# --- the report (pure data: the CLI prints it, the web admin renders it) ---------------------


@dataclass(frozen=True)
class RowProblem:
    """A row that was skipped: where it is and why."""

    row: int  # the spreadsheet row (header = 1)
    line: int  # first physical line of the record in the file
    end_line: int  # last physical line (differs when a quoted field spans lines)
    email: str  # the cell as written (may contain CR/LF: escape before printing)
    reason: str
    column: str = ""  # the cell at fault, `column 3 ('Idioma')`, when it is one cell


@dataclass(frozen=True)
class RowNote:
    """A valid row that was deliberately not applied (suppressed, or unsubscribed from the list)."""

    row: int
    line: int
    email: str
    reason: str


@dataclass(frozen=True)
class Duplicate:
    """A row whose address already appeared earlier in the file; merged into that row."""

    row: int
    line: int
    first_row: int
    email: str


@dataclass
class ImportReport:
    """What happened. Invariant: records == imported + updated + unchanged + unsubscribed +
    added_unsubscribed + suppressed + not_reactivated + skipped + len(duplicates)."""

    file: str
    list_slug: str
    records: int = 0  # data rows read (blank rows not counted)
    imported: int = 0  # addresses newly subscribed to the list
    updated: int = 0  # already on the list, details changed
    unchanged: int = 0  # already on the list, nothing to change
    # on the list (active or pending) and unsubscribed from it by the file's status column: an
    # export of another list carries that list's statuses, so this is never folded into updated
    unsubscribed: int = 0
    # not on the list and `unsubscribed` in the file's status column: added as unsubscribed (so
    # no later import subscribes them), never counted as imported, their consent left alone
    added_unsubscribed: int = 0
    suppressed: int = 0  # on the suppression list: refused
    not_reactivated: int = 0  # unsubscribed from this list: left unsubscribed
    skipped: int = 0  # bad rows
    problems: list[RowProblem] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    suppressed_rows: list[RowNote] = field(default_factory=list)
    not_reactivated_rows: list[RowNote] = field(default_factory=list)
    unsubscribed_rows: list[RowNote] = field(default_factory=list)
    # attribute values of imported rows that were not stored (too long, …), naming the column
    value_notes: list[RowNote] = field(default_factory=list)
    added_unsubscribed_rows: list[RowNote] = field(default_factory=list)
    attribute_columns: list[str] = field(default_factory=list)  # header → attributes[KEY]
    # attribute column → the subscriber column its name is close to (`lang` → `language`)
    column_hints: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[int] = field(default_factory=list)  # 1-based, no header name
    # (header title, column) of each column read under another tool's name (HEADER_ALIASES)
    renamed_columns: list[tuple[str, str]] = field(default_factory=list)
    # lines that were not UTF-8 and were read in a legacy encoding (csv_lines.decoded_lines)
    legacy_lines: list[int] = field(default_factory=list)
    # the codecs they were read in (e.g. "cp1251"), the file's judged encoding first
    legacy_encodings: list[str] = field(default_factory=list)
    separator: str = ","  # the field separator the file was read with
    separator_detected: bool = True  # False when the caller named it

    @property
    def separator_name(self) -> str:
        """`semicolon (;)`: how reports name the separator."""
        shown = "\\t" if self.separator == "\t" else self.separator
        return f"{SEPARATORS.get(self.separator, 'separator')} ({shown})"

    @property
    def balanced(self) -> bool:
        """The invariant above: every data row is counted exactly once."""
        return self.records == (
            self.imported
            + self.updated
            + self.unchanged
            + self.unsubscribed
            + self.added_unsubscribed
            + self.suppressed
            + self.not_reactivated
            + self.skipped
            + len(self.duplicates)
        )

    def attributes_summary(self) -> str:
        """`compnay (not the company column: rename it company), Sector`: the attribute columns
        as the CLI and the admin list them. A column named like a subscriber column (`compnay`,
        `tag`; `lang` is read as the language unless the file also has `language`) imports
        without error, but its values land in an attribute that neither the
        subscriber's field nor its segment keyword (`lang:es`) reads, so the report says which
        column to rename rather than let the mistake show up weeks later as an empty segment."""
        return ", ".join(
            f"{title} (not the {hint} column: rename it {hint})"
            if (hint := self.column_hints.get(title))
            # `attr.Notes` is stored as `Notes` (segments: `attr.Notes:`): say the key it got.
            else f"{title} as {title[len(ATTR_PREFIX) :]}"
            if title.lower().startswith(ATTR_PREFIX)
            # listmonk's JSON object: one attribute per key, not one named `attributes`.
            else f"{title} (one attribute per JSON key)"
            if title.lower() in JSON_COLUMNS
            else title
            for title in self.attribute_columns
        )

    @property
    def legacy_encoding_name(self) -> str:
        """`Windows-1251 (Cyrillic)`: what the report says the non-UTF-8 lines were read as."""
        names = [encoding_name(codec) for codec in self.legacy_encodings]
        return " or ".join(names) if names else encoding_name("cp1252")

    def legacy_summary(self, shown: int = 10) -> str:
        """`lines 3, 7 and 12`: the lines read in a legacy encoding, as the CLI and the admin
        say them (the first `shown`, then how many more), so the user can check the names."""
        lines = [str(n) for n in self.legacy_lines[:shown]]
        more = len(self.legacy_lines) - len(lines)
        if more:
            lines.append(f"{more} more")
        listed = lines[0] if len(lines) == 1 else ", ".join(lines[:-1]) + " and " + lines[-1]
        return f"line{'s' if len(self.legacy_lines) > 1 else ''} {listed}"

    def columns_read_as(self) -> list[str]:
        """`'Email Address' as email`, `'First Name' + 'Last Name' as name`: the columns read
        under another tool's name, as the CLI and the admin list them (so a wrong guess shows)."""
        parts = [t for t, key in self.renamed_columns if key in NAME_PARTS]
        shown = [f"{t!r} as {key}" for t, key in self.renamed_columns if key not in NAME_PARTS]
        if parts:
            shown.append(" + ".join(repr(t) for t in parts) + " as name")
        return shown

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- reading ---------------------------------------------------------------------------------


@dataclass
class Columns:
    index: dict[str, int]  # known column → position
    attributes: list[tuple[str, int]]  # (attribute key, position)
    width: int
    titles: list[str] = field(default_factory=list)  # the header's cells, as written


@dataclass
class Candidate:
    """One address's merged rows within a batch."""

    email: str
    domain: str
    rows: list[tuple[int, int]]  # (row, line) of each row merged here, first one first
    name: str = ""
    company: str = ""
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    status: SubscriptionStatus | None = None
    suppress: bool = False  # status `suppressed` (an export's suppressed reader): suppress here
    # attribute values not stored (too long, …), each naming its column; the row is imported
    notes: list[str] = field(default_factory=list)
    repeat_of: int | None = None  # first row, when the address was seen in an earlier batch

    def merge(self, later: Candidate) -> None:
        self.rows.extend(later.rows)
        self.name = later.name or self.name
        self.company = later.company or self.company
        self.language = later.language or self.language
        self.tags = list(dict.fromkeys([*self.tags, *later.tags]))  # one person: both rows' tags
        self.attributes.update({k: v for k, v in later.attributes.items() if v})
        self.status = later.status or self.status
        self.suppress = later.suppress or self.suppress


def _header_cells(lines: list[str], separator: str) -> list[str]:
    try:
        return next(csv.reader(lines, delimiter=separator, skipinitialspace=True), [])
    except csv.Error:
        return []


def choose_separator(lines: list[str]) -> str:
    """The separator of a file starting with `lines` (see the module docstring).

    The header's `email` column is the contract, so a separator that produces it wins outright;
    clevercsv's detection (pattern and type consistency of the rows) breaks a tie or, when no
    separator produces it, picks the one the error message will be about."""
    fitting = [
        sep
        for sep in SEPARATORS
        if any(c.strip().lower() == "email" for c in _header_cells(lines, sep))
    ]
    if len(fitting) == 1:
        return fitting[0]
    candidates = fitting or list(SEPARATORS)
    import clevercsv  # only for a tie: it takes a second to import, most files never need it

    try:
        dialect = clevercsv.Detector().detect("".join(lines), delimiters=candidates)
    except (ValueError, csv.Error, clevercsv.Error):  # a heuristic: never fatal
        dialect = None
    if dialect is not None and dialect.delimiter in candidates:
        return str(dialect.delimiter)
    return candidates[0]


def sample_lines(lines: Iterator[str]) -> list[str]:
    """The first lines of the file, up to SNIFF_BYTES (at least the header)."""
    taken: list[str] = []
    size = 0
    for line in lines:
        taken.append(line)
        size += len(line)
        if size >= SNIFF_BYTES:
            break
    return taken


def meant_column(key: str) -> str | None:
    """The subscriber column an unknown header `key` (lower case) probably means: one it
    abbreviates (`lang`, `tag`, at least three letters) or misspells (`compnay`, `e-mail`);
    None for a name of its own (`sector`). `attr.KEY` is never asked: it says attribute."""
    for column in COLUMNS:
        if len(key) >= 3 and column.startswith(key):
            return column
    close = difflib.get_close_matches(key, COLUMNS, n=1, cutoff=0.75)
    return close[0] if close else None


def _holds_addresses(title: str) -> bool:
    """Whether a header cell is probably the addresses' column under another name (`E-mail
    Address`, `Mail`, `Correo`); never a cell holding a separator (a misread header)."""
    key = title.strip().lower()
    if any(sep in key for sep in SEPARATORS):
        return False
    return "mail" in key or "correo" in key or meant_column(key) == "email"


def no_email_column(header: list[str], separator_name: str) -> str:
    """What a header without an `email` column is told: the columns found, and which one to
    rename to `email` (the one name taken for it, in any case and without surrounding spaces:
    the importer knows no other name for it)."""
    titles = [c.strip() for c in header if c.strip()]
    found = ", ".join(titles) or "nothing"
    if len(found) > 200:
        found = found[:200] + "…"
    likely = next((t for t in titles if _holds_addresses(t)), None)
    which = f" (probably {likely!r})" if likely else ""
    others = ", ".join(EXPORT_COLUMNS[1:-1]) + f" and {EXPORT_COLUMNS[-1]}"
    return (
        f"the header has no column named 'email' (found: {found}); rename the column holding "
        f"the addresses to 'email'{which}: the names taken for it are 'email' in any case "
        f"('Email', 'EMAIL') and other tools' {EMAIL_ALIASES_SHOWN}; the other columns it knows "
        f"are {others} (the file was read as {separator_name}-separated)"
    )


def _has_name(named: set[str], alias: str) -> bool:
    """Whether a first/last-name column is moot: the file has its own name column."""
    return alias in NAME_PARTS and "name" in named


def read_header(header: list[str] | None, name: str, report: ImportReport) -> Columns:
    expected = ",".join(COLUMNS)
    if header is None:
        raise ImportFileError(f"the file is empty; it needs a header row: {expected}", path=name)
    index: dict[str, int] = {}
    attributes: list[tuple[str, int]] = []
    seen: set[str] = set()
    named = {cell.strip().lower() for cell in header}
    for pos, cell in enumerate(header):
        title = cell.strip()
        key = title.lower()
        if key in COLUMN_ALIASES and COLUMN_ALIASES[key] not in named:
            key = COLUMN_ALIASES[key]
        # `email_address` (ConvertKit), `subscribed_to_emails` (Ghost): `_` is a space here.
        alias = HEADER_ALIASES.get(" ".join(key.replace("_", " ").split()))
        if alias and alias not in named and alias not in index and not _has_name(named, alias):
            key = alias
            report.renamed_columns.append((title, alias))
        if not title:
            report.ignored_columns.append(pos + 1)
            continue
        if key in seen:
            raise ImportFileError(
                f"column {title!r} appears twice in the header", path=name, line=1
            )
        seen.add(key)
        if key in EXPORT_COLUMNS or key in NAME_PARTS or key in FLAGS:
            index[key] = pos
        else:
            attr = title[len(ATTR_PREFIX) :] if key.startswith(ATTR_PREFIX) else title
            if not attr:
                raise ImportFileError(f"column {pos + 1} is named {title!r} with no key", path=name)
            if len(attr) > ATTR_KEY_MAX or has_control_characters(attr):
                raise ImportFileError(
                    f"column {pos + 1}: an attribute name must be one line of at most "
                    f"{ATTR_KEY_MAX} characters (found {len(attr)} characters: {attr[:40]!r})",
                    path=name,
                    line=1,
                )
            attributes.append((attr, pos))
            report.attribute_columns.append(title)
    for title in report.attribute_columns:
        meant = None if title.lower().startswith(ATTR_PREFIX) else meant_column(title.lower())
        if meant and meant not in index:  # a file with both `tags` and `tag` means two columns
            report.column_hints[title] = meant
    if len(attributes) > ATTR_COLUMNS_MAX:
        raise ImportFileError(
            f"the header has {len(attributes)} attribute columns; at most {ATTR_COLUMNS_MAX} "
            "are stored per subscriber (remove the columns you do not need)",
            path=name,
            line=1,
        )
    if "email" not in index:
        looks_like_data = False
        for cell in header:
            try:
                parse_address(cell)
                looks_like_data = True
            except InvalidAddress:
                pass
        if looks_like_data:
            raise ImportFileError(
                f"row 1 looks like data, not a header: add a first row naming the columns, "
                f"e.g. {expected}",
                path=name,
                line=1,
            )
        raise ImportFileError(no_email_column(header, report.separator_name), path=name, line=1)
    return Columns(index=index, attributes=attributes, width=len(header), titles=header)


SUPPRESSED = "suppressed"  # the export's status for a reader on the suppression list
# What other tools' exports call our statuses: listmonk (`enabled`, `blocklisted`; its
# subscriptions `confirmed`, `unconfirmed`), Mailchimp (`subscribed`, `cleaned`: a hard bounce),
# ConvertKit (`cancelled`, `bounced`, `complained`) and Spanish sheets.
STATUS_SYNONYMS = {
    "enabled": "active",
    "subscribed": "active",
    "confirmed": "active",
    "unconfirmed": "pending",
    "blocklisted": SUPPRESSED,
    "blacklisted": SUPPRESSED,
    "cleaned": SUPPRESSED,
    # ConvertKit (Kit) and others: a reader who left, or whose address bounced or complained.
    **{k: "unsubscribed" for k in ("cancelled", "canceled", "opted out", "opted-out", "optout")},
    **{k: SUPPRESSED for k in ("bounced", "complained", "hard bounce", "spam", "spam complaint")},
    # Spanish exports (the firm's assistants): `activo`, `baja`, `pendiente`.
    **{k: "active" for k in ("activo", "activa", "suscrito", "suscrita")},
    **{k: "unsubscribed" for k in ("baja", "dado de baja", "desuscrito", "cancelado")},
    "pendiente": "pending",
}


def _status_word(raw: str) -> str:
    """The cell's status in our words (lower case; "" for an empty cell)."""
    text = raw.strip().lower()
    return STATUS_SYNONYMS.get(text, text)


def _flag_status(cols: Columns, cell: Callable[[str], str]) -> SubscriptionStatus | None:
    """The status a true/false `subscribed` or `email_disabled` cell gives (None: it says
    nothing); InvalidInput naming the column as the header writes it for anything else."""
    for key, active_when in (("subscribed", True), ("email_disabled", False)):
        raw = cell(key)
        word = raw.strip().lower()
        if word in _YES or (word in _NO and word):
            yes = word in _YES
            return (
                SubscriptionStatus.ACTIVE if yes == active_when else SubscriptionStatus.UNSUBSCRIBED
            )
        if word:
            pos = cols.index[key]
            title = cols.titles[pos] if pos < len(cols.titles) else key
            raise InvalidInput(
                f"column {pos + 1} ({title!r}) holds {raw.strip()[:40]!r}: expected true or false"
            )
    return None


def _parse_status(raw: str) -> SubscriptionStatus | None:
    """The list status a cell names; None for an empty cell and for `suppressed` (which
    `parse_row` turns into `Candidate.suppress`)."""
    text = _status_word(raw)
    if not text or text == SUPPRESSED:
        return None
    try:
        return SubscriptionStatus(text)
    except ValueError:
        raise InvalidInput(
            f"unknown status {raw.strip()!r}: use active, pending, unsubscribed or suppressed"
        ) from None


# `Ana López <ana@example.org>`, `"López, Ana" <ana@…>`, `<ana@…>` (as Outlook and Gmail copy an
# address), or `mailto:ana@…` (a link copied from a web page): one address and nothing after it.
_DISPLAY_NAME = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<\s*(?P<address>[^<>\s]+)\s*>\s*$")
_MAILTO = re.compile(r"^\s*mailto:(?P<address>\S+)\s*$", re.IGNORECASE)


def split_display_name(cell: str) -> tuple[str, str]:
    """The address an email cell holds and the display name written with it ("" if none).

    Why: an address copied from a mail program comes with the person's name around it; it is
    still one person's address, and the name is theirs when the row's name cell is empty. Any
    other text is returned as it is, for `parse_address` to say what is wrong with it."""
    mailto = _MAILTO.match(cell)
    if mailto is not None:
        return mailto["address"], ""
    match = _DISPLAY_NAME.match(cell)
    if match is None:
        return cell, ""
    name = match["name"]
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"')
    return match["address"], name.strip()


def _full_name(cell: Callable[[str], str]) -> str:
    """The first and last name columns (Mailchimp's, Outlook's) as one name."""
    return " ".join(part for part in (cell(k).strip() for k in NAME_PARTS) if part)


def parse_row(
    record: list[str], cols: Columns, row: int, line: int, *, separator: str = ","
) -> Candidate:
    """A candidate from one CSV record; InvalidAddress/InvalidInput say what is wrong.
    `separator` is the file's, named when a row has too many fields."""
    if len(record) > cols.width:
        raise InvalidInput(
            f"the row has {len(record)} fields but the header has {cols.width} "
            f"(a {SEPARATORS.get(separator, repr(separator))} inside a value needs quotes)"
        )

    record = [unformula(c) for c in record]

    def cell(key: str) -> str:
        pos = cols.index.get(key)
        return record[pos] if pos is not None and pos < len(record) else ""

    with _in_column(cols, "email"):
        written, display = split_display_name(cell("email"))
        address = parse_address(written)
    with _in_column(cols, "name", *NAME_PARTS):
        name = clean_text(cell("name").strip() or _full_name(cell) or display, "name", NAME_MAX)
    with _in_column(cols, "company"):
        company = clean_text(cell("company"), "company", COMPANY_MAX)
    with _in_column(cols, "language"):
        language = parse_language(cell("language"))
    with _in_column(cols, "tags"):
        tags = clean_tags(split_tags(cell("tags")))
    with _in_column(cols, "status"):
        status = _parse_status(cell("status"))
    attributes, notes = row_attributes(record, cols.attributes, cols.titles)
    return Candidate(
        email=address.email,
        domain=address.domain,
        rows=[(row, line)],
        name=name,
        company=company,
        language=language,
        tags=tags,
        attributes=attributes,
        status=status or _flag_status(cols, cell),
        suppress=_status_word(cell("status")) == SUPPRESSED,
        notes=notes,
    )


@contextmanager
def _in_column(cols: Columns, *keys: str) -> Iterator[None]:
    """Name the column (`column 3 ('Nombre')`) in a value's error, so the user finds the cell:
    the row and line are the report's, the column is the value's."""
    try:
        yield
    except (InvalidAddress, InvalidInput) as exc:
        positions = [cols.index[k] for k in keys if k in cols.index]
        if not positions:
            raise
        pos = positions[0]
        title = cols.titles[pos] if pos < len(cols.titles) else keys[0]
        exc.column = f"column {pos + 1} ({title!r})"  # type: ignore[union-attr]
        raise
