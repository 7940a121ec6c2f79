"""R-EXP-1 "streaming (constant memory)": the CSV writer sends bytes while rows are still
being read, the XLSX writer keeps only a row at a time in memory (XlsxWriter's constant-memory
mode, spooled to disk), and cells read as a spreadsheet user expects."""

import csv
import io
import tempfile
import tracemalloc
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

from services.exporting import CHUNK, Column, cell, csv_bytes, xlsx_bytes

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
    holds over ten megabytes of cells); the file is spooled to disk, then streamed."""
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
    assert f"居民{rows - 1}" in sheet  # constant-memory mode writes strings inline


def test_r_exp_1_cells_as_a_spreadsheet_shows_them() -> None:
    assert (cell(True), cell(False)) == ("是", "否")
    assert cell(3) == 3 and cell(2.5) == 2.5 and cell(None) is None
    assert cell(datetime(2026, 11, 23, 2, 0, tzinfo=UTC)) == "2026-11-23 10:00:00"
    assert cell(date(2026, 11, 23)) == "2026-11-23"
    assert cell(["书记", "委员"]) == "['书记', '委员']"
