"""The transition table walked exhaustively (R-WF-1 … R-WF-7): every state × action is
either a listed transition or 409 `transition_not_allowed`; every state is reachable; nothing
leaves a terminal state; the actor rules hold."""

import itertools

import pytest

from domain.errors import Conflict, PermissionDenied
from domain.workflow import (
    COMPONENT_PROCESS,
    DEFAULT_PROCESS,
    TERMINAL,
    TRANSITIONS,
    Action,
    Actor,
    Clock,
    Satisfaction,
    State,
    decide,
    graph,
    process_for,
)

EVERYONE = frozenset(Actor)


@pytest.mark.parametrize(("state", "action"), list(itertools.product(State, Action)), ids=str)
def test_every_pair_is_allowed_or_refused_with_409(state: State, action: Action) -> None:
    listed = (state, action) in TRANSITIONS or (
        action == Action.VERIFY and state == State.PENDING_VERIFY
    )
    if listed:
        satisfaction = Satisfaction.SATISFIED if action == Action.VERIFY else None
        assert decide(DEFAULT_PROCESS, state, action, EVERYONE, satisfaction=satisfaction)
    else:
        with pytest.raises(Conflict) as refused:
            decide(DEFAULT_PROCESS, state, action, EVERYONE, satisfaction=Satisfaction.SATISFIED)
        assert refused.value.code == "transition_not_allowed"


def test_every_state_is_reachable_from_dispatch_and_pending_accept() -> None:
    edges = graph(DEFAULT_PROCESS)["edges"]
    assert isinstance(edges, list)
    reached = {State.DISPATCH.value}
    frontier = [State.DISPATCH.value]
    while frontier:
        current = frontier.pop()
        for edge in edges:
            if edge["from"] == current and edge["to"] not in reached:
                reached.add(edge["to"])
                frontier.append(edge["to"])
    assert reached == {s.value for s in State}


def test_nothing_leaves_a_terminal_state() -> None:
    for (state, action), transition in TRANSITIONS.items():
        if state in TERMINAL:
            assert transition.target == state, action
            assert not transition.new_step


def test_only_accepted_steps_are_handled_r_wf_1() -> None:
    for action in (Action.FEEDBACK, Action.COMPLETE, Action.ESCALATE, Action.ASSIGN, Action.DIVERT):
        with pytest.raises(Conflict):
            decide(DEFAULT_PROCESS, State.PENDING_ACCEPT, action, EVERYONE)
        assert decide(DEFAULT_PROCESS, State.HANDLING, action, frozenset({Actor.HANDLER}))


def test_clocks_stop_where_the_rules_say_r_sup_2() -> None:
    assert decide(DEFAULT_PROCESS, State.PENDING_ACCEPT, Action.ACCEPT, EVERYONE).stops == {
        Clock.STOP_ACCEPT
    }
    assert (
        Clock.STOP_HANDLE
        in decide(DEFAULT_PROCESS, State.HANDLING, Action.FEEDBACK, EVERYONE).stops
    )
    assert decide(DEFAULT_PROCESS, State.HANDLING, Action.COMPLETE, EVERYONE).finishes_step


def test_verification_outcomes_r_wf_2() -> None:
    def verify(s: Satisfaction) -> State:
        return decide(
            DEFAULT_PROCESS,
            State.PENDING_VERIFY,
            Action.VERIFY,
            frozenset({Actor.ORIGINATOR}),
            satisfaction=s,
        ).target

    assert verify(Satisfaction.SATISFIED) == State.CLOSED
    assert verify(Satisfaction.UNSATISFIED) == State.PENDING_ACCEPT
    assert verify(Satisfaction.NOT_IMPLEMENTED) == State.PENDING_ACCEPT
    with pytest.raises(Conflict):
        decide(DEFAULT_PROCESS, State.PENDING_VERIFY, Action.VERIFY, EVERYONE)  # no outcome


def test_actors_are_checked() -> None:
    with pytest.raises(PermissionDenied):
        decide(DEFAULT_PROCESS, State.PENDING_ACCEPT, Action.ACCEPT, frozenset({Actor.LEADER}))
    with pytest.raises(PermissionDenied):
        decide(DEFAULT_PROCESS, State.HANDLING, Action.INSTRUCT, frozenset({Actor.SUPERIOR}))
    assert decide(DEFAULT_PROCESS, State.HANDLING, Action.INSTRUCT, frozenset({Actor.LEADER}))


def test_marks_leave_the_state_and_typical_needs_a_done_event_r_wf_7() -> None:
    for state in (State.PENDING_ACCEPT, State.HANDLING):
        for action in (Action.EXPEDITE, Action.MARK_LEGACY, Action.SUPERVISE):
            assert decide(DEFAULT_PROCESS, state, action, EVERYONE).target == state
        with pytest.raises(Conflict):
            decide(DEFAULT_PROCESS, state, Action.MARK_TYPICAL, EVERYONE)
    assert (
        decide(DEFAULT_PROCESS, State.CLOSED, Action.MARK_TYPICAL, EVERYONE).target == State.CLOSED
    )


def test_processes_are_data_per_category_r_wf_4() -> None:
    assert process_for("dispute") is DEFAULT_PROCESS
    component = process_for("city_component")
    assert component is COMPONENT_PROCESS
    assert decide(component, State.HANDLING, Action.COMPLETE, EVERYONE).target == State.CLOSED
    with pytest.raises(Conflict):
        decide(
            component,
            State.PENDING_VERIFY,
            Action.VERIFY,
            EVERYONE,
            satisfaction=Satisfaction.SATISFIED,
        )
    edges = graph(component)["edges"]
    assert isinstance(edges, list)
    assert all(edge["from"] != State.PENDING_VERIFY.value for edge in edges)
