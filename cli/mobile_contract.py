"""The Android app's contract in `clients/mobile-contract/` (R-MOB-1, R-MOB-2, R-WF-4):
`openapi.json`, the app's subset of the committed `openapi/openapi.json` (the operations it
calls and every schema they reach), and `workflow.json`, the event workflow's transition
table exported from `domain.workflow`. Regenerate with `python -m cli.mobile_contract`; a
test fails when either file drifts from its source."""

import json
import re
from pathlib import Path
from typing import Any

from domain.workflow import CATEGORY_PROCESS as CATEGORY_PROCESSES
from domain.workflow import (
    OPEN_STATES,
    PROCESSES,
    TERMINAL,
    TRANSITIONS,
    Action,
    Actor,
    Satisfaction,
    State,
    Transition,
    graph,
)

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "clients" / "mobile-contract"
MAIN_SPEC = ROOT / "openapi" / "openapi.json"

# Every operation the app calls, as (method, path) of the main spec.
APP_OPERATIONS: tuple[tuple[str, str], ...] = (
    # Login and who I am.
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/refresh"),
    ("get", "/api/v1/me"),
    # My grid and its map.
    ("get", "/api/v1/mobile/summary"),
    ("get", "/api/v1/grids/{grid_id}"),
    ("get", "/api/v1/grids/locate"),
    # Look-ups (jurisdiction keeps them inside my grid).
    ("get", "/api/v1/people"),
    ("get", "/api/v1/people/{person_id}"),
    ("get", "/api/v1/houses"),
    ("get", "/api/v1/houses/{house_id}"),
    ("get", "/api/v1/places"),
    ("get", "/api/v1/places/{place_id}"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/events/counts"),
    ("get", "/api/v1/events/{event_id}"),
    ("get", "/api/v1/events/{event_id}/process"),
    ("get", "/api/v1/dictionaries/event_subtype"),
    # Field work.
    ("post", "/api/v1/mobile/events"),
    ("post", "/api/v1/mobile/alarms"),
    ("post", "/api/v1/events/{event_id}/actions/{action}"),
    ("post", "/api/v1/mobile/visits"),
    ("get", "/api/v1/mobile/visits"),
    ("get", "/api/v1/mobile/visits/{visit_id}"),
    ("patch", "/api/v1/mobile/visits/{visit_id}"),
    ("post", "/api/v1/mobile/check-ins"),
    ("post", "/api/v1/mobile/check-ins/check-out"),
    ("get", "/api/v1/mobile/check-ins"),
    ("post", "/api/v1/mobile/tracks"),
    ("get", "/api/v1/mobile/tracks/{user_id}"),
    ("put", "/api/v1/me/position"),
    ("get", "/api/v1/mobile/history"),
    ("get", "/api/v1/handbooks"),
    ("get", "/api/v1/handbooks/{handbook_id}"),
    # Photos, audio and video: uploaded separately and resumably, then attached.
    ("post", "/api/v1/uploads"),
    ("post", "/api/v1/uploads/file"),
    ("get", "/api/v1/uploads/{upload_id}"),
    ("put", "/api/v1/uploads/{upload_id}"),
    ("post", "/api/v1/uploads/{upload_id}/finish"),
    ("post", "/api/v1/events/{event_id}/attachments"),
    ("get", "/api/v1/events/{event_id}/attachments"),
    # Notices (R-NOTE-1): unread counts and marking read.
    ("get", "/api/v1/notifications"),
    ("post", "/api/v1/notifications/{notification_id}/read"),
    ("post", "/api/v1/notifications/read-all"),
    # Offline sync.
    ("post", "/api/v1/sync"),
)

_REF = re.compile(r'"\$ref": "#/components/schemas/([^"]+)"')


def _schemas_reached(document: dict[str, Any], start: Any) -> set[str]:
    """The component schemas `start` refers to, directly or through other schemas."""
    schemas = document["components"]["schemas"]
    found: set[str] = set()
    pending = set(_REF.findall(json.dumps(start)))
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending |= set(_REF.findall(json.dumps(schemas[name]))) - found
    return found


def app_openapi(main: dict[str, Any]) -> dict[str, Any]:
    """The app's subset of the main document: its operations and the schemas they reach."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path in APP_OPERATIONS:
        paths.setdefault(path, {})[method] = main["paths"][path][method]
    names = _schemas_reached(main, paths)
    return {
        "openapi": main["openapi"],
        "info": {
            **main["info"],
            "title": f"{main['info']['title']} — mobile contract",
            "description": "网格员 App 接口契约：主接口文档 openapi/openapi.json 的子集。",
        },
        "paths": paths,
        "components": {
            "schemas": {name: main["components"]["schemas"][name] for name in sorted(names)},
            **{k: v for k, v in main["components"].items() if k != "schemas"},
        },
    }


def _transition(t: Transition) -> dict[str, Any]:
    return {
        "to": t.target.value,
        "actors": sorted(actor.value for actor in t.actors),
        "new_step": t.new_step,
        "finishes_step": t.finishes_step,
        "stops": sorted(clock.value for clock in t.stops),
        "routed": t.routed,
    }


def workflow_table() -> dict[str, Any]:
    """The transition table as the app reads it: states, actions, who may take each action
    in which state and what follows, verification outcomes, and the processes."""
    transitions = [
        {"from": state.value, "action": action.value, **_transition(t)}
        for (state, action), t in TRANSITIONS.items()
    ]
    default = PROCESSES["default"]
    verification = []
    for satisfaction in Satisfaction:
        found = default.transition(State.PENDING_VERIFY, Action.VERIFY, satisfaction)
        assert found is not None
        verification.append({"satisfaction": satisfaction.value, **_transition(found)})
    return {
        "states": [state.value for state in State],
        "open_states": [state.value for state in OPEN_STATES],
        "terminal_states": sorted(state.value for state in TERMINAL),
        "actions": [action.value for action in Action],
        "actors": [actor.value for actor in Actor],
        "transitions": transitions,
        "verification": verification,
        "processes": [
            {
                **graph(process),
                "actions": sorted(action.value for action in process.actions),
                "verification": process.verification,
            }
            for process in PROCESSES.values()
        ],
        "category_processes": CATEGORY_PROCESSES,
    }


def as_json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def expected_files() -> dict[Path, str]:
    main = json.loads(MAIN_SPEC.read_text(encoding="utf-8"))
    return {
        CONTRACT / "openapi.json": as_json(app_openapi(main)),
        CONTRACT / "workflow.json": as_json(workflow_table()),
    }


def main() -> None:
    for path, text in expected_files().items():
        path.write_text(text, encoding="utf-8")
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
