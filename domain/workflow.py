"""The closed-loop event workflow as data (R-WF-1 … R-WF-7): an explicit transition table
mapping (state, action) to the next state, who may act, whether a new step (环节) starts and
which supervision clocks stop or start; and a pure `decide()` the service applies.

A process definition (R-WF-4) is a named subset of the table bound to event categories; the
default process is the whole table. The table is exported for the mobile app and the console.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import Conflict, PermissionDenied


class State(StrEnum):
    # 待分派: the manual dispatch queue (R-WF-3) — no routing rule matched where the event
    # arrived; that unit's staff dispatch it or take it on themselves.
    DISPATCH = "dispatch"
    PENDING_ACCEPT = "pending_accept"  # 待签收
    HANDLING = "handling"  # 办理中
    PENDING_VERIFY = "pending_verify"  # 待核查
    CLOSED = "closed"  # 已结案


class Action(StrEnum):
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    FEEDBACK = "feedback"
    COMPLETE = "complete"
    ESCALATE = "escalate"
    ASSIGN = "assign"
    RETURN = "return"
    COPY = "copy"
    DIVERT = "divert"
    VERIFY = "verify"
    SUPERVISE = "supervise"
    CANCEL_SUPERVISION = "cancel-supervision"
    EXPEDITE = "expedite"
    CANCEL_EXPEDITE = "cancel-expedite"
    INSTRUCT = "instruct"
    MARK_LEGACY = "mark-legacy"
    UNMARK_LEGACY = "unmark-legacy"
    MARK_TYPICAL = "mark-typical"
    APPEAL = "appeal"
    DECIDE_APPEAL = "decide-appeal"
    # R-EVT-3: closes the event as a duplicate of another (`duplicate_of`).
    MARK_DUPLICATE = "mark-duplicate"


class Actor(StrEnum):
    """How the caller stands to the event; the service works it out from units and roles."""

    HANDLER = "handler"  # belongs to the current step's unit or department
    ORIGINATOR = "originator"  # belongs to the level that reported the event (verifies it)
    DISPATCHER = "dispatcher"  # operator of a unit above the event's grid
    SUPERIOR = "superior"  # any manager above the current step's unit
    LEADER = "leader"  # holds the leader role over the event's area
    # Handled the step that a verification judged unsatisfied / not implemented (R-WF-2).
    EVALUATED = "evaluated"


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"
    UNSATISFIED = "unsatisfied"
    NOT_IMPLEMENTED = "not_implemented"  # 未落实


class Clock(StrEnum):
    STOP_ACCEPT = "stop_accept"
    STOP_HANDLE = "stop_handle"


@dataclass(frozen=True)
class Transition:
    target: State
    actors: frozenset[Actor]
    # A new step (环节) is opened, assigned to another unit or department.
    new_step: bool = False
    # The current step is finished (its supervision is cleared, R-SUP-1).
    finishes_step: bool = False
    stops: frozenset[Clock] = frozenset()
    # The new step arrives at a unit whose routing rules decide where it goes (R-WF-3): to
    # the rule's target, or into that unit's manual dispatch queue when none matches.
    routed: bool = False


def _t(
    target: State,
    *actors: Actor,
    new_step: bool = False,
    finishes_step: bool = False,
    stops: Iterable[Clock] = (),
    routed: bool = False,
) -> Transition:
    return Transition(target, frozenset(actors), new_step, finishes_step, frozenset(stops), routed)


def arrival_state(*, matched: bool) -> State:
    """Where an event stands when it arrives at a unit (reported there, or escalated to it):
    waiting for the rule's target to accept it, or in the unit's manual dispatch queue."""
    return State.PENDING_ACCEPT if matched else State.DISPATCH


OPEN_STATES = (State.DISPATCH, State.PENDING_ACCEPT, State.HANDLING, State.PENDING_VERIFY)
HANDLER, ORIGINATOR, DISPATCHER = Actor.HANDLER, Actor.ORIGINATOR, Actor.DISPATCHER
MANAGERS = (Actor.SUPERIOR, Actor.LEADER)

WAITING = (State.DISPATCH, State.PENDING_ACCEPT)

# Moving the event on: only an accepted step can be handled (R-WF-1). An event waiting in a
# dispatch queue is dispatched by that unit's staff or an operator above, or taken on by the
# unit itself; either way its acceptance clock stops.
_FLOW: dict[tuple[State, Action], Transition] = {
    (State.DISPATCH, Action.DISPATCH): _t(
        State.PENDING_ACCEPT,
        HANDLER,
        DISPATCHER,
        new_step=True,
        finishes_step=True,
        stops=[Clock.STOP_ACCEPT],
    ),
    **{
        (state, Action.ACCEPT): _t(State.HANDLING, HANDLER, stops=[Clock.STOP_ACCEPT])
        for state in WAITING
    },
    **{
        (state, Action.RETURN): _t(
            State.PENDING_ACCEPT,
            HANDLER,
            new_step=True,
            finishes_step=True,
            stops=[Clock.STOP_ACCEPT],
        )
        for state in WAITING
    },
    (State.HANDLING, Action.FEEDBACK): _t(State.HANDLING, HANDLER, stops=[Clock.STOP_HANDLE]),
    (State.HANDLING, Action.COMPLETE): _t(
        State.PENDING_VERIFY, HANDLER, finishes_step=True, stops=[Clock.STOP_HANDLE]
    ),
    **{
        (State.HANDLING, action): _t(
            State.PENDING_ACCEPT,
            HANDLER,
            new_step=True,
            finishes_step=True,
            stops=[Clock.STOP_HANDLE],
            routed=action == Action.ESCALATE,
        )
        for action in (Action.ESCALATE, Action.ASSIGN, Action.DIVERT, Action.RETURN)
    },
    # A likely duplicate (R-EVT-3) is closed by whoever holds, dispatches or oversees it,
    # pointing at the original; its step ends and every clock with it.
    **{
        (state, Action.MARK_DUPLICATE): _t(
            State.CLOSED,
            HANDLER,
            DISPATCHER,
            *MANAGERS,
            finishes_step=True,
            stops=[Clock.STOP_ACCEPT, Clock.STOP_HANDLE],
        )
        for state in OPEN_STATES
    },
    # Copy-to (抄告) informs other units without moving the event.
    **{(state, Action.COPY): _t(state, HANDLER) for state in (*WAITING, State.HANDLING)},
}

# Verification by the originating level (R-WF-2): satisfied closes the event, anything else
# sends it back to handling under a new step.
_VERIFY: dict[Satisfaction, Transition] = {
    Satisfaction.SATISFIED: _t(State.CLOSED, ORIGINATOR),
    Satisfaction.UNSATISFIED: _t(State.PENDING_ACCEPT, ORIGINATOR, new_step=True),
    Satisfaction.NOT_IMPLEMENTED: _t(State.PENDING_ACCEPT, ORIGINATOR, new_step=True),
}

# Marks (R-SUP-1, R-WF-7) leave the state as it is.
_MARKS: dict[tuple[State, Action], Transition] = {
    **{
        (state, action): _t(state, *actors)
        for state in OPEN_STATES
        for action, actors in (
            (Action.SUPERVISE, MANAGERS),
            (Action.CANCEL_SUPERVISION, MANAGERS),
            (Action.EXPEDITE, MANAGERS),
            (Action.CANCEL_EXPEDITE, MANAGERS),
            (Action.INSTRUCT, (Actor.LEADER,)),
            (Action.MARK_LEGACY, MANAGERS),
            (Action.UNMARK_LEGACY, MANAGERS),
        )
    },
    # Typical cases are chosen among done or closed events.
    (State.PENDING_VERIFY, Action.MARK_TYPICAL): _t(State.PENDING_VERIFY, *MANAGERS),
    (State.CLOSED, Action.MARK_TYPICAL): _t(State.CLOSED, *MANAGERS),
    # An appeal against a verification (R-WF-2) and its decision by a superior of the
    # evaluator move nothing: they settle who is charged (§6), also after the event closed.
    **{(state, Action.APPEAL): _t(state, Actor.EVALUATED) for state in State},
    **{(state, Action.DECIDE_APPEAL): _t(state, *MANAGERS) for state in State},
}

TRANSITIONS: dict[tuple[State, Action], Transition] = {**_FLOW, **_MARKS}
TERMINAL = frozenset({State.CLOSED})


@dataclass(frozen=True)
class Process:
    """A process definition (R-WF-4): which actions a category's events allow, and whether
    completion needs the originator's verification."""

    code: str
    name: str
    actions: frozenset[Action]
    verification: bool = True

    def transition(
        self, state: State, action: Action, satisfaction: Satisfaction | None = None
    ) -> Transition | None:
        if action not in self.actions:
            return None
        if action == Action.VERIFY:
            if state != State.PENDING_VERIFY or satisfaction is None:
                return None
            return _VERIFY[satisfaction]
        found = TRANSITIONS.get((state, action))
        if found and action == Action.COMPLETE and not self.verification:
            return _t(State.CLOSED, *found.actors, finishes_step=True, stops=found.stops)
        return found


DEFAULT_PROCESS = Process("default", "标准处置流程", frozenset(Action))
# City components (井盖、路灯 …) are fixed by the responsible department; no call-back needed.
COMPONENT_PROCESS = Process(
    "component", "城市部件处置流程", frozenset(Action) - {Action.VERIFY}, verification=False
)
PROCESSES = {p.code: p for p in (DEFAULT_PROCESS, COMPONENT_PROCESS)}
CATEGORY_PROCESS = {"city_component": COMPONENT_PROCESS.code}


def process_for(category: str) -> Process:
    return PROCESSES[CATEGORY_PROCESS.get(category, DEFAULT_PROCESS.code)]


def decide(
    process: Process,
    state: State,
    action: Action,
    actors: frozenset[Actor],
    *,
    satisfaction: Satisfaction | None = None,
) -> Transition:
    """The transition to apply, or 409 `transition_not_allowed` (the action is not possible
    in this state) / 403 (the caller does not stand in a role that may take it)."""
    transition = process.transition(state, action, satisfaction)
    if transition is None:
        raise Conflict(
            "transition_not_allowed", params={"state": state.value, "action": action.value}
        )
    if not transition.actors & actors:
        raise PermissionDenied("action_not_yours", params={"action": action.value})
    return transition


def graph(process: Process) -> dict[str, object]:
    """The process as nodes and edges, for the graphical trace (图形化过程追踪)."""
    edges = [
        {"from": state.value, "action": action.value, "to": t.target.value}
        for (state, action), t in TRANSITIONS.items()
        if process.transition(state, action) is not None and t.target != state
    ]
    if Action.VERIFY in process.actions:
        edges += [
            {
                "from": State.PENDING_VERIFY.value,
                "action": f"verify:{s.value}",
                "to": t.target.value,
            }
            for s, t in _VERIFY.items()
        ]
    if not process.verification:
        edges = [e for e in edges if e["from"] != State.PENDING_VERIFY.value]
    return {
        "process": process.code,
        "name": process.name,
        "nodes": [state.value for state in State],
        "edges": edges,
    }
