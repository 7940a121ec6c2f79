"""The event itself (R-EVT-1, R-EVT-2): categories, the shipped sub-type dictionary, sources,
the human-readable service number, and which fields each workflow action takes (R-WF-1)."""

import re
import uuid
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from domain.errors import FieldError, Invalid
from domain.permissions import Perm, Role
from domain.principal import Principal, within
from domain.workflow import Action, Actor


class Category(StrEnum):
    DISPUTE = "dispute"
    SECURITY_HAZARD = "security_hazard"
    LIVELIHOOD = "livelihood"
    CITY_COMPONENT = "city_component"
    OTHER = "other"


CATEGORY_NAMES: dict[Category, str] = {
    Category.DISPUTE: "矛盾纠纷",
    Category.SECURITY_HAZARD: "治安安全隐患",
    Category.LIVELIHOOD: "民生服务",
    Category.CITY_COMPONENT: "城市部件",
    Category.OTHER: "其他",
}

# The shipped sub-type dictionary (API.md, fixed codes), per category, with display names.
SUBTYPES: dict[Category, dict[str, str]] = {
    Category.DISPUTE: {
        "neighbour": "邻里纠纷",
        "family": "家庭纠纷",
        "marriage": "婚姻纠纷",
        "compensation": "损害赔偿纠纷",
        "contract": "合同纠纷",
        "labour": "劳动纠纷",
        "demolition": "征地拆迁纠纷",
        "ethnic_religious": "民族宗教纠纷",
        "veteran_resettlement": "退役军人安置纠纷",
        "building_quality": "建筑质量纠纷",
        "property_management": "物业管理纠纷",
    },
    Category.SECURITY_HAZARD: {
        "robbery": "抢劫",
        "snatching": "抢夺",
        "theft": "盗窃",
        "gambling": "赌博",
        "prostitution": "卖淫嫖娼",
        "gang": "涉黑涉恶",
        "fight": "打架斗殴",
        "liability_accident": "重大责任事故",
    },
    Category.LIVELIHOOD: {
        "hardship_relief": "困难救助",
        "education": "教育",
        "health": "医疗卫生",
        "employment": "就业",
        "elderly_service": "养老服务",
    },
    Category.CITY_COMPONENT: {
        "manhole_cover": "井盖",
        "street_light": "路灯",
        "hydrant": "消防栓",
        "utility_pole": "电线杆",
        "bus_stop": "公交站",
        "other": "其他部件",
    },
    Category.OTHER: {"other": "其他"},
}


class Source(StrEnum):
    APP = "app"
    HOTLINE = "hotline"
    WEB = "web"
    WALK_IN = "walk_in"
    VIDEO_PATROL = "video_patrol"
    THIRD_PARTY = "third_party"
    CITIZEN = "citizen"
    # Filed by an agency through the Open311 GeoReport v2 facade (R-API-2).
    OPEN311 = "open311"


SERVICE_NO_PREFIX = "SJ"


def service_number(day: date, serial: int) -> str:
    """服务单号: `SJ` + the local reporting date + a 6-digit serial, e.g. `SJ20261123000123`."""
    return f"{SERVICE_NO_PREFIX}{day:%Y%m%d}{serial % 1_000_000:06d}"


def check_subtype(category: Category, subtype: str) -> None:
    """The sub-type must be one the dictionary lists for the category (422 otherwise)."""
    if subtype not in SUBTYPES[category]:
        raise Invalid(
            "event_subtype_unknown",
            errors=[FieldError("subtype", "event_subtype_unknown", {"category": category.value})],
        )


# What each action takes in its body: (required fields, optional fields).
ACTION_FIELDS: dict[Action, tuple[frozenset[str], frozenset[str]]] = {
    Action.DISPATCH: (frozenset(), frozenset({"unit_id", "department_id", "note"})),
    Action.ACCEPT: (frozenset({"responsible_person", "responsible_phone"}), frozenset()),
    # Photos, audio or video of the work (R-MOB-1) go with feedback, completion and
    # on-site verification as finished uploads.
    Action.FEEDBACK: (frozenset({"note"}), frozenset({"attachment_ids"})),
    Action.COMPLETE: (frozenset({"result"}), frozenset({"attachment_ids"})),
    Action.ESCALATE: (frozenset(), frozenset({"note"})),
    Action.ASSIGN: (frozenset(), frozenset({"unit_id", "department_id", "note"})),
    Action.RETURN: (frozenset({"reason"}), frozenset()),
    Action.COPY: (frozenset({"unit_ids"}), frozenset({"note"})),
    Action.DIVERT: (frozenset(), frozenset({"unit_id", "department_id", "note"})),
    Action.VERIFY: (frozenset({"satisfaction", "method"}), frozenset({"note", "attachment_ids"})),
    Action.EXPEDITE: (frozenset(), frozenset({"note"})),
    Action.CANCEL_EXPEDITE: (frozenset(), frozenset({"note"})),
    Action.INSTRUCT: (frozenset({"text"}), frozenset()),
    Action.MARK_LEGACY: (frozenset(), frozenset({"note"})),
    Action.UNMARK_LEGACY: (frozenset(), frozenset({"note"})),
    Action.MARK_TYPICAL: (frozenset(), frozenset({"note"})),
    # Without `verify_action_id`: the latest verification that went against the caller.
    Action.APPEAL: (frozenset({"reason"}), frozenset({"verify_action_id"})),
    # Without `appeal_id`: the event's one undecided appeal.
    Action.DECIDE_APPEAL: (frozenset({"upheld"}), frozenset({"note", "appeal_id"})),
    Action.MARK_DUPLICATE: (frozenset({"duplicate_of"}), frozenset({"note"})),
}
# Actions that hand the event to a named target: exactly one of these two fields.
TARGETED = frozenset({Action.ASSIGN, Action.DIVERT, Action.DISPATCH})
_PHONE = re.compile(r"^\+?[0-9][0-9-]{6,19}$")


def check_action_payload(action: Action, payload: Mapping[str, Any]) -> None:
    """The body holds what the action needs and nothing it does not take (422 otherwise)."""
    required, optional = ACTION_FIELDS[action]
    given = {key for key, value in payload.items() if value not in (None, "", [])}
    errors = [FieldError(name, "field_required") for name in sorted(required - given)]
    errors += [
        FieldError(name, "field_not_allowed") for name in sorted(given - required - optional)
    ]
    if action in TARGETED and len(given & {"unit_id", "department_id"}) != 1:
        errors.append(FieldError("unit_id", "event_target_required"))
    phone = payload.get("responsible_phone")
    if phone and not _PHONE.match(str(phone)):
        errors.append(FieldError("responsible_phone", "phone_invalid"))
    if errors:
        raise Invalid("event_action_invalid", errors=errors)


# Marks and instructions are supervision (R-WF-7); everything else is handling (R-WF-1/2).
SUPERVISION_ACTIONS = frozenset(
    {
        Action.EXPEDITE,
        Action.CANCEL_EXPEDITE,
        Action.INSTRUCT,
        Action.MARK_LEGACY,
        Action.UNMARK_LEGACY,
        Action.MARK_TYPICAL,
        Action.DECIDE_APPEAL,
    }
)


def permission_for(action: Action) -> Perm:
    return Perm.EVENT_SUPERVISE if action in SUPERVISION_ACTIONS else Perm.EVENT_HANDLE


def actors_of(
    principal: Principal,
    *,
    event_path: str,
    handler_unit_id: uuid.UUID | None,
    handler_department_id: uuid.UUID | None,
    handler_path: str,
) -> frozenset[Actor]:
    """How the caller stands to an event whose grid is at `event_path` and whose current step
    is held by the given unit or department (sitting at `handler_path`)."""
    found: set[Actor] = set()
    if (handler_unit_id is not None and handler_unit_id == principal.unit_id) or (
        handler_department_id is not None and handler_department_id == principal.department_id
    ):
        found.add(Actor.HANDLER)
    if principal.sees_everything:
        return frozenset(found | {Actor.SUPERIOR, Actor.DISPATCHER, Actor.LEADER})
    scope = principal.scope
    if Role.LEADER.value in principal.roles and within(event_path, scope):
        found.add(Actor.LEADER)
    # Departments stand outside the territorial tree: they only ever handle (R-ORG-2).
    if principal.department_id is None:
        community = event_path.rsplit(".", 1)[0]
        if within(scope, community):
            found.add(Actor.ORIGINATOR)
        if within(handler_path, scope) and handler_path != scope:
            found.add(Actor.SUPERIOR)
        if within(event_path, scope) and event_path != scope:
            found.add(Actor.DISPATCHER)
    return frozenset(found)
