"""R-API-2 outside smoke check: the third-party Open311 read client `georeport` (PyPI), in
its own virtualenv (`make georeport-client`, created here when missing), lists services,
reads a definition and lists and reads requests — in JSON and in XML — from the API served
for real by uvicorn on a free port, on committed data filed through POST with an API key."""

import asyncio
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from domain.open311 import SERVICES
from domain.principal import SYSTEM
from services import api_keys
from services.clock import SystemClock
from services.context import Ctx
from services.db import system_session
from tests.conftest import MovableClock
from tests.reliability.harness import api_server
from tests.territory import SUPERUSER_DSN, committed_territory, remove_events

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "var" / "georeport" / "bin" / "python"
REGION = "653131"
# The client's calls, printed as JSON for the test to read.
SCRIPT = """
import json, sys
from georeport import GeoReport

root, jurisdiction, request_id = sys.argv[1:4]
seen = {}
for fmt in ("json", "xml"):
    client = GeoReport(root, jurisdiction=jurisdiction, output_format=fmt)
    seen[fmt] = {
        "services": client.get_service_list(),
        "definition": client.get_service_definition("dispute-neighbour"),
        "requests": client.get_service_requests(),
        "filtered": client.get_service_requests(service_request_id=request_id, status="open"),
        "request": client.get_service_request(request_id),
    }
print(json.dumps(seen, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def georeport_python() -> Path:
    if not CLIENT.exists():
        subprocess.run(["make", "-s", "georeport-client"], cwd=ROOT, check=True, timeout=600)
    return CLIENT


@pytest.fixture
def live_server() -> Iterator[str]:
    """uvicorn serving the app on a free port of the loopback (`tests.reliability.harness`:
    the socket listens before uvicorn starts, so nothing polls or sleeps)."""
    with api_server(os.environ.copy()) as url:
        yield url


async def _issue_key(app: FastAPI, unit_id: uuid.UUID) -> dict[str, Any]:
    """A committed key of the territory that may file and read (the live server keeps the
    real time, so its expiry is counted from it)."""
    async with system_session(app.state.sessionmaker) as session:
        ctx = Ctx(session=session, principal=SYSTEM, clock=SystemClock())
        return await api_keys.issue_key(
            ctx,
            {
                "unit_id": unit_id,
                "agency": "12345 市民服务热线",
                "note": None,
                "operations": ["event:report", "event:read"],
                "rate_limit_per_minute": 600,
                "expires_at": datetime.now(UTC) + timedelta(days=30),
            },
        )


async def _remove_keys(key_id: Any) -> None:
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        key = uuid.UUID(str(key_id))
        await conn.execute("DELETE FROM api_key_secrets WHERE api_key_id = $1", key)
        await conn.execute("DELETE FROM api_keys WHERE id = $1", key)
    finally:
        await conn.close()


async def test_r_api_2_the_georeport_client_reads_the_live_server(
    app: FastAPI, clock: MovableClock, georeport_python: Path, live_server: str
) -> None:
    async with committed_territory(app, clock, region=REGION, west=82.0, south=42.0) as data:
        key = await _issue_key(app, data.community_id)
        try:
            filed = []
            async with httpx.AsyncClient(base_url=live_server, timeout=60) as http:
                for code, attributes in (
                    ("city_component-street_light", {}),
                    ("dispute-neighbour", {"attribute[parties]": "张三与李四"}),
                    ("livelihood-elderly_service", {}),
                ):
                    r = await http.post(
                        "/open311/v2/requests.json",
                        data={
                            "api_key": key["secret"],
                            "jurisdiction_id": f"{REGION}000000",
                            "service_code": code,
                            "lat": "42.02",
                            "long": "82.02",
                            "description": "外部系统提交",
                            **attributes,
                        },
                    )
                    assert r.status_code == 201, r.text
                    filed.append(r.json()[0])
            light = filed[0]["service_request_id"]
            client = await asyncio.create_subprocess_exec(
                *(str(georeport_python), "-c", SCRIPT, f"{live_server}/open311/v2"),
                *(f"{REGION}000000", light),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(client.communicate(), timeout=180)
            assert client.returncode == 0, err.decode()
            seen = json.loads(out)
        finally:
            await remove_events(data.grid_id)
            await _remove_keys(key["id"])
    codes = [s.code for s in SERVICES]
    for fmt in ("json", "xml"):
        got = seen[fmt]
        assert [s["service_code"] for s in got["services"]] == codes
        assert got["definition"]["service_code"] == "dispute-neighbour"
        # The dispute is not published before it is taken in; the other two are.
        assert sorted(r["service_request_id"] for r in got["requests"]) == sorted(
            [light, filed[2]["service_request_id"]]
        )
        assert got["request"]["service_request_id"] == light
        assert got["request"]["status"] == "open"
    # JSON keeps types; XML reads back as text (xmltodict), the same values.
    assert seen["json"]["services"][0]["metadata"] is True
    assert seen["xml"]["services"][0]["metadata"] == "true"
    assert seen["json"]["filtered"][0]["service_request_id"] == light
    assert seen["xml"]["filtered"]["service_request_id"] == light
    attributes = seen["xml"]["definition"]["attributes"]["attribute"]
    assert [a["code"] for a in attributes][-1] == "parties"
