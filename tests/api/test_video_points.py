"""R-VID-1 video points: camera metadata (name, location, stream URL, owner) kept as a map
layer — listed by jurisdiction, bounding box and search — never relayed."""

import csv
import io
from typing import Any

from httpx import AsyncClient
from shapely.geometry import Point
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import VideoPoint
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth
from tests.routes.places import audit_actions, count_rows, make_video_point

URL = "/api/v1/video-points"


def body(grid_id: Any, **values: Any) -> dict[str, Any]:
    return {
        "grid_id": str(grid_id),
        "name": "解放路口",
        "code": "KS-VID-0001",
        "source": "traffic",
        "location": {"type": "Point", "coordinates": [75.93, 39.43]},
        "stream_url": "rtsp://10.20.30.40:554/Streaming/Channels/101",
        "owner": "交警大队",
        **values,
    }


async def test_r_vid_1_a_camera_is_kept_with_its_stream_url_and_owner(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    for url in (
        "rtsp://10.20.30.40:554/Streaming/Channels/101",
        "https://video.example.cn/hls/live.m3u8",
        "http://192.0.2.7:8080/stream",
    ):
        r = await client.post(URL, json=body(world.g1.id, stream_url=url), headers=headers)
        assert r.status_code == 201, r.text
        assert r.json()["stream_url"] == url and r.headers["etag"] == '"1"'
    out = r.json()
    assert (out["owner"], out["source"], out["location"]["coordinates"]) == (
        "交警大队",
        "traffic",
        [75.93, 39.43],
    )
    assert (await audit_actions(session, out["id"]))[0] == "video_point.create"


async def test_r_vid_1_stream_urls_must_be_rtsp_or_http(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await count_rows(session, VideoPoint)
    headers = auth(world.admin_s1, clock)
    for url in (
        "ftp://10.0.0.1/cam",
        "rtsp://",
        "javascript:alert(1)",
        "rtsp://cam host/1",
        "http://h:99999/x",
        "摄像头",
    ):
        problem = assert_problem(
            await client.post(URL, json=body(world.g1.id, stream_url=url), headers=headers),
            422,
            "validation_failed",
        )
        assert problem["errors"] == [
            {"field": "stream_url", "message": "地址格式无效，协议须为：rtsp/http/https"}
        ], url
    for field in ("owner", "location", "source"):
        sent = body(world.g1.id)
        del sent[field]
        problem = assert_problem(
            await client.post(URL, json=sent, headers=headers), 422, "validation_failed"
        )
        assert [e["field"] for e in problem["errors"]] == [field]
    problem = assert_problem(
        await client.post(
            URL,
            json=body(world.g1.id),
            headers={**headers, "Accept-Language": "en"},
            params={"crs": "utm"},
        ),
        422,
        "validation_failed",
    )
    assert problem["title"] == "The input failed validation"
    assert await count_rows(session, VideoPoint) == before


async def test_r_map_1_points_by_box_unit_and_search_in_pages(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    east = await make_video_point(
        session, clock, world.g2, name="东门", location=Point(75.97, 39.41)
    )
    west = await make_video_point(session, clock, world.g1, name="西门", owner="城管局")
    mid = await make_video_point(session, clock, world.g1, name="中心广场", source="social")
    await make_video_point(session, clock, world.g3, name="外街道")
    headers = auth(world.admin_s1, clock)

    async def ids(**params: Any) -> list[str]:
        return [
            i["id"] for i in (await client.get(URL, params=params, headers=headers)).json()["items"]
        ]

    assert await ids(bbox="75.96,39.40,75.98,39.42") == [str(east["id"])]
    assert await ids(unit_id=str(world.g2.id)) == [str(east["id"])]
    assert await ids(q="城管") == [str(west["id"])]
    assert await ids(source="social") == [str(mid["id"])]
    first = (await client.get(URL, params={"limit": 2}, headers=headers)).json()
    rest = (
        await client.get(URL, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers)
    ).json()
    assert first["total"] == 3 and rest["next_cursor"] is None
    assert {i["id"] for i in first["items"] + rest["items"]} == {
        str(p["id"]) for p in (east, west, mid)
    }
    assert_problem(
        await client.get(URL, params={"bbox": "1,2,3"}, headers=headers), 422, "validation_failed"
    )
    assert (await client.get(URL, headers=auth(world.admin_s2, clock))).json()["total"] == 1


async def test_update_deregister_restore_and_export(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    point = await make_video_point(session, clock, world.g1, name="北门")
    url = f"{URL}/{point['id']}"
    headers = auth(world.admin_s1, clock)
    r = await client.patch(
        url,
        json={"stream_url": "https://cam.example.cn/n.m3u8"},
        headers={**headers, "If-Match": '"1"'},
    )
    assert r.status_code == 200 and r.json()["stream_url"] == "https://cam.example.cn/n.m3u8"
    assert_problem(
        await client.patch(url, json={"owner": "x"}, headers={**headers, "If-Match": '"1"'}),
        412,
        "precondition_failed",
    )
    assert_problem(
        await client.patch(url, json={"stream_url": "ftp://x/y"}, headers=headers),
        422,
        "validation_failed",
    )
    assert_problem(
        await client.patch(url, json={"owner": None}, headers=headers), 422, "validation_failed"
    )
    assert (await client.get(url, headers=headers)).json()["version"] == 2
    r = await client.post(f"{url}/deregister", json={"reason": "设备拆除"}, headers=headers)
    assert (r.json()["status"], r.json()["status_reason"]) == ("deregistered", "设备拆除")
    exported = await client.get(
        f"{URL}/export", params={"format": "csv", "status": "deregistered"}, headers=headers
    )
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(row["名称"], row["状态原因"]) for row in rows] == [("北门", "设备拆除")]
    r = await client.post(f"{url}/restore", headers=headers)
    assert r.json()["status"] == "active"
    assert {"video_point.update", "video_point.deregistered", "video_point.active"} <= set(
        await audit_actions(session, point["id"])
    )
    assert_problem(
        await client.get(url, headers=auth(world.admin_s2, clock)), 404, "video_point_not_found"
    )
