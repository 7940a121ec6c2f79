"""Population files for the import benchmark: rows of the registered-population template
(`domain.imports`) that the product's row checks accept, as CSV or XLSX. Pure; deterministic.

Resident ID numbers are unique by construction (row `i` is born on day `i mod DAYS` after
`FIRST_BIRTH`, with sequence number `i div DAYS`) and come from a county the data set never
issues numbers for, so a file's people collide with nobody already registered."""

import csv
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path

import xlsxwriter

from domain.id_numbers import check_char
from domain.imports import TEMPLATES

TEMPLATE = TEMPLATES["people_registered"]
# 乌鲁木齐市米东区: absent from the demo city's regions (services.demo_data).
REGION = "650109"
FIRST_BIRTH = date(1950, 1, 1)
# About 55 years of birth dates; the sequence number (three digits) then allows 20 million rows.
DAYS = 20_000
MAX_ROWS = DAYS * 1000
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马胡朱郭何罗高林"
GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明")
ETHNICITIES = ("汉族", "维吾尔族", "回族", "柯尔克孜族")
EDUCATION = ("大学本科", "大学专科", "高中", "初中", "小学")
MARITAL = ("未婚", "已婚", "离婚", "丧偶")


def resident_id(i: int) -> tuple[str, date]:
    """The `i`-th row's ID number and the birth date it encodes."""
    born = FIRST_BIRTH + timedelta(days=i % DAYS)
    first17 = f"{REGION}{born:%Y%m%d}{i // DAYS:03d}"
    return first17 + check_char(first17), born


def row(i: int, grid_code: str) -> list[str]:
    """The `i`-th row's cells in the template's column order."""
    number, born = resident_id(i)
    male = (i // DAYS) % 2 == 1
    address = f"喀什市吐曼路{i % 900 + 1}号"
    cells = {
        "grid_code": grid_code,
        "name": SURNAMES[i % len(SURNAMES)] + GIVEN[i // len(SURNAMES) % len(GIVEN)],
        "id_number": number,
        "gender": "男" if male else "女",
        "birth_date": born.isoformat(),
        "ethnicity": ETHNICITIES[i % len(ETHNICITIES)],
        "phone": f"138{i:08d}",
        "register_address": address,
        "current_address": address,
        "no_house_reason": "借住",
        "education": EDUCATION[i % len(EDUCATION)],
        "occupation": "个体经营",
        "employer": "喀什市个体工商户",
        "political_status": "群众",
        "marital_status": MARITAL[i % len(MARITAL)],
        "low_income": "否",
        "away": "否",
    }
    return [cells.get(column.key, "") for column in TEMPLATE.columns]


def rows(grid_codes: Sequence[str], count: int) -> Iterator[list[str]]:
    """`count` rows spread round-robin over the grids."""
    if count > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS:,} rows have distinct ID numbers")
    for i in range(count):
        yield row(i, grid_codes[i % len(grid_codes)])


def write_csv(path: Path, grid_codes: Sequence[str], count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(TEMPLATE.headers)
        writer.writerows(rows(grid_codes, count))


def write_xlsx(path: Path, grid_codes: Sequence[str], count: int) -> None:
    """Every cell a string, as a registry clerk's sheet keeps ID and phone numbers."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, TEMPLATE.headers)
    for number, cells in enumerate(rows(grid_codes, count), start=1):
        for column, value in enumerate(cells):
            if value:
                sheet.write_string(number, column, value)
    book.close()
