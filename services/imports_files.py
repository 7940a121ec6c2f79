"""Reading uploaded tables row by row (R-IMP-1): CSV through the csv module over the file,
XLSX through python-calamine, XML through defusedxml's incremental parser. A table is never
held whole in memory by our code: each yields one row at a time, with how far into the file
it has got, so a million-row CSV costs what one row costs.

CSV may come as UTF-8 (with or without the byte-order mark Excel writes) or in GB18030, the
superset of the GBK that Chinese spreadsheets save by default; the encoding is decided from
the file's beginning. XML is `<rows><row><姓名>…</姓名>…</row>…</rows>`: one element per row,
one child per column, named by the column's header."""

import asyncio
import codecs
import csv
import io
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from defusedxml.ElementTree import iterparse
from python_calamine import CalamineError, CalamineWorkbook

from domain.errors import FieldError, Invalid

FORMATS = ("csv", "xlsx", "xml")
_SNIFF = 64 * 1024
# Checked in this order; GB18030 decodes GBK and GB2312 files alike.
_ENCODINGS = ("utf-8", "gb18030")

Row = dict[str, str]


def unreadable(code: str) -> Invalid:
    return Invalid(code, errors=[FieldError("file", code)])


@dataclass
class Table:
    """A file's header row and its data rows (numbered as a spreadsheet shows them: the
    header is row 1), with `progress()` the fraction of the file read so far."""

    headers: list[str]
    rows: Iterator[tuple[int, Row]]
    _progress: Any

    def progress(self) -> float:
        return float(min(1.0, max(0.0, self._progress())))


def format_of(filename: str) -> str:
    """`csv`, `xlsx` or `xml` from the file name's extension; else 422."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in FORMATS:
        raise unreadable("import_format_unsupported")
    return ext


def _encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for name in _ENCODINGS:
        try:
            # Not final: the sniffed block may end inside a character.
            codecs.getincrementaldecoder(name)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return name
    raise unreadable("import_encoding_invalid")


def cell_text(value: Any) -> str:
    """A spreadsheet cell as text: whole numbers without `.0` (ID numbers typed as numbers
    lose nothing up to 15 digits), dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def trimmed_headers(cells: list[str]) -> list[str]:
    """A sheet's header row without its trailing empty cells: they are the sheet's width,
    not columns."""
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end]


def _zipped(headers: list[str], cells: list[str]) -> Row:
    return {h: c.strip() for h, c in zip(headers, cells, strict=False)}


def _csv(raw: IO[bytes], size: int) -> Table:
    encoding = _encoding(raw.read(_SNIFF))
    raw.seek(0)
    stream = io.TextIOWrapper(raw, encoding=encoding, newline="")
    reader = csv.reader(stream)

    def records() -> Iterator[list[str]]:
        try:
            yield from reader
        except UnicodeDecodeError as exc:
            raise unreadable("import_encoding_invalid") from exc
        except csv.Error as exc:
            raise unreadable("import_file_unreadable") from exc

    lines = records()
    headers = next((cells for cells in lines if not _blank(cells)), None)
    if headers is None:
        raise unreadable("import_file_empty")
    headers = [h.strip() for h in headers]

    def rows() -> Iterator[tuple[int, Row]]:
        for number, cells in enumerate(lines, start=2):
            if not _blank(cells):
                yield number, _zipped(headers, cells)

    # Through the wrapper, which must outlive the rows: collecting it would close the file.
    return Table(headers, rows(), lambda: stream.buffer.tell() / size if size else 1.0)


def _xlsx(path: Path) -> Table:
    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        lines = iter(sheet.iter_rows())
        height = sheet.total_height or 1
    except (CalamineError, OSError, ValueError) as exc:
        raise unreadable("import_file_unreadable") from exc
    read = 0
    headers: list[str] | None = None
    for cells in lines:
        read += 1
        texts = [cell_text(c) for c in cells]
        if not _blank(texts):
            headers = texts
            break
    if headers is None:
        raise unreadable("import_file_empty")
    headers = trimmed_headers(headers)

    def rows() -> Iterator[tuple[int, Row]]:
        nonlocal read
        for cells in lines:
            read += 1
            texts = [cell_text(c) for c in cells]
            if not _blank(texts):
                yield read, _zipped(headers, texts)

    return Table(headers, rows(), lambda: read / height)


def _xml(raw: IO[bytes], size: int) -> Table:
    events = iterparse(raw, events=("start", "end"))

    def elements() -> Iterator[Row]:
        depth = 0
        root = None
        try:
            for event, element in events:
                if event == "start":
                    depth += 1
                    root = element if root is None else root
                    continue
                depth -= 1
                if depth == 1:
                    yield {child.tag.strip(): (child.text or "").strip() for child in element}
                    # Rows already read are dropped, so the tree never grows.
                    assert root is not None
                    root.clear()
        except Exception as exc:  # ParseError, and defusedxml's refusals of entities
            raise unreadable("import_file_unreadable") from exc

    rows_in = elements()
    first = next(rows_in, None)
    if first is None:
        raise unreadable("import_file_empty")
    headers = list(first)

    def rows() -> Iterator[tuple[int, Row]]:
        yield 2, first
        for number, row in enumerate(rows_in, start=3):
            if any(row.values()):
                yield number, row

    return Table(headers, rows(), lambda: raw.tell() / size if size else 1.0)


@asynccontextmanager
async def opened_table(path: Path, fmt: str) -> AsyncIterator[Table]:
    """`open_table` for a coroutine: the opening runs in a thread, since calamine parses a
    whole XLSX sheet before it yields a row (2.7 s for 100,000 rows, with the GIL released)
    and the event loop would stand still meanwhile."""
    with ExitStack() as stack:
        yield await asyncio.to_thread(stack.enter_context, open_table(path, fmt))


@contextmanager
def open_table(path: Path, fmt: str) -> Iterator[Table]:
    """The table in the file at `path`; `Invalid` when it is empty, undecodable or no table
    of its format."""
    if fmt == "xlsx":
        yield _xlsx(path)
        return
    size = path.stat().st_size
    with path.open("rb") as raw:
        yield _csv(raw, size) if fmt == "csv" else _xml(raw, size)
