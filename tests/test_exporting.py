"""R-EXP-1 "streaming (constant memory)": the CSV and XLSX writers send bytes while rows are
still being read and keep about a chunk in memory, and cells read as a spreadsheet user
expects — checked by reading the workbooks back with a real spreadsheet reader."""

import csv
import io
import tempfile
import tracemalloc
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

from python_calamine import CalamineWorkbook

from services.exporting import CHUNK, Column, cell, csv_bytes, xlsx_bytes
from services.xlsx_stream import column_letters, stream_xlsx

COLUMNS = [Column("n", "序号"), Column("name", "姓名"), Column("note", "备注")]
ROWS = 60_000


class Source:
    """Rows produced on demand, counting how many were taken."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.taken = 0

    async def rows(self) -> AsyncIterator[dict[str, Any]]:
        for n in range(self.total):
            self.taken += 1
            yield {"n": n, "name": f"居民{n}", "note": "喀什市人民路" * 3}


async def test_r_exp_1_csv_bytes_leave_before_the_rows_are_read() -> None:
    source = Source(ROWS)
    chunks = csv_bytes(source.rows(), COLUMNS)
    header = await anext(chunks)
    assert header.decode("utf-8-sig").strip() == "序号,姓名,备注"
    assert source.taken == 0  # nothing read before the header went out
    first = await anext(chunks)
    assert len(first) >= CHUNK  # CHUNK characters, Chinese ones take three bytes
    assert 0 < source.taken < ROWS // 10  # one chunk's worth of rows, not the whole list
    rest = [chunk async for chunk in chunks]
    assert source.taken == ROWS
    body = header + first + b"".join(rest)
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(lines) == ROWS + 1 and lines[-1][0] == str(ROWS - 1)


async def test_r_exp_1_xlsx_memory_does_not_grow_with_the_rows() -> None:
    """Writing 20,000 rows peaks below a megabyte or so (an in-memory workbook of this size
    holds over ten megabytes of cells)."""
    rows = 20_000
    with tempfile.TemporaryFile() as out:
        tracemalloc.start()
        try:
            async for chunk in xlsx_bytes(Source(rows).rows(), COLUMNS):
                assert len(chunk) <= CHUNK
                out.write(chunk)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        out.seek(0)
        with zipfile.ZipFile(out) as book:
            sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert peak < 3 * 1024 * 1024, peak
    assert sheet.count("<row ") == rows + 1
    assert f"居民{rows - 1}" in sheet  # strings inline, no shared-string table to hold


async def test_r_exp_1_xlsx_bytes_leave_before_the_rows_are_read() -> None:
    source = Source(ROWS)
    chunks = xlsx_bytes(source.rows(), COLUMNS)
    first = await anext(chunks)
    assert len(first) == CHUNK
    assert 0 < source.taken < ROWS // 2
    body = first + b"".join([chunk async for chunk in chunks])
    rows = CalamineWorkbook.from_filelike(io.BytesIO(body)).get_sheet_by_index(0).to_python()
    assert rows[0] == ["序号", "姓名", "备注"]
    assert len(rows) == ROWS + 1 and rows[-1][:2] == [ROWS - 1, f"居民{ROWS - 1}"]


async def _workbook(rows: list[list[Any]], **options: Any) -> CalamineWorkbook:
    async def source() -> AsyncIterator[list[Any]]:
        for row in rows:
            yield row

    pieces = stream_xlsx(source(), ["甲", "乙", "丙"], sheet="人口", chunk=CHUNK, **options)
    return CalamineWorkbook.from_filelike(io.BytesIO(b"".join([p async for p in pieces])))


async def test_r_exp_1_xlsx_cells_keep_their_types_and_text() -> None:
    long = "长" * 40_000
    rows: list[list[Any]] = [
        [1, 2.5, "<b>&amp;\"'"],
        [None, "  前后空格  ", "控制\x00字符\x1f"],
        [10**15, float("nan"), long],
        ["110101199003077777", -3, "第\n二行"],
    ]
    sheet = (await _workbook(rows)).get_sheet_by_name("人口").to_python()
    assert sheet[0] == ["甲", "乙", "丙"]
    assert sheet[1] == [1, 2.5, "<b>&amp;\"'"]
    assert sheet[2] == ["", "  前后空格  ", "控制字符"]
    # Beyond what Excel holds exactly, and what it cannot hold: text, cut to a cell's limit.
    assert sheet[3] == [str(10**15), "nan", "长" * 32_767]
    assert sheet[4] == ["110101199003077777", -3, "第\n二行"]


async def test_r_exp_1_a_list_longer_than_a_sheet_goes_on_to_further_sheets() -> None:
    book = await _workbook([[n, f"居民{n}", None] for n in range(7)], sheet_rows=3)
    assert book.sheet_names == ["人口", "人口 2", "人口 3", "人口 4"]
    sheets = [book.get_sheet_by_index(i).to_python() for i in range(4)]
    assert all(sheet[0] == ["甲", "乙", "丙"] for sheet in sheets)
    assert [row[0] for sheet in sheets for row in sheet[1:]] == list(range(7))


async def test_r_exp_1_an_empty_list_is_a_workbook_with_its_header() -> None:
    book = await _workbook([])
    assert book.sheet_names == ["人口"]
    assert book.get_sheet_by_index(0).to_python() == [["甲", "乙", "丙"]]


def test_column_letters() -> None:
    assert [column_letters(n) for n in (0, 25, 26, 51, 52, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]


def test_r_exp_1_cells_as_a_spreadsheet_shows_them() -> None:
    assert (cell(True), cell(False)) == ("是", "否")
    assert cell(3) == 3 and cell(2.5) == 2.5 and cell(None) is None
    assert cell(datetime(2026, 11, 23, 2, 0, tzinfo=UTC)) == "2026-11-23 10:00:00"
    assert cell(date(2026, 11, 23)) == "2026-11-23"
    assert cell(["书记", "委员"]) == "['书记', '委员']"
