"""R-API-2 Open311 rules, pure: service codes from the sub-type dictionary, the status
mapping, attribute and field parsing, datetimes with their zone."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.errors import BadRequest, NotFound
from domain.events import SUBTYPES, Category
from domain.open311 import (
    SERVICES,
    ServiceType,
    Status,
    attributes_of,
    check_contact,
    check_description,
    find_service,
    parse_attributes,
    parse_datetime,
    parse_point,
    parse_statuses,
    split_list,
    status_of,
)
from domain.workflow import State


def test_every_subtype_is_one_service_and_codes_round_trip() -> None:
    assert [(s.category, s.subtype) for s in SERVICES] == [
        (category, subtype) for category, names in SUBTYPES.items() for subtype in names
    ]
    assert len({s.code for s in SERVICES}) == len(SERVICES)
    for service in SERVICES:
        assert find_service(service.code) == service
    # `other` is a sub-type of two categories: the code keeps them apart.
    assert find_service("city_component-other").category == Category.CITY_COMPONENT
    assert find_service("other-other").category == Category.OTHER


def test_unknown_and_missing_codes() -> None:
    with pytest.raises(NotFound):
        find_service("pothole")
    with pytest.raises(BadRequest):
        find_service("")


@pytest.mark.parametrize(
    ("category", "kind"),
    [
        (Category.DISPUTE, ServiceType.BATCH),
        (Category.SECURITY_HAZARD, ServiceType.BLACKBOX),
        (Category.LIVELIHOOD, ServiceType.REALTIME),
        (Category.CITY_COMPONENT, ServiceType.REALTIME),
        (Category.OTHER, ServiceType.REALTIME),
    ],
)
def test_service_types(category: Category, kind: ServiceType) -> None:
    assert {s.type for s in SERVICES if s.category == category} == {kind}


@pytest.mark.parametrize("state", list(State))
def test_only_a_closed_event_is_closed(state: State) -> None:
    assert status_of(state) == (Status.CLOSED if state == State.CLOSED else Status.OPEN)


def test_attributes_become_event_fields() -> None:
    dispute = find_service("dispute-family")
    fields = parse_attributes(
        dispute,
        {
            "parties": ["王某夫妇"],
            "involved_count": ["2"],
            "is_urgent": ["false"],
            "occurred_at": ["2026-11-23T08:00:00+08:00"],
            "title": [" 争吵 "],
        },
    )
    assert fields == {
        "parties": "王某夫妇",
        "involved_count": 2,
        "is_urgent": False,
        "occurred_at": datetime(2026, 11, 23, 0, 0, tzinfo=UTC),
        "title": "争吵",
    }
    assert "parties" not in {a.code for a in attributes_of(find_service("other-other"))}


@pytest.mark.parametrize(
    "given",
    [
        {},  # parties is required for a dispute
        {"parties": ["  "]},
        {"parties": ["x"], "involved_count": ["-1"]},
        {"parties": ["x"], "involved_count": ["1.5"]},
        {"parties": ["x"], "involved_count": ["nan"]},
        {"parties": ["x"], "involved_count": ["100001"]},
        {"parties": ["x" * 1001]},
        {"parties": ["x"], "title": ["x" * 201]},
        {"parties": ["x"], "is_urgent": ["yes"]},
        {"parties": ["x"], "occurred_at": ["2026-11-23 08:00"]},
        {"parties": ["x"], "title": ["a\nb"]},
        {"parties": ["x"], "title": ["a", "b"]},
        {"parties": ["x"], "colour": ["red"]},
    ],
)
def test_bad_attributes_are_refused(given: dict[str, list[str]]) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_attributes(find_service("dispute-neighbour"), given)
    assert caught.value.errors


def test_datetimes_need_their_zone() -> None:
    assert parse_datetime("d", "2010-01-01T00:00:00Z") == datetime(2010, 1, 1, tzinfo=UTC)
    east = timezone(timedelta(hours=8))
    assert parse_datetime("d", "2010-01-01T08:00:00+08:00") == datetime(2010, 1, 1, 8, tzinfo=east)
    for bad in ("2010-01-01T00:00:00", "2010-01-01", "soon"):
        with pytest.raises(BadRequest):
            parse_datetime("d", bad)


def test_points_contacts_description_and_lists() -> None:
    assert parse_point(None, None) is None
    point = parse_point("39.42", "75.92")
    assert point is not None and (point.lat, point.lon) == (39.42, 75.92)
    for lat, long in (("39.4", None), (None, "75.9"), ("x", "1"), ("91", "0"), ("0", "181")):
        with pytest.raises(BadRequest):
            parse_point(lat, long)
    assert check_contact({"email": " a@b.cn ", "phone": "+86 138-1234-5678"}) == {
        "email": "a@b.cn",
        "phone": "+86 138-1234-5678",
    }
    with pytest.raises(BadRequest) as caught:
        check_contact({"email": "a@", "media_url": "ftp://x", "first_name": "x" * 51})
    assert [e.field for e in caught.value.errors] == ["email", "first_name", "media_url"]
    assert check_description("  ") is None and check_description("x" * 4000) == "x" * 4000
    with pytest.raises(BadRequest):
        check_description("x" * 4001)
    assert split_list(" a, ,b ,") == ["a", "b"]
    assert parse_statuses("open,closed") == [Status.OPEN, Status.CLOSED]
    with pytest.raises(BadRequest):
        parse_statuses("open,pending")
