"""The import benchmark's files: every row is one the product's import accepts, ID numbers
never repeat and never meet the demo city's, and both formats read back through the
product's own reader."""

from datetime import date
from pathlib import Path

import pytest

from bench import population
from bench.population import DAYS, MAX_ROWS, TEMPLATE, resident_id, row, write_csv, write_xlsx
from domain import id_numbers
from domain.imports import check_row
from services import demo_data, imports
from services.imports_files import open_table

TODAY = date(2026, 11, 23)
GRIDS = ["653101001001001", "653101001001002", "653101002001001"]
# The first rows, and rows about every turn of the sequence number up to the last one.
INDICES = [*range(2_000), *(k * DAYS + d for k in (1, 2, 499, 500, 999) for d in (-1, 0, 1))]
INDICES = [i for i in INDICES if 0 <= i < MAX_ROWS] + [MAX_ROWS - 1]


def test_every_row_passes_the_import_checks_of_the_registered_template() -> None:
    for i in INDICES:
        cells = dict(zip([c.key for c in TEMPLATE.columns], row(i, GRIDS[0]), strict=True))
        checked = check_row(TEMPLATE, {k: v for k, v in cells.items() if v}, today=TODAY)
        assert checked.errors == [], (i, checked.errors)


def test_id_numbers_are_unique_valid_and_agree_with_the_row() -> None:
    numbers = set()
    for i in INDICES:
        cells = dict(zip(TEMPLATE.headers, row(i, GRIDS[0]), strict=True))
        parsed = id_numbers.parse(cells["证件号码"], today=TODAY)
        assert parsed.birth_date.isoformat() == cells["出生日期"]
        assert {"male": "男", "female": "女"}[parsed.gender.value] == cells["性别"]
        numbers.add(parsed.number)
    assert len(numbers) == len(INDICES)
    # The demo city issues numbers of its own regions only: these meet none of them.
    assert population.REGION not in demo_data.PLACES
    assert resident_id(0)[0] != resident_id(DAYS)[0]


def test_more_rows_than_distinct_numbers_are_refused() -> None:
    with pytest.raises(ValueError):
        next(population.rows(GRIDS, MAX_ROWS + 1))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_files_read_back_through_the_import_reader_without_a_rejection(
    tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / f"people.{fmt}"
    (write_csv if fmt == "csv" else write_xlsx)(path, GRIDS, 3_000)
    with open_table(path, fmt) as table:
        assert table.headers == TEMPLATE.headers
        staged = [r for b in imports.staged_batches(TEMPLATE, table.rows, TODAY) for r in b]
    assert len(staged) == 3_000
    # (row number, grid code, name, identity, values, errors)
    assert [r[5] for r in staged] == [None] * 3_000
    assert {r[1] for r in staged} == set(GRIDS)
    assert [r[0] for r in staged] == list(range(2, 3_002))
