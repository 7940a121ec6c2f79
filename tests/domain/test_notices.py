"""R-WF-5: every non-final transition tells its next actor; final ones tell nobody. R-WF-3:
an unrouted arrival asks for manual dispatch. R-SUP-6: each reminder kind has its notice."""

from domain.notices import NOTICES, REMINDERS, Audience, notice_for
from domain.supervision import ReminderKind
from domain.workflow import TRANSITIONS, Action, State


def test_every_step_opening_action_tells_the_new_holder() -> None:
    opening = {action for (_, action), t in TRANSITIONS.items() if t.new_step}
    opening.add(Action.VERIFY)  # unsatisfied / not implemented opens a new step
    for action in opening:
        notice = notice_for(action, State.PENDING_ACCEPT)
        assert notice is not None and notice.audience == Audience.HOLDER, action
        assert notice.kind == "event_assigned"


def test_an_unrouted_arrival_asks_the_holder_to_dispatch() -> None:
    notice = notice_for(Action.ESCALATE, State.DISPATCH)
    assert notice is not None and notice.kind == "event_dispatch"


def test_completion_asks_the_originator_to_verify_unless_it_closes() -> None:
    notice = notice_for(Action.COMPLETE, State.PENDING_VERIFY)
    assert notice is not None and notice.audience == Audience.ORIGINATOR
    # A process without verification closes on completion: final, nobody acts next.
    assert notice_for(Action.COMPLETE, State.CLOSED) is None
    assert notice_for(Action.VERIFY, State.CLOSED) is None


def test_appeals_reach_the_deciders_and_the_decision_the_appellant() -> None:
    assert NOTICES[Action.APPEAL].audience == Audience.APPEAL_DECIDERS
    assert NOTICES[Action.DECIDE_APPEAL].audience == Audience.APPELLANT


def test_marks_that_need_no_one_tell_no_one() -> None:
    for action in (Action.ACCEPT, Action.FEEDBACK, Action.MARK_LEGACY, Action.MARK_TYPICAL):
        assert notice_for(action, State.HANDLING) is None


def test_texts_name_the_event() -> None:
    for notice in [*NOTICES.values(), *REMINDERS.values()]:
        text = notice.render(service_no="SJ20261123000001", title="井盖缺失")
        assert "SJ20261123000001" in text and "井盖缺失" in text
    assert set(REMINDERS) == set(ReminderKind)
