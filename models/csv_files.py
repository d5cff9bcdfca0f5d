"""Reading a CSV file someone else wrote: its encoding, its delimiter and its column names.

Labelled files and replays come from spreadsheets and exports as often as from scripts. Three
things differ between them that the standard :mod:`csv` module does not settle by itself, and
each one read wrongly loses rows without a word: a byte-order mark glued to the first column's
name (Excel's "CSV UTF-8" writes one), so that column is never found and every row reads as
empty; text in Windows-1252 or Latin-1, on which a UTF-8 reader stops halfway with a traceback;
and tabs or semicolons between the fields (a spreadsheet in a locale that writes decimal
commas), which make the whole header one column.

* :func:`file_encoding` names the encoding to open a file with: UTF-16 when it starts with its
  byte-order mark, else UTF-8 (a mark skipped), where the bytes that are not UTF-8 read as
  Windows-1252 one by one: a file saved by an old spreadsheet, or a UTF-8 file with a few such
  lines pasted in, reads whole and keeps its UTF-8 text as it is. It reads the file once, in
  blocks.
* :func:`read_table` reads the whole file as rows of the columns asked for: the delimiter is the
  first of ``,`` tab ``;`` ``|`` whose header holds every column asked for; a column is found by
  its name as written, else by its name with spaces trimmed and case folded ("Text " for
  ``text``), and each row holds it under the name asked for. A missing column, a file with no
  header or a malformed row is a :class:`TableError` that says which, never a traceback.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

DELIMITERS = (",", "\t", ";", "|")
"""Delimiters tried in this order; the first whose header holds every column asked for wins."""
_BLOCK = 1 << 20
_UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class TableError(ValueError):
    """A file that cannot be read as a table with the columns asked for; the message says why."""


@dataclass(frozen=True)
class Table:
    """The rows of a file, each a dict holding at least the columns asked for (missing cells
    read as ""), with how the file was read.
    """

    rows: list[dict[str, str]]
    columns: tuple[str, ...]
    encoding: str
    delimiter: str
    found: frozenset[str] = frozenset()
    """The names asked for (required and optional) that the file has."""


def _bytes_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    """The error handler ``youasked-cp1252``: bytes that are not UTF-8 read as Windows-1252
    (Latin-1 for its five unassigned bytes), so a UTF-8 file with a few Windows lines keeps both.
    """
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return "".join(bytes([byte]).decode("cp1252", errors="strict") if byte not in _UNASSIGNED
                   else chr(byte) for byte in chunk), error.end


_UNASSIGNED = frozenset((0x81, 0x8D, 0x8F, 0x90, 0x9D))
FALLBACK_ERRORS = "youasked-cp1252"
"""The ``errors`` argument that reads the bytes of a text that are not UTF-8 as Windows-1252."""
codecs.register_error(FALLBACK_ERRORS, _bytes_as_cp1252)


def file_encoding(path: Path | str) -> tuple[str, str]:
    """``(encoding, errors)`` to open ``path`` with: ``("utf-16", "strict")`` when it starts with
    UTF-16's byte-order mark; ``("utf-8-sig", "strict")`` when all of it is UTF-8 (a mark skipped);
    else ``("utf-8-sig", FALLBACK_ERRORS)``: UTF-8 where it is, Windows-1252 byte by byte elsewhere.
    """
    source = Path(path)
    with source.open("rb") as handle:
        if handle.read(2) in _UTF16_MARKS:
            return "utf-16", "strict"
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        with source.open("rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "utf-8-sig", FALLBACK_ERRORS
    return "utf-8-sig", "strict"


def _folded(name: str) -> str:
    return name.strip().casefold()


def _resolve(header: Sequence[str], wanted: Sequence[str]) -> dict[str, str] | None:
    """``{asked name: the header's name}`` when every asked column is in ``header``, else None."""
    found: dict[str, str] = {}
    for name in wanted:
        if name in header:
            found[name] = name
            continue
        matches = [column for column in header if _folded(column) == _folded(name)]
        if len(matches) != 1:
            return None
        found[name] = matches[0]
    return found


def read_table(path: Path | str, *, required: Sequence[str] = (), optional: Sequence[str] = ()) -> Table:
    """Every row of ``path`` with the ``required`` columns (see the module docstring), and the
    ``optional`` ones the file has (``Table.found`` names them).
    """
    source = Path(path)
    encoding, errors = file_encoding(source)
    if errors != "strict":
        logger.warning("%s is not all UTF-8: its other bytes are read as Windows-1252", source.name)
    text = source.read_bytes().decode(encoding, errors=errors)
    first_line = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    if not first_line.strip():
        raise TableError(f"{source.name}: no header line (the file is empty or starts with a blank line)")
    chosen: tuple[str, list[str], dict[str, str]] | None = None
    for delimiter in DELIMITERS:
        header = next(csv.reader([first_line], delimiter=delimiter))
        columns = _resolve(header, required)
        if columns is not None:
            chosen = (delimiter, header, columns)
            break
    if chosen is None:
        header = next(csv.reader([first_line]))
        missing = [name for name in required if _resolve(header, [name]) is None]
        raise TableError(
            f"{source.name}: no column {', '.join(repr(name) for name in missing)}; its header reads "
            f"{', '.join(repr(name) for name in header[:20])}"
        )
    delimiter, header, columns = chosen
    for name in optional:
        if name not in columns and (match := _resolve(header, [name])) is not None:
            columns.update(match)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    rows: list[dict[str, str]] = []
    try:
        for raw in reader:
            row = {str(key): value or "" for key, value in raw.items() if key is not None}
            for name, column in columns.items():
                row[name] = raw.get(column) or ""
            rows.append(row)
    except csv.Error as error:
        raise TableError(f"{source.name}, the record after line {reader.line_num}: {error}") from None
    return Table(
        rows=rows, columns=tuple(header), encoding=encoding, delimiter=delimiter, found=frozenset(columns)
    )
