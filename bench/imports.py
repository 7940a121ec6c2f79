"""Import (issue target 4): a population file through the product's whole import — the
upload, then the worker's job reading, checking and filing every row into the import pool,
until the import is done and its rows are ready to claim — against the floor: the same file
copied into a staging table and filed into people by one INSERT … SELECT (rolled back).

The files are full size (1,000,000-row CSV, 100,000-row XLSX) except at `--scale 50k`,
where they are a tenth of it; the time targets then hold per row."""

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from python_calamine import CalamineWorkbook

from bench.harness import Harness
from bench.population import TEMPLATE, write_csv, write_xlsx
from bench.report import Outcome, Side
from bench.rss import MB, PeakRss
from domain.principal import SYSTEM_SCOPE
from services.db import SCOPE_SETTING

URL = "/api/v1/imports"
MAX_RSS = 500 * MB
# Scales whose files are cut, by this factor.
REDUCTION = {"50k": 10}
POLL_S = 0.1
DEADLINE_S = 1800.0
GRID_CODES = """
SELECT g.code FROM org_units g JOIN org_units d ON g.path <@ d.path
WHERE d.id = $1 AND g.level = 'grid' AND g.deleted_at IS NULL ORDER BY g.code
"""
STAGE = (
    "CREATE TEMP TABLE bench_import ("
    + ", ".join(f"{column.key} text" for column in TEMPLATE.columns)
    + ") ON COMMIT DROP"
)
# What a claim would make of each row, set-based: codes from the template's words.
FILE = """
INSERT INTO people (id, grid_id, path, kind, id_number, name, former_name, gender, birth_date,
    ethnicity, phone, register_address, current_address, no_house_reason, education,
    occupation, employer, political_status, marital_status, low_income, away, details)
SELECT gen_random_uuid(), g.id, g.path, 'registered', s.id_number, s.name, s.former_name,
    CASE s.gender WHEN '男' THEN 'male' WHEN '女' THEN 'female' END, s.birth_date::date,
    s.ethnicity, s.phone, s.register_address, s.current_address, s.no_house_reason,
    s.education, s.occupation, s.employer, s.political_status, s.marital_status,
    coalesce(s.low_income = '是', false), coalesce(s.away = '是', false),
    CASE WHEN s.settle_date IS NULL THEN '{}'::jsonb
         ELSE jsonb_build_object('settle_date', s.settle_date::date) END
FROM bench_import s
JOIN org_units g ON g.code = s.grid_code AND g.level = 'grid' AND g.deleted_at IS NULL
    AND g.path <@ (SELECT path FROM org_units WHERE id = $1)
"""


def _sheet_records(path: Path) -> Iterator[tuple[str | None, ...]]:
    rows = iter(CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows())
    next(rows)
    for cells in rows:
        yield tuple(str(cell) if cell != "" else None for cell in cells)


async def _floor(h: Harness, path: Path, fmt: str) -> tuple[float, int]:
    """Seconds to stage and file the whole file, and the people filed."""
    raw = await asyncpg.connect(h.app_dsn)
    try:
        run = raw.transaction()
        await run.start()
        try:
            await raw.execute("SELECT set_config($1, $2, true)", SCOPE_SETTING, SYSTEM_SCOPE)
            started = time.monotonic()
            await raw.execute(STAGE)
            if fmt == "csv":
                await raw.copy_to_table("bench_import", source=path, format="csv", header=True)
            else:
                await raw.copy_records_to_table("bench_import", records=_sheet_records(path))
            filed = await raw.execute(FILE, h.district_id)
            return time.monotonic() - started, int(filed.split()[-1])
        finally:
            await run.rollback()
    finally:
        await raw.close()


async def _grid_codes(h: Harness) -> list[str]:
    raw = await asyncpg.connect(h.owner_dsn)
    try:
        return [row["code"] for row in await raw.fetch(GRID_CODES, h.district_id)]
    finally:
        await raw.close()


async def _forget(h: Harness, import_id: str) -> None:
    """The import and its pool rows go, so the data set stays as built."""
    raw = await asyncpg.connect(h.owner_dsn)
    try:
        await raw.execute("DELETE FROM imports WHERE id = $1", import_id)
    finally:
        await raw.close()


@dataclass(frozen=True)
class ImportScenario:
    fmt: str
    full_rows: int
    limit_s: float
    group: str = "4 import"

    @property
    def name(self) -> str:
        return f"{self.full_rows:,}-row {self.fmt.upper()} of people validated, staged, ready"

    def _product(self, h: Harness, path: Path) -> tuple[float, dict[str, Any], PeakRss]:
        """Seconds from the upload's first byte until the import is over, its record, and
        the memory of the API and the worker meanwhile. The import is deleted after."""
        pids = [h.servers.api_pid, h.servers.worker_pid]
        with (
            httpx.Client(base_url=h.product_url, headers=h.auth, timeout=600) as client,
            PeakRss(pids) as memory,
            path.open("rb") as upload,
        ):
            started = time.monotonic()
            created = client.post(
                URL,
                data={"registry": TEMPLATE.registry, "district_id": h.district_id},
                files={"file": (path.name, upload, "application/octet-stream")},
            )
            created.raise_for_status()
            record: dict[str, Any] = created.json()
            try:
                while record["state"] in ("queued", "running"):
                    if time.monotonic() - started > DEADLINE_S:
                        break
                    time.sleep(POLL_S)
                    polled = client.get(f"{URL}/{record['id']}")
                    polled.raise_for_status()
                    record = polled.json()
                return time.monotonic() - started, record, memory
            finally:
                asyncio.run(_forget(h, record["id"]))

    def measure(self, h: Harness) -> Outcome:
        rows = self.full_rows // REDUCTION.get(h.scale, 1)
        path = h.workdir / f"people-{rows}.{self.fmt}"
        write = write_csv if self.fmt == "csv" else write_xlsx
        write(path, asyncio.run(_grid_codes(h)), rows)
        notes: list[str] = []
        if rows != self.full_rows:
            notes.append(f"file cut to {rows:,} rows at {h.scale}; time target per row")
        h.settle("product", notes)
        product_s, record, memory = self._product(h, path)
        h.settle("floor", notes)
        floor_s, filed = asyncio.run(_floor(h, path, self.fmt))
        path.unlink()
        api, worker = (memory.peaks[pid] / MB for pid in memory.pids)
        peak = f"peak RSS {memory.peak / MB:,.0f} MB (API {api:,.0f}, worker {worker:,.0f})"
        ready = record["state"] == "done" and record["rows_accepted"] == rows
        target = self.limit_s * rows / self.full_rows
        return Outcome(
            self.group,
            self.name if rows == self.full_rows else f"{self.name} (cut to {rows:,})",
            Side(
                rate=rows / product_s,
                seconds=product_s,
                detail=peak,
            ),
            Side(rate=filed / floor_s, seconds=floor_s),
            product_s / floor_s,
            [
                (
                    f"all {rows:,} rows ready ({record['state']}, {record['rows_accepted']:,}"
                    f" accepted, {record['rows_rejected']:,} rejected)",
                    ready,
                ),
                (
                    f"≤ {target:,.1f} s ({self.limit_s:.0f} s per {self.full_rows:,})",
                    product_s <= target,
                ),
                ("API + worker peak RSS ≤ 500 MB", memory.peak <= MAX_RSS),
                (f"floor filed all {rows:,}", filed == rows),
            ],
            notes,
        )


IMPORTS = (ImportScenario("csv", 1_000_000, 55.0), ImportScenario("xlsx", 100_000, 7.0))
