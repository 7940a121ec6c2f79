"""Export (issue target 6): people as XLSX streamed through the API with the API's resident
memory sampled during the download, against the floor: COPY of the same rows and columns
TO STDOUT. The export is of 1,000,000 people, or of the most the bench user reaches under
that with the list's filters (all they see, one kind of people, one street)."""

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from python_calamine import CalamineWorkbook

from bench.harness import Harness
from bench.report import Outcome, Side
from bench.rss import MB, PeakRss
from services.db import SCOPE_SETTING

URL = "/api/v1/people/export"
ROWS = 1_000_000
MAX_GROWTH = 100 * MB
CHUNK = 1024 * 1024
TIMEOUT_S = 3600.0
KINDS = "SELECT kind, count(*) FROM people WHERE path <@ $1::ltree GROUP BY kind"
STREETS = """
SELECT s.id::text, count(*) FROM org_units s JOIN people p ON p.path <@ s.path
WHERE s.path <@ $1::ltree AND s.level = 'street' GROUP BY s.id
"""
# The product's export statement (services.people), its columns as they are stored.
COLUMNS = """
SELECT o.code, p.kind, p.name, p.id_number, p.gender, p.birth_date, p.ethnicity, p.phone,
       p.register_address, p.current_address, h.address, p.no_house_reason, p.education,
       p.occupation, p.employer, p.political_status, p.marital_status, p.low_income, p.away,
       p.details
FROM people p JOIN org_units o ON o.id = p.grid_id LEFT JOIN houses h ON h.id = p.house_id
WHERE p.path <@ $1::ltree
"""
FILTERS = {
    "kind": " AND p.kind = $2",
    "unit_id": " AND p.path <@ (SELECT path FROM org_units WHERE id = $2::uuid)",
}


def choose(candidates: list[tuple[dict[str, str], int]]) -> tuple[dict[str, str], int]:
    """The filter reaching the most people without passing `ROWS` (the fewest when every
    one passes it)."""
    fitting = [c for c in candidates if c[1] <= ROWS]
    if fitting:
        return max(fitting, key=lambda c: c[1])
    return min(candidates, key=lambda c: c[1])


async def _candidates(h: Harness) -> list[tuple[dict[str, str], int]]:
    raw = await asyncpg.connect(h.owner_dsn)
    try:
        kinds = await raw.fetch(KINDS, h.scope)
        total = sum(row["count"] for row in kinds)
        if total <= ROWS:
            return [({}, total)]
        streets = await raw.fetch(STREETS, h.scope)
    finally:
        await raw.close()
    return [
        ({}, total),
        *(({"kind": row["kind"]}, row["count"]) for row in kinds),
        *(({"unit_id": row["id"]}, row["count"]) for row in streets),
    ]


async def _floor(h: Harness, filters: dict[str, str]) -> tuple[float, int]:
    """Seconds to COPY the rows out, and the bytes."""
    size = 0

    async def sink(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)

    sql = COLUMNS + "".join(FILTERS[key] for key in filters)
    raw = await asyncpg.connect(h.app_dsn)
    try:
        async with raw.transaction():
            await raw.execute("SELECT set_config($1, $2, true)", SCOPE_SETTING, h.scope)
            started = time.monotonic()
            await raw.copy_from_query(sql, h.scope, *filters.values(), output=sink, format="csv")
            return time.monotonic() - started, size
    finally:
        await raw.close()


def _sheet_rows(path: Path) -> int:
    """Data rows of the workbook's sheet (its header row aside)."""
    return int(CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).height) - 1


@dataclass(frozen=True)
class ExportScenario:
    group: str = "6 export"
    name: str = "people as XLSX, streamed"

    def _product(
        self, h: Harness, filters: dict[str, str], path: Path
    ) -> tuple[float, int, PeakRss]:
        """Seconds until the last byte, the status, and the API's memory meanwhile."""
        params = {"format": "xlsx", **filters}
        with (
            # The workbook is written whole before its first byte is sent.
            httpx.Client(base_url=h.product_url, headers=h.auth, timeout=TIMEOUT_S) as client,
            PeakRss([h.servers.api_pid]) as memory,
            path.open("wb") as out,
        ):
            started = time.monotonic()
            with client.stream("GET", URL, params=params) as response:
                for chunk in response.iter_bytes(CHUNK):
                    out.write(chunk)
            return time.monotonic() - started, response.status_code, memory

    def measure(self, h: Harness) -> Outcome:
        filters, rows = choose(asyncio.run(_candidates(h)))
        path = h.workdir / "export.xlsx"
        notes: list[str] = []
        h.settle("product", notes)
        product_s, status, memory = self._product(h, filters, path)
        size = path.stat().st_size
        written = _sheet_rows(path) if status == 200 else 0
        path.unlink()
        h.settle("floor", notes)
        floor_s, floor_size = asyncio.run(_floor(h, filters))
        chosen = ", ".join(f"{k}={v}" for k, v in filters.items()) or "all the user sees"
        return Outcome(
            self.group,
            f"{self.name}: {rows:,} people ({chosen})",
            Side(
                seconds=product_s,
                rate=rows / product_s,
                detail=f"{size / MB:,.0f} MB, RSS growth {memory.growth / MB:,.0f} MB",
            ),
            Side(seconds=floor_s, rate=rows / floor_s, detail=f"{floor_size / MB:,.0f} MB CSV"),
            product_s / floor_s,
            [
                (f"all {rows:,} rows written (HTTP {status}, {written:,} rows)", written == rows),
                (
                    f"constant memory: RSS growth {memory.growth / MB:,.0f} MB < 100 MB",
                    memory.growth < MAX_GROWTH,
                ),
            ],
            notes,
        )
