"""Pure assessment rules (R-ASM-1 … R-ASM-5): defaults, item validation, scores at the pass
mark, the bonus quantity and the review state machine walked whole."""

from decimal import Decimal

import pytest

from domain.assessment import (
    DEFAULT_ITEMS,
    REVIEW_TRANSITIONS,
    Band,
    Item,
    Kind,
    ManualScore,
    ReviewAction,
    ReviewRole,
    ReviewState,
    Signal,
    accepted_bonus_quantity,
    check_items,
    check_manual_scores,
    decide_review,
    defaults_document,
    ledger_period,
    score,
)
from domain.errors import Conflict, Invalid, PermissionDenied
from domain.supervision import DEDUCTION, Level


@pytest.mark.parametrize("kind", list(Kind))
def test_r_asm_3_every_kind_ships_valid_defaults_with_the_card_deductions(kind: Kind) -> None:
    items = list(DEFAULT_ITEMS[kind])
    check_items(items)
    by_signal = {i.signal: i.points for i in items if i.signal}
    assert by_signal[Signal.SUPERVISION_YELLOW] == DEDUCTION[Level.YELLOW] == -5
    assert by_signal[Signal.SUPERVISION_RED] == DEDUCTION[Level.RED] == -10
    document = defaults_document()[kind.value]
    assert document["supervision_red"] == {"code": "supervision_red", "points": "-10", "cap": None}


def test_r_asm_3_the_defaults_follow_the_regulation_side_by_side() -> None:
    community = {i.code: i.points for i in DEFAULT_ITEMS[Kind.COMMUNITY]}
    assert (community["appeal_upheld"], community["entries_none"]) == (Decimal(-2), Decimal(-5))
    assert (community["entries_bottom3"], community["entries_top3"]) == (Decimal(-3), Decimal(2))
    street = {i.code: i.points for i in DEFAULT_ITEMS[Kind.STREET]}
    assert street["accept_overdue_30d"] == -10 and street["joint_liability"] == -1
    assert "joint_liability" not in community and "monthly_accepted" not in community


def test_r_asm_2_79_9_fails_and_80_passes() -> None:
    assert score(Decimal("20.1"), Decimal(0), annual=True).passed is False
    assert score(Decimal("20.1"), Decimal(0), annual=True).band == Band.FAIL
    passing = score(Decimal(23), Decimal(3), annual=True)
    assert (passing.score, passing.passed, passing.band) == (Decimal(80), True, Band.PASS)
    assert score(Decimal(10), Decimal(0), annual=True).band == Band.GOOD
    # A month's bulletin neither passes nor fails.
    assert score(Decimal(30), Decimal(0), annual=False).passed is None


@pytest.mark.parametrize(("accepted", "quantity"), [(9, 0), (10, 1), (12, 1), (13, 2), (16, 3)])
def test_r_asm_3_ten_accepted_then_one_more_per_three(accepted: int, quantity: int) -> None:
    assert accepted_bonus_quantity(accepted) == quantity


def test_an_annual_review_lands_in_december() -> None:
    assert (ledger_period("2026"), ledger_period("2026-03")) == ("2026-12", "2026-03")


def test_items_with_two_decimals_or_over_100_points_are_refused() -> None:
    for points in (Decimal("-1.25"), Decimal(-101)):
        with pytest.raises(Invalid):
            check_items([Item("a", "x", points)])


def test_manual_scores_keep_to_the_manual_items() -> None:
    items = [
        Item("wrong_submission", "错报", Decimal(-1), cap=Decimal(10)),
        Item("verify_late", "评价", Decimal(-1), Signal.VERIFY_LATE),
    ]
    check_manual_scores([ManualScore("wrong_submission", Decimal("-9.5"))], items, "scores")
    for given in (
        ManualScore("verify_late", Decimal(-1)),
        ManualScore("wrong_submission", Decimal(-11)),
        ManualScore("wrong_submission", Decimal(1)),
    ):
        with pytest.raises(Invalid):
            check_manual_scores([given], items, "scores")


ALL_ROLES = frozenset(ReviewRole)


@pytest.mark.parametrize("state", list(ReviewState))
@pytest.mark.parametrize("action", list(ReviewAction))
def test_r_asm_5_the_review_table_walked_whole(state: ReviewState, action: ReviewAction) -> None:
    """Every (state, action): the table's target for its one role, 403 for the other role,
    409 when the state does not allow it; archived is terminal."""
    found = REVIEW_TRANSITIONS.get((state, action))
    if found is None:
        with pytest.raises(Conflict):
            decide_review(state, action, ALL_ROLES)
        return
    role, target = found
    assert decide_review(state, action, frozenset({role})) == target
    with pytest.raises(PermissionDenied):
        decide_review(state, action, ALL_ROLES - {role})
    assert state != ReviewState.ARCHIVED
