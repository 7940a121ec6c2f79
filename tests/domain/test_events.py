"""Pure event rules: the fixed dictionary of API.md, service numbers, action bodies and how a
caller stands to an event (R-EVT-1, R-WF-1, R-WF-2, R-WF-7, R-JUR-2)."""

import uuid
from datetime import date

import pytest

from domain.errors import Invalid
from domain.events import (
    SUBTYPES,
    Category,
    actors_of,
    check_action_payload,
    check_subtype,
    permission_for,
    service_number,
)
from domain.permissions import Perm
from domain.principal import SYSTEM, Principal
from domain.workflow import Action, Actor

# API.md "Event categories (fixed codes)" and the shipped sub-type codes it lists.
API_SUBTYPES = {
    "dispute": {
        "neighbour",
        "family",
        "marriage",
        "compensation",
        "contract",
        "labour",
        "demolition",
        "ethnic_religious",
        "veteran_resettlement",
        "building_quality",
        "property_management",
    },
    "security_hazard": {
        "robbery",
        "snatching",
        "theft",
        "gambling",
        "prostitution",
        "gang",
        "fight",
        "liability_accident",
    },
    "livelihood": {"hardship_relief", "education", "health", "employment", "elderly_service"},
    "city_component": {
        "manhole_cover",
        "street_light",
        "hydrant",
        "utility_pole",
        "bus_stop",
        "other",
    },
    "other": {"other"},
}


def test_the_dictionary_ships_every_code_api_md_names_r_evt_1() -> None:
    assert {c.value for c in Category} == set(API_SUBTYPES)
    for category, codes in API_SUBTYPES.items():
        assert codes <= set(SUBTYPES[Category(category)]), category


def test_subtypes_belong_to_their_category_r_evt_1() -> None:
    check_subtype(Category.DISPUTE, "neighbour")
    with pytest.raises(Invalid) as wrong:
        check_subtype(Category.DISPUTE, "theft")
    assert wrong.value.code == "event_subtype_unknown"


def test_service_numbers_are_readable_and_dated() -> None:
    assert service_number(date(2026, 11, 23), 123) == "SJ20261123000123"
    assert len(service_number(date(2026, 1, 1), 7_000_001)) == 16


@pytest.mark.parametrize(
    ("action", "payload", "bad_fields"),
    [
        (Action.ACCEPT, {"responsible_person": "李四"}, ["responsible_phone"]),
        (
            Action.ACCEPT,
            {"responsible_person": "李四", "responsible_phone": "abc"},
            ["responsible_phone"],
        ),
        (Action.FEEDBACK, {"note": "已上门", "result": "x"}, ["result"]),
        (Action.ASSIGN, {}, ["unit_id"]),
        (Action.ASSIGN, {"unit_id": "u", "department_id": "d"}, ["unit_id"]),
        (Action.RETURN, {}, ["reason"]),
        (Action.VERIFY, {"satisfaction": "satisfied"}, ["method"]),
        (Action.INSTRUCT, {"text": ""}, ["text"]),
    ],
)
def test_action_bodies_are_checked_r_wf_1(
    action: Action, payload: dict[str, object], bad_fields: list[str]
) -> None:
    with pytest.raises(Invalid) as refused:
        check_action_payload(action, payload)
    assert refused.value.code == "event_action_invalid"
    assert [e.field for e in refused.value.errors] == bad_fields


def test_good_bodies_pass() -> None:
    check_action_payload(
        Action.ACCEPT, {"responsible_person": "李四", "responsible_phone": "13800138000"}
    )
    check_action_payload(Action.DIVERT, {"department_id": "d"})
    check_action_payload(Action.VERIFY, {"satisfaction": "unsatisfied", "method": "phone"})


def test_marks_need_supervision_and_the_rest_handling_r_wf_7() -> None:
    assert permission_for(Action.INSTRUCT) == Perm.EVENT_SUPERVISE
    assert permission_for(Action.MARK_LEGACY) == Perm.EVENT_SUPERVISE
    assert permission_for(Action.ACCEPT) == Perm.EVENT_HANDLE


GRID = "d.s.c.g"
COMMUNITY = "d.s.c"
UNIT = uuid.uuid4()
DEPARTMENT = uuid.uuid4()


def person(
    scope: str,
    *,
    unit: uuid.UUID | None = None,
    department: uuid.UUID | None = None,
    roles: tuple[str, ...] = (),
) -> Principal:
    return Principal(
        user_id=uuid.uuid4(),
        username="u",
        full_name="u",
        unit_id=unit,
        department_id=department,
        scope=scope,
        roles=roles,
        permissions=frozenset(),
    )


def stands(
    principal: Principal,
    *,
    handler_unit: uuid.UUID | None = UNIT,
    handler_department: uuid.UUID | None = None,
    handler_path: str = COMMUNITY,
) -> set[Actor]:
    return set(
        actors_of(
            principal,
            event_path=GRID,
            handler_unit_id=handler_unit,
            handler_department_id=handler_department,
            handler_path=handler_path,
        )
    )


def test_how_callers_stand_to_an_event() -> None:
    # The community holding the step handles it and, as the reporting level, verifies it.
    assert stands(person(COMMUNITY, unit=UNIT)) == {
        Actor.HANDLER,
        Actor.ORIGINATOR,
        Actor.DISPATCHER,
    }
    # The street above: superior and dispatcher; only the reporting community verifies.
    assert stands(person("d.s", unit=uuid.uuid4())) == {Actor.SUPERIOR, Actor.DISPATCHER}
    # A leader of the district.
    assert Actor.LEADER in stands(person("d", unit=uuid.uuid4(), roles=("leader",)))
    # A sibling street stands nowhere.
    assert stands(person("d.t", unit=uuid.uuid4())) == set()
    # R-JUR-2: a department only ever handles what is dispatched to it.
    assert stands(
        person("d", department=DEPARTMENT),
        handler_unit=None,
        handler_department=DEPARTMENT,
        handler_path="d",
    ) == {Actor.HANDLER}
    assert Actor.SUPERIOR in stands(SYSTEM)
