"""Auto-routing (自动分流, R-WF-3): which rule sends an arriving event straight to a unit or
department. Pure: the service fetches the candidate rules (right category and level, owned
by the arrival unit or one above it) and asks `choose` for the one that applies.

The most specific rule wins: one with keywords before one without, one naming the sub-type
before one for the whole category, then the rule of the nearest owner (a street's own rule
before its district's), then the lower priority number, then the older rule.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.errors import FieldError, Invalid
from domain.org import Level

# Where events arrive and are dispatched: the community (reports), the street and the
# district command centres (escalations).
ROUTING_LEVELS = (Level.COMMUNITY, Level.STREET, Level.DISTRICT)
MAX_KEYWORDS = 20
MAX_KEYWORD_LENGTH = 50


@dataclass(frozen=True)
class Candidate:
    id: uuid.UUID
    owner_depth: int
    subtype: str | None
    keywords: tuple[str, ...] | None
    priority: int
    created_at: datetime


def normalise_keywords(keywords: Iterable[str] | None) -> list[str] | None:
    """Keywords stripped, lower-cased and de-duplicated in order; none given is None. 422 for
    blank, too long or too many keywords."""
    if keywords is None:
        return None
    cleaned = list(dict.fromkeys(word.strip().lower() for word in keywords))
    errors = []
    if not cleaned or any(not word for word in cleaned):
        errors.append(FieldError("keywords", "routing_keyword_blank"))
    if len(cleaned) > MAX_KEYWORDS:
        errors.append(FieldError("keywords", "routing_keywords_too_many", {"max": MAX_KEYWORDS}))
    if any(len(word) > MAX_KEYWORD_LENGTH for word in cleaned):
        errors.append(
            FieldError("keywords", "routing_keyword_too_long", {"max": MAX_KEYWORD_LENGTH})
        )
    if errors:
        raise Invalid("routing_rule_invalid", errors=errors)
    return cleaned


def check_level(level: str) -> Level:
    """A rule acts where events arrive: a community, a street or a district (422 else)."""
    if level not in {lv.value for lv in ROUTING_LEVELS}:
        raise Invalid("routing_rule_invalid", errors=[FieldError("level", "routing_level_invalid")])
    return Level(level)


def _applies(rule: Candidate, subtype: str, text: str) -> bool:
    if rule.subtype is not None and rule.subtype != subtype:
        return False
    return rule.keywords is None or any(word in text for word in rule.keywords)


def _specificity(rule: Candidate) -> tuple[int, int, int, int, datetime, uuid.UUID]:
    return (
        0 if rule.keywords else 1,
        0 if rule.subtype else 1,
        -rule.owner_depth,
        rule.priority,
        rule.created_at,
        rule.id,
    )


def choose(
    rules: Sequence[Candidate], *, subtype: str, title: str, description: str
) -> Candidate | None:
    """The rule that routes an event with this sub-type and text, or None (the event then
    waits in the arrival unit's manual dispatch queue). Keywords match anywhere in the title
    or description, case-insensitively."""
    text = f"{title}\n{description}".lower()
    matching = [rule for rule in rules if _applies(rule, subtype, text)]
    return min(matching, key=_specificity, default=None)
