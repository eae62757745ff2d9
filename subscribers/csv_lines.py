"""The physical lines of an uploaded CSV file and the records read from them.

Which bytes make a line (LF, CRLF, a lone CR), what is not a text file at all (a spreadsheet in its
own format, UTF-16 without a byte-order mark), how each line is decoded so a bad byte names its
line, and how a record that one stray quote ran over several rows is told apart and read again.
`subscribers.importing` reads its rows through these; nothing here touches the database.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from subscribers.encodings import SAMPLE_BYTES, legacy_encoding
from subscribers.errors import ImportFileError
from subscribers.import_file import Columns, RowProblem

MAX_LINE_BYTES = 1024 * 1024  # one physical line; longer is not a subscriber file

_LINE_END = re.compile(rb"\r\n|\r|\n")

_SAVE_AS_CSV = "; save it as CSV (UTF-8) and import that file"


def not_text(head: bytes) -> str | None:
    """What a file starting with `head` is when it is not a text file at all (a spreadsheet
    saved in its own format, UTF-16 text), said so the user knows what to do; None for text."""
    if head.startswith(b"PK\x03\x04"):
        if b"opendocument.spreadsheet" in head[:200]:
            return "this looks like an OpenDocument spreadsheet (.ods)" + _SAVE_AS_CSV
        if b"xl/" in head or b"[Content_Types].xml" in head:
            return "this looks like an Excel workbook (.xlsx)" + _SAVE_AS_CSV
        return "this looks like a ZIP archive, not a CSV file" + _SAVE_AS_CSV
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "this looks like an old Excel workbook (.xls)" + _SAVE_AS_CSV
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (head[:1] != b"\0" and b"\0" in head[1:4]):
        # With its byte-order mark it would be read (`_utf8_chunks`): this one has none.
        return (
            "this file is UTF-16 text without a byte-order mark, so its byte order is unknown"
            + _SAVE_AS_CSV
        )
    if head.startswith(b"%PDF"):
        return "this is a PDF document, not a CSV file" + _SAVE_AS_CSV
    if b"\0" in _LINE_END.split(head[:4096], maxsplit=1)[0]:  # in the header: not text
        return "this is a binary file, not a CSV file" + _SAVE_AS_CSV
    return None


def _utf8_chunks(fileobj: BinaryIO, name: str, chunk: int) -> Iterator[bytes]:
    """The file's bytes in chunks; a file that starts with a UTF-16 byte-order mark (Excel's
    "Unicode Text", Windows Notepad's "Unicode") decoded as it is read and given as UTF-8, so the
    rest of the import reads one encoding. UTF-16 without the mark is not guessed (`not_text`)."""
    first = fileobj.read(chunk)
    if not first.startswith((b"\xff\xfe", b"\xfe\xff")):
        while first:
            yield first
            first = fileobj.read(chunk)
        return
    decoder = codecs.getincrementaldecoder("utf-16")()
    data = first
    while True:
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"the file starts as UTF-16 text but is not valid UTF-16 ({exc.reason}); save it "
                "as 'CSV UTF-8' and import it again",
                path=name,
            ) from None
        if text:
            yield text.encode("utf-8", "surrogatepass")
        if not data:
            return
        data = fileobj.read(chunk)


def physical_lines(fileobj: BinaryIO, name: str, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """The file's lines with their ends, whichever of LF, CRLF or a lone CR ends them.

    Read in chunks, so a file whose lines end in CR only (old Mac exports: no LF at all) does not
    become one huge line; a line longer than MAX_LINE_BYTES is refused as not a subscriber file.
    """
    pending = b""
    number = 1
    for data in _utf8_chunks(fileobj, name, chunk):
        if number == 1 and not pending and (kind := not_text(data)):
            raise ImportFileError(kind, path=name)
        pending += data
        start = 0
        for match in _LINE_END.finditer(pending):
            if match.end() == len(pending) and match.group() == b"\r":
                break  # the LF of a CRLF may start the next chunk
            yield pending[start : match.end()]
            number += 1
            start = match.end()
        pending = pending[start:]
        if len(pending) > MAX_LINE_BYTES:
            raise ImportFileError(
                f"the line is longer than {MAX_LINE_BYTES // 1024} KiB; this does not look like "
                "a CSV file of subscribers",
                path=name,
                line=number,
            )
    if pending:
        yield pending


# Lines held back, after the first that is not UTF-8, to judge the file's legacy encoding on.
HELD_LINES = 10_000
HELD_BYTES = 8 * 1024 * 1024


class _Legacy:
    """The lines held back while the legacy encoding is not yet judged, and the judgement."""

    def __init__(self, name: str, legacy: list[int], chosen: list[str]) -> None:
        self.name = name
        self.legacy = legacy
        self.chosen = chosen  # the encoding the report names, once judged
        self.codecs: list[str] = []  # the encodings to try, the most likely first
        self.held: list[tuple[int, bytes, str | None]] = []
        self.sample: list[bytes] = []
        self.held_bytes = 0

    def hold(self, number: int, raw: bytes, text: str | None) -> Iterator[str]:
        self.held.append((number, raw, text))
        self.held_bytes += len(raw)
        if text is None and sum(map(len, self.sample)) < SAMPLE_BYTES:
            self.sample.append(raw)
        full = len(self.held) >= HELD_LINES or self.held_bytes >= HELD_BYTES
        if full or sum(map(len, self.sample)) >= SAMPLE_BYTES:
            yield from self.release()

    def release(self) -> Iterator[str]:
        if self.held and not self.codecs:
            self.codecs = legacy_encoding(b"\n".join(self.sample))
            self.chosen[:] = [self.codecs[0]]
        for number, raw, text in self.held:
            yield text if text is not None else self.decode(number, raw)
        self.held, self.held_bytes = [], 0

    def decode(self, number: int, raw: bytes) -> str:
        for codec in self.codecs:
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                continue
            self.legacy.append(number)
            if codec not in self.chosen:
                self.chosen.append(codec)
            return text
        raise _not_utf8(raw, self.name, number)


def _not_utf8(raw: bytes, name: str, number: int) -> ImportFileError:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        reason = f"{error.reason} at byte {error.start + 1} of the line"
    else:  # pragma: no cover - only called for a line that is not UTF-8
        reason = "unknown reason"
    return ImportFileError(
        f"not valid UTF-8 ({reason}); save the file as 'CSV UTF-8' and import it again",
        path=name,
        line=number,
    )


def decoded_lines(
    fileobj: BinaryIO,
    name: str,
    counter: list[int],
    legacy: list[int] | None = None,
    chosen: list[str] | None = None,
) -> Iterator[str]:
    """Decode line by line so that a bad byte is reported with its line number.

    A line that is not UTF-8 is read in the file's legacy encoding (what Excel writes for "CSV
    (Comma delimited)": Windows-1252 on a Western-European Windows, Windows-1251 on a Russian
    one, Shift-JIS on a Japanese one …) and its number added to `legacy`, for the report to
    name; the encodings it was read in go to `chosen`. Refusing the whole file made "José" cost
    every row. The encoding is judged (subscribers.encodings) on the non-UTF-8 lines, so the
    lines from the first of them are held back (at most HELD_LINES) until there are enough to
    judge. UTF-8 is tried first on each line, since accented text in a legacy code page is
    almost never valid UTF-8. A line none can read (or any, when `legacy` is None) refuses the
    file, naming its line.
    """
    held = _Legacy(name, legacy if legacy is not None else [], chosen if chosen is not None else [])
    for number, raw in enumerate(physical_lines(fileobj, name), start=1):
        counter[0] += len(raw)
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text: str | None = raw.decode("utf-8")
        except UnicodeDecodeError:
            if legacy is None:
                raise _not_utf8(raw, name, number) from None
            text = None
        if text is not None and not held.held:
            yield text
        elif text is None and held.codecs:
            yield held.decode(number, raw)
        else:
            yield from held.hold(number, raw, text)
    yield from held.release()


class LineSource:
    """The decoded lines as the csv reader takes them, numbered, with lines that can be put back.

    The physical lines of the record being read are kept (`taken`), so that a record an unclosed
    quote ran over several rows can be read again line by line (`unclosed_quote`)."""

    def __init__(self, lines: Iterator[str], separator: str) -> None:
        self._lines = lines
        self.separator = separator
        self._back: list[tuple[int, str]] = []  # put back, the next one last
        self._number = 0
        self.taken: list[tuple[int, str]] = []

    def __iter__(self) -> LineSource:
        return self

    def __next__(self) -> str:
        if self._back:
            item = self._back.pop()
        else:
            text = next(self._lines)
            self._number += 1
            item = (self._number, text)
        self.taken.append(item)
        return item[1]

    def start_record(self) -> None:
        self.taken = []

    def put_back(self, items: list[tuple[int, str]]) -> None:
        """Make `items` the next lines read, in their order."""
        self._back.extend(reversed(items))

    @property
    def first_line(self) -> int:
        """The first physical line of the record read last (the next line before any read)."""
        if self.taken:
            return self.taken[0][0]
        return self._back[-1][0] if self._back else self._number + 1

    @property
    def last_line(self) -> int:
        return self.taken[-1][0] if self.taken else self.first_line


_TEXT_LINE_END = re.compile(r"\r\n|\r|\n")


def unclosed_quote(record: list[str], taken: list[tuple[int, str]], separator: str) -> int | None:
    """The line on which a quote opened that swallowed whole rows, or None.

    A `"` at the start of a field opens a quoted value that runs to the next `"`, line breaks
    included: one stray quote makes the rows after it part of one cell. That is told apart from
    a real multi-line value (an address on two lines, a quoted name with a break) by what the
    cell holds after a line break: a line with the separator and an `@`, the shape of a row."""
    if len(taken) < 2:
        return None
    start = taken[0][0]
    for cell in record:
        parts = _TEXT_LINE_END.split(cell)
        if len(parts) > 1 and any(separator in p and "@" in p for p in parts[1:]):
            return start
        start += len(parts) - 1
    return None


def next_record(reader: Any, source: str, where: str, lines: LineSource) -> list[str] | None:
    """The next record, None at the end; the csv module's error as an ImportFileError naming the
    file and line (`where` says which row, when there is one)."""
    lines.start_record()
    try:
        return next(reader, None)  # type: ignore[no-any-return]
    except csv.Error as exc:
        raise ImportFileError(
            f"unreadable CSV{where}: {exc}", path=source, line=lines.last_line
        ) from None


def runaway_row(record: list[str], lines: LineSource, cols: Columns, row: int) -> RowProblem | None:
    """A record one stray quote ran over several rows: the row it opened on, as a problem; the
    lines after that one are put back to be read again as rows."""
    opened = unclosed_quote(record, lines.taken, lines.separator)
    if opened is None:
        return None
    again = [(n, text) for n, text in lines.taken if n > opened]
    lines.put_back(again)
    email = record[cols.index["email"]] if cols.index["email"] < len(record) else ""
    shown = f"lines {again[0][0]}-{again[-1][0]}" if len(again) > 1 else f"line {again[0][0]}"
    return RowProblem(
        row,
        lines.taken[0][0],
        opened,
        email.splitlines()[0] if email.strip() else "",
        f"unclosed quote opened on line {opened}: a '\"' starts a quoted value that ran on "
        f"over {shown}; this row is skipped and those lines are read as rows (remove the stray "
        "quote or close it, and import this row again)",
    )
