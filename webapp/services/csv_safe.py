"""SEC-5: the one CSV writer of every export. A cell a spreadsheet would run as a formula
(text starting with = + - @, a tab or a carriage return) is written with a leading
apostrophe, in every column; imports strip that apostrophe again (directory_csv)."""

from __future__ import annotations

import csv
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """Numbers stay numbers; text that could start a formula is neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        text = str(value)
        return "'" + text if text.startswith(FORMULA_START) else text
    return value


class SafeWriter:
    """`csv.writer` with French spreadsheet defaults (`;`, CRLF) and neutralised cells."""

    def __init__(self, buffer, delimiter: str = ";") -> None:
        self._writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")

    def writerow(self, row) -> Any:
        return self._writer.writerow([cell(v) for v in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def writer(buffer, delimiter: str = ";") -> SafeWriter:
    return SafeWriter(buffer, delimiter)
