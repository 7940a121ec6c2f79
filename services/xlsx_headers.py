"""The header row of an XLSX upload, read without loading the sheet (R-IMP-1).

The upload's columns are checked while the request waits, and python-calamine loads a whole
sheet before it yields a row: a 100,000-row workbook would cost the API process over 150 MB
for a check that needs one row. Here the first sheet's XML is parsed as a stream up to its
first non-blank row, and the shared-strings part only as far as the strings that row uses.
The job still reads the whole file with calamine; both give the same headers (a test holds
them to it)."""

import posixpath
import re
import zipfile
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml.ElementTree import fromstring, iterparse

from services.imports_files import cell_text, trimmed_headers, unreadable

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PACKAGE = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_SHARED_STRINGS = "/sharedStrings"
_COLUMN = re.compile(r"[A-Z]+")


def _column(reference: str | None, default: int) -> int:
    """A cell's 0-based column from its reference (`C2` → 2); cells may omit it."""
    letters = _COLUMN.match(reference or "")
    if letters is None:
        return default
    number = 0
    for letter in letters.group():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number - 1


def _parts(book: zipfile.ZipFile) -> tuple[str, str | None]:
    """The first sheet's part and the shared strings' part, from the workbook's relations."""
    workbook = fromstring(book.read("xl/workbook.xml"))
    first = workbook.find(f"{_MAIN}sheets/{_MAIN}sheet")
    if first is None:
        raise unreadable("import_file_empty")
    targets: dict[str, tuple[str, str]] = {}
    for relation in fromstring(book.read("xl/_rels/workbook.xml.rels")).iter(_PACKAGE):
        target = relation.get("Target", "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        targets[relation.get("Id", "")] = (relation.get("Type", ""), posixpath.normpath(part))
    sheet = targets.get(first.get(_RELATIONSHIP, ""))
    if sheet is None:
        raise unreadable("import_file_unreadable")
    shared = next((part for kind, part in targets.values() if kind.endswith(_SHARED_STRINGS)), None)
    return sheet[1], shared


def _text_of(element: Element) -> str:
    """A string item's text: its runs, without the phonetic guide (`rPh`) above them."""
    if (plain := element.find(f"{_MAIN}t")) is not None:
        return plain.text or ""
    return "".join(run.text or "" for run in element.iterfind(f"{_MAIN}r/{_MAIN}t"))


def _raw(cell: Element) -> str:
    """A cell's value as written: inline text, else its `v`."""
    if (inline := cell.find(f"{_MAIN}is")) is not None:
        return _text_of(inline)
    value = cell.find(f"{_MAIN}v")
    return (value.text or "") if value is not None else ""


def _first_row(stream: Any) -> dict[int, tuple[str | None, str]]:
    """The first row with a value: its cells by column, each (type, raw value)."""
    for _, row in iterparse(stream, events=("end",)):
        if row.tag != f"{_MAIN}row":
            continue
        cells: dict[int, tuple[str | None, str]] = {}
        column = -1
        for cell in row.iterfind(f"{_MAIN}c"):
            column = _column(cell.get("r"), column + 1)
            if (raw := _raw(cell)).strip():
                cells[column] = (cell.get("t"), raw)
        if cells:
            return cells
        row.clear()
    raise unreadable("import_file_empty")


def _shared(stream: Any, wanted: set[int]) -> dict[int, str]:
    """The shared strings at the wanted positions; the part is read no further."""
    found: dict[int, str] = {}
    position = 0
    last = max(wanted, default=-1)
    for _, item in iterparse(stream, events=("end",)):
        if item.tag != f"{_MAIN}si":
            continue
        if position in wanted:
            found[position] = _text_of(item)
        if position >= last:
            break
        position += 1
        item.clear()
    return found


def _value(kind: str | None, raw: str, strings: dict[int, str]) -> str:
    if kind == "s":
        return strings.get(int(raw), "").strip()
    if kind == "b":
        return cell_text(raw == "1")
    if kind in (None, "n"):
        return cell_text(float(raw))
    return raw.strip()


def xlsx_headers(path: Path) -> list[str]:
    """The first sheet's header row as the job will read it; `Invalid` when the file is no
    workbook or has no row with a value."""
    try:
        with zipfile.ZipFile(path) as book:
            sheet, shared = _parts(book)
            with book.open(sheet) as stream:
                cells = _first_row(stream)
            wanted = {int(raw) for kind, raw in cells.values() if kind == "s"}
            strings: dict[int, str] = {}
            if wanted and shared is not None:
                with book.open(shared) as stream:
                    strings = _shared(stream, wanted)
        first = min(cells)
        texts = [""] * (max(cells) - first + 1)
        for column, (kind, raw) in cells.items():
            texts[column - first] = _value(kind, raw, strings)
    except (zipfile.BadZipFile, KeyError, ParseError, ValueError, OSError) as exc:
        raise unreadable("import_file_unreadable") from exc
    return trimmed_headers(texts)
