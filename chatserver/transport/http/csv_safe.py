"""CSV that is safe to open in a spreadsheet.

A cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (`=HYPERLINK(...)`, `@SUM(...)`, DDE): such a cell gets a
leading apostrophe, which spreadsheets show as text and do not display. So does such text after a
semicolon: Excel in a Russian or Polish locale (and others whose list separator is `;`) splits an
unquoted line at semicolons when it opens the file, so `x;=cmd|...` would become a formula cell there.
Numbers are left alone (ours are never negative). Quoting is RFC 4180: a cell with a comma, quote or line break is quoted, quotes doubled;
lines end with CRLF.

The file starts with a UTF-8 byte order mark: without it Excel reads UTF-8 as the local code page and
Cyrillic or Polish names come out garbled. Python's `utf-8-sig` and most CSV tools skip it.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any, Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# a semicolon before a formula start: where `;` is the list separator, a cell begins there
_FORMULA_AFTER_SEMICOLON = re.compile(r";(?=[=+\-@\t\r])")
BOM = "\ufeff"


def safe_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    text = _FORMULA_AFTER_SEMICOLON.sub(";'", str(value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """Rows as CSV text, every cell defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()
