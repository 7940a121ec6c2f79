"""R-WF-3 auto-routing as pure rules: which candidate rule applies to an arriving event, most
specific first, and how rule keywords and levels are validated."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import Invalid
from domain.routing import Candidate, check_level, choose, normalise_keywords

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def rule(
    *,
    subtype: str | None = None,
    keywords: tuple[str, ...] | None = None,
    depth: int = 2,
    priority: int = 100,
    age: int = 0,
) -> Candidate:
    return Candidate(
        id=uuid.uuid4(),
        owner_depth=depth,
        subtype=subtype,
        keywords=keywords,
        priority=priority,
        created_at=T0 - timedelta(days=age),
    )


def pick(
    rules: list[Candidate], *, subtype: str = "labour", text: str = "讨薪"
) -> Candidate | None:
    return choose(rules, subtype=subtype, title=text, description="")


def test_no_rule_means_manual_dispatch() -> None:
    assert pick([]) is None
    assert pick([rule(subtype="family")]) is None
    assert pick([rule(keywords=("拆迁",))]) is None


def test_category_wide_rule_applies_to_every_subtype() -> None:
    wide = rule()
    assert pick([wide], subtype="family") is wide


def test_keywords_beat_subtype_beat_category() -> None:
    wide, by_subtype, by_keyword = rule(), rule(subtype="labour"), rule(keywords=("讨薪",))
    assert pick([wide, by_subtype, by_keyword]) is by_keyword
    assert pick([wide, by_subtype]) is by_subtype


def test_keywords_match_title_or_description_case_insensitively() -> None:
    english = rule(keywords=("wage",))
    assert choose([english], subtype="x", title="Unpaid WAGES", description="") is english
    assert choose([english], subtype="x", title="", description="no wage paid") is english
    assert choose([english], subtype="x", title="欠薪", description="") is None


def test_nearer_owner_then_priority_then_age_break_ties() -> None:
    district, street = rule(depth=1), rule(depth=2)
    assert pick([district, street]) is street
    urgent, normal = rule(priority=1), rule(priority=100)
    assert pick([normal, urgent]) is urgent
    older, newer = rule(age=10), rule(age=1)
    assert pick([newer, older]) is older


def test_keywords_are_normalised_and_validated() -> None:
    assert normalise_keywords(None) is None
    assert normalise_keywords([" Wage ", "wage", "讨薪"]) == ["wage", "讨薪"]
    for bad in ([], ["  "], ["x" * 51], [f"k{i}" for i in range(21)]):
        with pytest.raises(Invalid) as refused:
            normalise_keywords(bad)
        assert refused.value.code == "routing_rule_invalid"


def test_rules_act_only_where_events_arrive() -> None:
    assert check_level("street").value == "street"
    for bad in ("grid", "city", "nowhere"):
        with pytest.raises(Invalid):
            check_level(bad)
