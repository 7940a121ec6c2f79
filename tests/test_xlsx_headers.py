"""R-IMP-1: the header row of an XLSX upload is read as a stream, so the check that refuses a
file with the wrong columns never loads the sheet, and it reads the headers the job's reader
(python-calamine, the whole sheet) reads; that reader opens a workbook off the event loop."""

import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from domain.errors import Invalid
from services import imports_files
from services.imports_files import open_table
from services.xlsx_headers import xlsx_headers

HEADERS = ["网格编码", "姓名", "公民身份号码", "联系电话"]
Sheet = Any


def _workbook(path: Path, fill: Callable[[Sheet, Any], None], **options: Any) -> Path:
    book = xlsxwriter.Workbook(str(path), options)
    fill(book.add_worksheet("人口"), book)
    book.close()
    return path


def _at_a1(sheet: Sheet, _: Any) -> None:
    sheet.write_row(0, 0, HEADERS)
    sheet.write_row(1, 0, ["653101001001", "王伟", "650109195001010014", "13800000001"])


def _below_and_right(sheet: Sheet, _: Any) -> None:
    # Blank rows above, blank columns to the left, a blank cell inside.
    sheet.write_row(3, 2, ["网格编码", "", "姓名"])
    sheet.write_row(4, 2, ["653101001001", "x", "王伟"])


def _typed_cells(sheet: Sheet, _: Any) -> None:
    sheet.write_row(0, 0, ["姓名", 12, 3.5, True, " 联系电话 "])
    sheet.write_row(1, 0, ["王伟", 1, 2, False, "13800000001"])


def _rich_and_formatted(sheet: Sheet, book: Any) -> None:
    bold = book.add_format({"bold": True})
    sheet.write_rich_string(0, 0, bold, "网格", "编码")
    sheet.write(0, 1, "姓名")
    # Formatted but empty cells after the last header are the sheet's width, not columns.
    sheet.write_blank(0, 2, None, bold)
    sheet.write_blank(0, 3, None, bold)
    sheet.write_row(1, 0, ["653101001001", "王伟"])


def _calamine_headers(path: Path) -> list[str]:
    with open_table(path, "xlsx") as table:
        return table.headers


@pytest.mark.parametrize("fill", [_at_a1, _below_and_right, _typed_cells, _rich_and_formatted])
@pytest.mark.parametrize("constant_memory", [False, True], ids=["shared", "inline"])
def test_the_streamed_headers_are_the_ones_the_job_reads(
    tmp_path: Path, fill: Callable[[Sheet, Any], None], constant_memory: bool
) -> None:
    # xlsxwriter writes shared strings by default and inline strings in constant memory.
    path = _workbook(tmp_path / "people.xlsx", fill, constant_memory=constant_memory)
    expected = _calamine_headers(path)
    assert expected  # the case has a header row to compare
    assert xlsx_headers(path) == expected


def _rewritten(path: Path, part: str, change: Callable[[str], str]) -> Path:
    out = path.with_name(f"rewritten-{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == part:
                data = change(data.decode()).encode()
            target.writestr(item, data)
    return out


def test_a_phonetic_guide_is_not_part_of_the_header(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "people.xlsx", _at_a1)
    guided = _rewritten(
        path,
        "xl/sharedStrings.xml",
        lambda xml: xml.replace(
            "<si><t>姓名</t></si>",
            '<si><r><t>姓</t></r><r><t>名</t></r><rPh sb="0" eb="2"><t>xingming</t></rPh></si>',
        ),
    )
    assert xlsx_headers(guided) == HEADERS == _calamine_headers(guided)


def test_only_the_header_row_is_read(tmp_path: Path) -> None:
    """Everything after the header row is garbage here: a reader that loaded the sheet, or
    every shared string, would fail."""
    path = _workbook(tmp_path / "people.xlsx", _at_a1)

    def cut_sheet(xml: str) -> str:
        return xml[: xml.index("</row>") + len("</row>")] + "<row><c><v>garbage"

    def cut_strings(xml: str) -> str:
        return xml[: xml.index("<si><t>653101001001")] + "<si><t>garbage"

    broken = _rewritten(path, "xl/worksheets/sheet1.xml", cut_sheet)
    broken = _rewritten(broken, "xl/sharedStrings.xml", cut_strings)
    assert xlsx_headers(broken) == HEADERS
    with pytest.raises(Invalid):
        _calamine_headers(broken)


def _invalid_code(path: Path) -> str:
    with pytest.raises(Invalid) as refused:
        xlsx_headers(path)
    return refused.value.code


def test_what_is_no_workbook_is_unreadable(tmp_path: Path) -> None:
    not_zip = tmp_path / "a.xlsx"
    not_zip.write_bytes(b"not a workbook")
    empty_zip = tmp_path / "b.xlsx"
    with zipfile.ZipFile(empty_zip, "w") as book:
        book.writestr("hello.txt", "hi")
    bad_xml = _rewritten(
        _workbook(tmp_path / "c.xlsx", _at_a1), "xl/worksheets/sheet1.xml", lambda _: "<worksheet"
    )
    entity = _rewritten(
        _workbook(tmp_path / "d.xlsx", _at_a1),
        "xl/workbook.xml",
        lambda xml: '<!DOCTYPE x [<!ENTITY e "boom">]>' + xml.split("?>", 1)[1],
    )
    for path in (not_zip, empty_zip, bad_xml, entity):
        assert _invalid_code(path) == "import_file_unreadable", path.name


def test_a_sheet_without_a_value_is_empty(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "empty.xlsx", lambda sheet, _: sheet.write_blank(0, 0, None))
    assert _invalid_code(path) == "import_file_empty"


async def test_a_coroutine_opens_a_workbook_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """calamine parses the whole sheet when the table is opened (seconds for a big file):
    the job and the comparison open it in a thread, so the event loop keeps serving."""
    path = _workbook(tmp_path / "people.xlsx", _at_a1)
    opened_on: list[int] = []

    class Recording:
        @staticmethod
        def from_path(name: str) -> Any:
            opened_on.append(threading.get_ident())
            return CalamineWorkbook.from_path(name)

    monkeypatch.setattr(imports_files, "CalamineWorkbook", Recording)
    async with imports_files.opened_table(path, "xlsx") as table:
        assert table.headers == HEADERS
    assert opened_on and threading.get_ident() not in opened_on
