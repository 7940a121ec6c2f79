"""The registry's hot reads (GET a person, a grid's page, a search by name) answer from the
service's rows without pydantic: every field as the declared model writes it, masked for
the caller (R-JUR-3), and a name search finds exactly the names ILIKE finds, whether the
query is one, two or three characters, Latin or mixed (migration 0038)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.people import PersonOut
from domain.people import PERSON_MASKS, Kind
from domain.versioning import etag
from services import people
from services.masking import mask_record
from services.models import Person
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, system_ctx
from tests.routes.people import make_person

PEOPLE = "/api/v1/people"


def as_model(person: dict[str, Any], *, masked: bool) -> dict[str, Any]:
    """What pydantic writes for the service's record (the routes' former answer)."""
    shown = mask_record(person, PERSON_MASKS) if masked else person
    return PersonOut.model_validate(shown).model_dump(mode="json")


async def test_r_jur_3_reads_answer_every_field_as_the_model_writes_it(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    # An instant with microseconds and one without, a date, details, a house-less resident,
    # an overseas person's masked document number and a deregistration's time and reason.
    clock.current = datetime(2026, 11, 23, 2, 0, 0, 123456, tzinfo=UTC)
    registered = await make_person(session, clock, world.g1, name="阿依古丽", former_name="古丽")
    clock.advance(timedelta(seconds=1, microseconds=-123456))
    overseas = await make_person(session, clock, world.g1, kind=Kind.OVERSEAS, name="Anna Lee")
    unsettled = await make_person(session, clock, world.g2, kind=Kind.UNSETTLED, name="王军")
    admin, worker = auth(world.admin_d, clock), auth(world.worker_g1, clock)
    gone = await client.post(
        f"{PEOPLE}/{unsettled['id']}/deregister", json={"reason": "迁出"}, headers=admin
    )
    assert gone.status_code == 200, gone.text
    ctx = await system_ctx(session, clock)
    records = {
        p["id"]: await people.get_person(ctx, p["id"]) for p in (registered, overseas, unsettled)
    }
    assert records[unsettled["id"]]["status_changed_at"] is not None

    # The district's admin holds pii:read; the grid's worker sees G1 only, masked.
    for headers, masked, unit, visible in (
        (admin, False, world.c1, records),
        (worker, True, world.g1, {k: v for k, v in records.items() if k != unsettled["id"]}),
    ):
        for person_id, record in visible.items():
            r = await client.get(f"{PEOPLE}/{person_id}", headers=headers)
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == "application/json"
            assert r.headers["etag"] == etag(record["version"])
            assert r.json() == as_model(record, masked=masked)
            assert list(r.json()) == list(PersonOut.model_fields)  # the model's order, no path
        page = await client.get(PEOPLE, params={"unit_id": str(unit.id)}, headers=headers)
        assert page.status_code == 200, page.text
        expected = sorted(
            (as_model(record, masked=masked) for record in visible.values()),
            key=lambda p: (p["grid_code"], p["id"]),
        )
        assert page.json() == {"items": expected, "next_cursor": None, "total": len(expected)}
    worker_view = (await client.get(f"{PEOPLE}/{overseas['id']}", headers=worker)).json()
    assert worker_view["details"]["document_number"] != overseas["details"]["document_number"]
    assert worker_view["created_at"] == "2026-11-23T10:00:01+08:00"
    admin_view = (await client.get(f"{PEOPLE}/{registered['id']}", headers=admin)).json()
    assert admin_view["created_at"] == "2026-11-23T10:00:00.123456+08:00"


NAMES = (
    "王",
    "王军",
    "王军华",
    "李王军",
    "军王",
    "军王军",
    "Anna李四",
    "ANNA Lee",
    "Hanna",
    "阿依古丽·买买提",
    "满意度50%调查",
    "a_b",
)
QUERIES = (
    "王",  # one character
    "王军",  # two
    "王军华",  # three
    "军华",
    "李",
    "anna",  # Latin, either case
    "NN",
    "a李",  # mixed
    "丽·买",
    "·",
    "50%",  # LIKE's wildcards are matched literally
    "%",
    "_",
    "a_b",
    "无此人",  # no match
    "王王",
    "王军王",  # every gram is in 军王军, yet the name does not hold it: ILIKE rechecks
)


async def test_r_pop_1_a_name_search_finds_exactly_what_ilike_finds(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    made = {
        str((await make_person(session, clock, world.g1, name=name))["id"]): name for name in NAMES
    }
    headers = auth(world.admin_d, clock)
    for q in QUERIES:
        expected = {person_id for person_id, name in made.items() if q.lower() in name.lower()}
        # The predicate the search had before the grams index, run as it was.
        await system_ctx(session, clock)
        before = set(
            (
                await session.execute(
                    select(Person.id).where(
                        Person.grid_id == world.g1.id, Person.name.icontains(q, autoescape=True)
                    )
                )
            ).scalars()
        )
        r = await client.get(
            PEOPLE, params={"q": q, "unit_id": str(world.g1.id), "limit": 500}, headers=headers
        )
        assert r.status_code == 200, r.text
        found = {p["id"] for p in r.json()["items"]}
        assert found == expected == {str(i) for i in before}, q
        assert r.json()["total"] == len(expected)
    assert {p for q in QUERIES for p in made if q.lower() in made[p].lower()} == set(made)


async def test_a_search_the_database_cannot_hold_is_refused_and_the_next_one_answers(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)
    r = await client.get(PEOPLE, params={"q": "王\x00军"}, headers=headers)
    assert_problem(r, 422, "value_unstorable")
    r = await client.get(PEOPLE, params={"q": "王军"}, headers=headers)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("q", "grams"),
    [("王", ["王"]), ("王军", ["王军"]), ("丽·买", ["丽·", "·买"]), ("AbC", ["ab", "bc"])],
)
async def test_a_search_looks_up_the_pairs_of_its_characters_or_its_one_character(
    session: AsyncSession, q: str, grams: list[str]
) -> None:
    """Every name holding a query's pairs holds its characters too: the index is asked for
    the pairs alone (migration 0049), lower-cased as ILIKE compares."""
    looked_up = await session.scalar(text("SELECT name_query_grams(:q)"), {"q": q})
    assert looked_up == grams
