"""R-JURINFO-1 jurisdiction information: each unit's profile (text sections and images),
replaced with If-Match, and the rosters (花名册) of its 综治/党/自治/群防群治/志愿者
organisations — the service teams of those categories — with their active members."""

import csv
import io
from typing import Any

from httpx import AsyncClient
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from domain.places import TeamCategory
from services import teams
from services.models import JurisdictionProfile
from tests.api.test_uploads import recording
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user, system_ctx
from tests.routes.attachments import GPS_IFD, photo, ready_upload
from tests.routes.places import MEMBER_PHONE, audit_actions, count_rows, make_member, make_team


def profile_url(unit_id: object) -> str:
    return f"/api/v1/org-units/{unit_id}/profile"


def roster_url(unit_id: object) -> str:
    return f"/api/v1/org-units/{unit_id}/roster"


PROFILE: dict[str, Any] = {
    "overview": "辖区面积12平方公里，常住人口3.2万。",
    "geography": "位于喀什市东部。",
    "economy": "以商贸、旅游为主。",
    "society": "多民族聚居。",
    "key_projects": "老城区改造。",
    "images": [{"url": "https://img.example.cn/c1/map.jpg", "caption": "辖区图"}],
}


async def test_r_jurinfo_1_a_profile_starts_empty_and_is_replaced_with_if_match(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    url = profile_url(world.c1.id)
    r = await client.get(url, headers=headers)
    assert r.status_code == 200 and r.headers["etag"] == '"0"'
    assert r.json()["overview"] is None and r.json()["images"] == []
    r = await client.put(url, json=PROFILE, headers={**headers, "If-Match": '"0"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'
    shown = [{**image, "upload_id": None} for image in PROFILE["images"]]
    assert r.json()["images"] == shown and r.json()["economy"] == "以商贸、旅游为主。"
    assert r.json()["updated_at"] == "2026-11-23T10:00:00+08:00"
    stale = await client.put(url, json={"overview": "改"}, headers={**headers, "If-Match": '"0"'})
    assert_problem(stale, 412, "precondition_failed")
    r = await client.put(url, json={"overview": "新概况"}, headers={**headers, "If-Match": '"1"'})
    assert (r.json()["overview"], r.json()["economy"], r.json()["images"]) == ("新概况", None, [])
    assert (await client.get(url, headers=headers)).json()["version"] == 2
    actions = await audit_actions(session, world.c1.id)
    assert actions.count("jurisdiction_profile.update") == 2


async def test_r_jurinfo_1_bad_profiles_are_refused_whole(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await count_rows(session, JurisdictionProfile)
    headers = auth(world.admin_s1, clock)
    url = profile_url(world.c2.id)
    bad_images = {
        "images": [{"url": "https://ok.example.cn/a.png"}, {"url": "javascript:alert(1)"}]
    }
    problem = assert_problem(
        await client.put(url, json=bad_images, headers=headers), 422, "validation_failed"
    )
    assert problem["errors"] == [
        {"field": "images.1.url", "message": "地址格式无效，协议须为：http/https"}
    ]
    problem = assert_problem(
        await client.put(url, json={"motto": "x"}, headers=headers), 422, "validation_failed"
    )
    assert [e["field"] for e in problem["errors"]] == ["motto"]
    assert await count_rows(session, JurisdictionProfile) == before
    # Out of jurisdiction: a sibling street, and a grid worker looking up at its community.
    assert_problem(
        await client.get(url, headers=auth(world.admin_s2, clock)), 404, "org_unit_not_found"
    )
    assert_problem(
        await client.get(profile_url(world.c1.id), headers=auth(world.worker_g1, clock)),
        404,
        "org_unit_not_found",
    )
    assert (
        await client.get(profile_url(world.g1.id), headers=auth(world.worker_g1, clock))
    ).status_code == 200


async def test_r_jurinfo_1_uploaded_photos_are_kept_and_served_without_their_exif(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    url = profile_url(world.c1.id)
    upload = await ready_upload(session, clock, world.admin_s1, photo())
    images = [{"upload_id": str(upload["id"]), "caption": "街景"}, PROFILE["images"][0]]
    r = await client.put(url, json={"images": images}, headers=headers)
    assert r.status_code == 200, r.text
    served = f"{url}/images/{upload['id']}"
    assert r.json()["images"] == [
        {"url": served, "upload_id": str(upload["id"]), "caption": "街景"},
        {**PROFILE["images"][0], "upload_id": None},
    ]
    image = await client.get(served, headers=auth(world.worker_g1, clock))
    assert_problem(image, 404, "org_unit_not_found")  # a grid worker does not see up
    image = await client.get(served, headers=headers)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert GPS_IFD not in Image.open(io.BytesIO(image.content)).getexif()
    # Saved again with the photo it already shows: kept, not taken twice.
    r = await client.put(url, json={"images": images[:1]}, headers=headers)
    assert r.status_code == 200 and r.json()["images"][0]["url"] == served
    # Gone from the profile: no longer served.
    r = await client.put(url, json={"images": []}, headers=headers)
    assert_problem(await client.get(served, headers=headers), 404, "profile_image_not_found")


async def test_r_jurinfo_1_a_photo_must_be_the_callers_own_unused_image_upload(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    used = await ready_upload(session, clock, world.admin_s1, photo())
    r = await client.put(
        profile_url(world.c1.id), json={"images": [{"upload_id": str(used["id"])}]}, headers=headers
    )
    assert r.status_code == 200, r.text
    others = await ready_upload(session, clock, world.worker_g1, photo())
    sound = await ready_upload(
        session, clock, world.admin_s1, recording(), filename="a.wav", content_type="audio/wav"
    )
    images = [
        {"upload_id": str(used["id"])},  # already another profile's
        {"url": "https://img.example.cn/ok.jpg"},
        {"upload_id": str(others["id"])},  # someone else's
        {"upload_id": str(sound["id"])},  # not a photo
        {"upload_id": "00000000-0000-4000-8000-000000000000"},  # no such upload
    ]
    before = await count_rows(session, JurisdictionProfile)
    problem = assert_problem(
        await client.put(profile_url(world.c2.id), json={"images": images}, headers=headers),
        422,
        "profile_image_upload_invalid",
    )
    assert [e["field"] for e in problem["errors"]] == [
        "images.0.upload_id",
        "images.2.upload_id",
        "images.3.upload_id",
        "images.4.upload_id",
    ]
    assert await count_rows(session, JurisdictionProfile) == before
    both = {"images": [{"url": "https://img.example.cn/a.jpg", "upload_id": str(used["id"])}]}
    assert_problem(
        await client.put(profile_url(world.c2.id), json=both, headers=headers),
        422,
        "validation_failed",
    )


async def test_r_jurinfo_1_roster_lists_active_members_of_political_organisations(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    party = await make_team(
        session, clock, world.c1, category=TeamCategory.PARTY, name="第一党支部"
    )
    patrol = await make_team(
        session, clock, world.c1, category=TeamCategory.MASS_PREVENTION, name="治安巡防队"
    )
    group = await make_team(
        session, clock, world.c1, category=TeamCategory.LEADING_GROUP, name="禁毒领导小组"
    )
    gone = await make_team(
        session, clock, world.c1, category=TeamCategory.VOLUNTEER, name="旧志愿队"
    )
    below = await make_team(
        session, clock, world.g1, category=TeamCategory.VOLUNTEER, name="网格志愿队"
    )
    secretary = await make_member(session, clock, party["id"], name="阿依古丽", posts=["书记"])
    patroller = await make_member(session, clock, patrol["id"], name="买买提", posts=["队长"])
    await make_member(session, clock, group["id"], name="组长")
    left = await make_member(session, clock, party["id"], name="已离任")
    await make_member(session, clock, gone["id"], name="解散队员")
    volunteer = await make_member(session, clock, below["id"], name="白志愿")
    ctx = await system_ctx(session, clock)
    await teams.MEMBERS.deregister(ctx, left["id"], reason="调离", expected_version=None)
    await teams.dissolve_team(ctx, gone["id"], reason="合并", expected_version=None)
    headers = auth(world.admin_s1, clock)
    roster = (await client.get(roster_url(world.c1.id), headers=headers)).json()
    entries = {(i["team_name"], i["name"], tuple(i["posts"])) for i in roster["items"]}
    assert entries == {("第一党支部", "阿依古丽", ("书记",)), ("治安巡防队", "买买提", ("队长",))}
    assert roster["total"] == 2
    with_below = (
        await client.get(
            roster_url(world.c1.id), params={"include_subunits": True}, headers=headers
        )
    ).json()
    assert {i["id"] for i in with_below["items"]} == {
        str(m["id"]) for m in (secretary, patroller, volunteer)
    }
    only_party = (
        await client.get(roster_url(world.c1.id), params={"category": "party"}, headers=headers)
    ).json()
    assert [i["name"] for i in only_party["items"]] == ["阿依古丽"]
    assert [
        i["name"]
        for i in (
            await client.get(roster_url(world.c1.id), params={"q": "队长"}, headers=headers)
        ).json()["items"]
    ] == ["买买提"]
    problem = assert_problem(
        await client.get(
            roster_url(world.c1.id), params={"category": "leading_group"}, headers=headers
        ),
        422,
        "validation_failed",
    )
    assert [e["field"] for e in problem["errors"]] == ["category"]
    first = (await client.get(roster_url(world.c1.id), params={"limit": 1}, headers=headers)).json()
    second = (
        await client.get(
            roster_url(world.c1.id),
            params={"limit": 1, "cursor": first["next_cursor"]},
            headers=headers,
        )
    ).json()
    assert {first["items"][0]["id"], second["items"][0]["id"]} == {
        str(secretary["id"]),
        str(patroller["id"]),
    }
    assert second["next_cursor"] is None
    # R-JUR-3: phones are masked for staff without pii:read, in the list and its export.
    staff = auth(await make_user(session, roles=["community_staff"], unit=world.c1), clock)
    masked = MEMBER_PHONE[:3] + "****" + MEMBER_PHONE[-4:]
    assert {
        i["phone"]
        for i in (await client.get(roster_url(world.c1.id), headers=staff)).json()["items"]
    } == {masked}
    exported = await client.get(
        f"{roster_url(world.c1.id)}/export", params={"format": "csv"}, headers=staff
    )
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert sorted((row["组织名称"], row["姓名"], row["联系电话"]) for row in rows) == [
        ("治安巡防队", "买买提", masked),
        ("第一党支部", "阿依古丽", masked),
    ]
