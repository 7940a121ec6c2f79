from httpx import AsyncClient

from tests.factories import World, auth


async def test_health(client: AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text


async def test_get_grid(client: AsyncClient, world: World, clock) -> None:
    r = await client.get(f"/api/v1/grids/{world.g1.id}", headers=auth(world.admin_d, clock))
    assert r.status_code == 200, r.text
    assert r.json()["code"] == "653101001001001"
    r = await client.get(f"/api/v1/grids/{world.g1.id}", headers=auth(world.admin_s2, clock))
    assert r.status_code == 404, r.text
