"""Pure tag rules: kinds and their details (R-KEY-1, R-CARE-1), who may carry a tag, and the
life-cycle limits (R-KEY-2) — anniversaries with 29 February, and the cut-off dates the
set-based SQL uses agreeing with the rules they stand for."""

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import Invalid
from domain.id_numbers import Gender
from domain.masking import Mask
from domain.tags import (
    DETAIL_MASKS,
    DISABILITY_TYPES,
    ENTITLED_TYPES,
    EXPIRY_BY_KIND,
    EXPIRY_RULES,
    KINDS,
    YOUTH_TYPES,
    Holder,
    TagKind,
    age_on,
    anniversary,
    check_eligible,
    check_holder,
    detail_titles,
    elderly_birth_cutoff,
    identify,
    latest_start,
    parse_details,
)
from tests.routes.tags import resident_id

VALID_DETAILS: dict[TagKind, dict[str, Any]] = {
    TagKind.RELEASED_PRISONER: {
        "release_date": "2024-03-01",
        "original_crime": "盗窃罪",
        "sentence": "有期徒刑三年",
        "helpers": ["司法所李所长", "社区王书记"],
    },
    TagKind.RELEASED_REEDUCATION: {"release_date": "2025-01-01", "helpers": []},
    TagKind.COMMUNITY_CORRECTION: {
        "correction_type": "缓刑",
        "start_date": "2025-01-01",
        "end_date": "2027-01-01",
        "original_sentence": "有期徒刑二年缓刑三年",
        "helpers": ["李帮教"],
    },
    TagKind.DRUG_USER: {
        "cause": "交友不慎",
        "source": "外地购入",
        "rehab_status": "社区康复",
        "methadone": True,
    },
    TagKind.MENTAL_PATIENT: {
        "guardian_name": "张大山",
        "guardian_phone": "13912345678",
        "risk_level": 3,
        "treated": True,
    },
    TagKind.KEY_YOUTH: {
        "youth_type": "闲散青少年",
        "guardian_name": "王母",
        "guardian_phone": "0998-2812345",
    },
    TagKind.KEY_PETITIONER: {
        "reason": "征地补偿",
        "channel": "走访",
        "frequency": "每月一次",
        "highest_level": "省级",
    },
    TagKind.DANGEROUS_GOODS_WORKER: {
        "category": "易燃液体",
        "certificate_no": "WH-2024-001",
        "employer": "某化工厂",
    },
    TagKind.NEEDS_HELP: {"difficulty_type": "因病致贫", "low_income": True},
    TagKind.VAGRANT: {},
    TagKind.KEY_OTHER: {"reason": "其他需关注情形"},
    TagKind.CHILDBEARING_WOMAN: {},
    TagKind.ELDERLY: {},
    TagKind.DISABLED: {"disability_type": "肢体残疾", "grade": 2},
    TagKind.ENTITLED_GROUP: {"entitled_type": "退役军人"},
    TagKind.NEEDY: {"difficulty_type": "因病致困", "low_income": True},
    TagKind.UNEMPLOYED: {},
}


def test_every_kind_has_a_label_and_a_details_model() -> None:
    """R-KEY-1 and R-CARE-1 list 17 kinds; each is described and validated."""
    assert set(KINDS) == set(TagKind) == set(VALID_DETAILS)
    assert KINDS[TagKind.KEY_YOUTH].label == "重点青少年"


@pytest.mark.parametrize("kind", list(TagKind), ids=str)
def test_r_key_1_valid_details_round_trip(kind: TagKind) -> None:
    parsed = parse_details(kind, VALID_DETAILS[kind])
    for key, value in VALID_DETAILS[kind].items():
        assert parsed[key] == value


def _with(kind: TagKind, **changes: Any) -> dict[str, Any]:
    return {**VALID_DETAILS[kind], **changes}


CORRECTION, MENTAL = TagKind.COMMUNITY_CORRECTION, TagKind.MENTAL_PATIENT


@pytest.mark.parametrize(
    ("kind", "details", "field", "code"),
    [
        (
            TagKind.RELEASED_PRISONER,
            {"release_date": "2024-03-01"},
            "details.original_crime",
            "field_required",
        ),
        (
            TagKind.RELEASED_PRISONER,
            _with(TagKind.RELEASED_PRISONER, release_date="2024-02-30"),
            "details.release_date",
            "field_invalid",
        ),
        (TagKind.ELDERLY, {"pension": 1}, "details.pension", "field_forbidden"),
        (
            CORRECTION,
            _with(CORRECTION, correction_type="拘役"),
            "details.correction_type",
            "field_invalid",
        ),
        (
            CORRECTION,
            _with(CORRECTION, end_date="2025-01-01"),
            "details.end_date",
            "tag_end_before_start",
        ),
        (MENTAL, _with(MENTAL, risk_level=6), "details.risk_level", "field_invalid"),
        (MENTAL, _with(MENTAL, guardian_phone="12345"), "details.guardian_phone", "field_invalid"),
        (TagKind.DISABLED, _with(TagKind.DISABLED, grade=5), "details.grade", "field_invalid"),
        (TagKind.DISABLED, _with(TagKind.DISABLED, grade=0), "details.grade", "field_invalid"),
        (
            TagKind.DISABLED,
            _with(TagKind.DISABLED, disability_type="残疾"),
            "details.disability_type",
            "field_invalid",
        ),
        (
            TagKind.ENTITLED_GROUP,
            {"entitled_type": "公务员"},
            "details.entitled_type",
            "field_invalid",
        ),
        (
            TagKind.KEY_YOUTH,
            _with(TagKind.KEY_YOUTH, youth_type="好学生"),
            "details.youth_type",
            "field_invalid",
        ),
        (TagKind.NEEDS_HELP, {"low_income": True}, "details.difficulty_type", "field_required"),
        (TagKind.KEY_OTHER, {"reason": ""}, "details.reason", "field_invalid"),
        (
            TagKind.NEEDY,
            _with(TagKind.NEEDY, low_income="maybe"),
            "details.low_income",
            "field_invalid",
        ),
    ],
)
def test_r_key_1_invalid_details_name_the_field(
    kind: TagKind, details: dict[str, Any], field: str, code: str
) -> None:
    with pytest.raises(Invalid) as caught:
        parse_details(kind, details)
    assert caught.value.code == "tag_details_invalid"
    assert (field, code) in [(e.field, e.code) for e in caught.value.errors]


@pytest.mark.parametrize("grade", [1, 2, 3, 4])
def test_r_care_1_disability_grades_one_to_four(grade: int) -> None:
    assert parse_details(TagKind.DISABLED, _with(TagKind.DISABLED, grade=grade))["grade"] == grade


@pytest.mark.parametrize(
    ("kind", "field", "terms"),
    [
        (TagKind.DISABLED, "disability_type", DISABILITY_TYPES),
        (TagKind.ENTITLED_GROUP, "entitled_type", ENTITLED_TYPES),
        (TagKind.KEY_YOUTH, "youth_type", YOUTH_TYPES),
    ],
)
def test_r_key_1_r_care_1_typed_fields_take_every_term_of_their_dictionary(
    kind: TagKind, field: str, terms: tuple[str, ...]
) -> None:
    """Disability by GB/T 26341 category, entitled groups by the military-benefits
    regulation, key youth by the seeds' types; each term is accepted, and the catalogue
    publishes them (the web console's choices)."""
    for term in terms:
        assert parse_details(kind, _with(kind, **{field: term}))[field] == term
    schema = KINDS[kind].details.model_json_schema()["properties"][field]
    assert tuple(schema["enum"]) == terms


def test_r_key_1_people_needing_help_keep_difficulty_and_low_income() -> None:
    """Seed 000 §7.1.1.5 (7): 需要救助人员 — 是否低保户以及困难原因."""
    assert KINDS[TagKind.NEEDS_HELP].details.model_fields.keys() == {
        "difficulty_type",
        "low_income",
    }
    parsed = parse_details(TagKind.NEEDS_HELP, {"difficulty_type": "因残致困"})
    assert parsed == {"difficulty_type": "因残致困", "low_income": False}


def test_r_jur_3_sensitive_details_are_marked_for_masking() -> None:
    """Criminal, drug, mental-health and petition details are secret; guardian phones are
    phones; ordinary care details are not masked."""
    for name in ("original_crime", "sentence", "original_sentence", "cause", "source"):
        assert DETAIL_MASKS[name] == Mask.SECRET
    for name in ("rehab_status", "methadone", "risk_level", "treated", "reason", "channel"):
        assert DETAIL_MASKS[name] == Mask.SECRET
    assert DETAIL_MASKS["frequency"] == DETAIL_MASKS["highest_level"] == Mask.SECRET
    assert DETAIL_MASKS["guardian_phone"] == Mask.PHONE
    for name in ("disability_type", "grade", "entitled_type", "release_date", "end_date"):
        assert name not in DETAIL_MASKS
    assert detail_titles()["release_date"] == "释放日期"


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        (date(2021, 3, 10), 5, date(2026, 3, 10)),
        (date(2020, 2, 29), 5, date(2025, 2, 28)),  # no 29 Feb: the month's last day
        (date(2020, 2, 29), 4, date(2024, 2, 29)),
        (date(2000, 2, 29), 26, date(2026, 2, 28)),
        (date(1966, 11, 23), 60, date(2026, 11, 23)),
        (date(2024, 2, 29), -1, date(2023, 2, 28)),
    ],
)
def test_r_key_2_anniversaries(start: date, years: int, expected: date) -> None:
    assert anniversary(start, years) == expected


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2000, 2, 29), date(2026, 2, 27), 25),
        (date(2000, 2, 29), date(2026, 2, 28), 26),
        (date(2000, 2, 29), date(2028, 2, 28), 27),
        (date(2000, 2, 29), date(2028, 2, 29), 28),
        (date(2000, 3, 1), date(2026, 2, 28), 25),
        (date(1966, 11, 23), date(2026, 11, 22), 59),
        (date(1966, 11, 23), date(2026, 11, 23), 60),
    ],
)
def test_ages_in_completed_years(born: date, on: date, age: int) -> None:
    assert age_on(born, on) == age


days = st.dates(min_value=date(1900, 1, 1), max_value=date(2090, 12, 31))


@given(start=days, as_of=days, years=st.integers(min_value=0, max_value=100))
def test_r_key_2_cutoff_is_the_rule_as_one_comparison(start: date, as_of: date, years: int) -> None:
    """`start <= latest_start(as_of, n)` exactly when the n-th anniversary is on or before
    `as_of`: what the SQL compares is what the rule says."""
    assert (start <= latest_start(as_of, years)) == (anniversary(start, years) <= as_of)


@given(anchor=days, as_of=days)
def test_r_key_2_every_rule_cutoff_agrees_with_the_rule(anchor: date, as_of: date) -> None:
    for rule in EXPIRY_RULES:
        assert (anchor <= rule.cutoff(as_of)) == rule.is_due(anchor, as_of)


@pytest.mark.parametrize(
    ("kind", "anchor", "last_followed_day"),
    [
        (TagKind.RELEASED_PRISONER, date(2021, 3, 10), date(2026, 3, 9)),
        (TagKind.RELEASED_PRISONER, date(2020, 2, 29), date(2025, 2, 27)),
        (TagKind.RELEASED_REEDUCATION, date(2023, 6, 1), date(2026, 5, 31)),
        (TagKind.COMMUNITY_CORRECTION, date(2026, 5, 31), date(2026, 5, 31)),
        (TagKind.KEY_YOUTH, date(2000, 6, 15), date(2026, 6, 14)),
        (TagKind.KEY_YOUTH, date(2000, 2, 29), date(2026, 2, 27)),
    ],
)
def test_r_key_2_the_day_before_and_the_day_of_each_limit(
    kind: TagKind, anchor: date, last_followed_day: date
) -> None:
    """Released prisoners 5 years after release, re-education 3 years, community correction
    once the end date has passed, key youth on the 26th birthday."""
    rule = EXPIRY_BY_KIND[kind]
    assert not rule.is_due(anchor, last_followed_day)
    assert rule.is_due(anchor, last_followed_day + timedelta(days=1))


def test_r_key_2_elderly_from_the_60th_birthday() -> None:
    assert elderly_birth_cutoff(date(2026, 11, 23)) == date(1966, 11, 23)
    assert elderly_birth_cutoff(date(2026, 2, 28)) == date(1966, 2, 28)
    # Someone born on 29 Feb 1968 turns 60 on 29 Feb 2028 (a leap year).
    assert elderly_birth_cutoff(date(2028, 2, 28)) == date(1968, 2, 28)
    assert elderly_birth_cutoff(date(2028, 2, 29)) == date(1968, 2, 29)


ON = date(2026, 11, 23)
WOMAN = TagKind.CHILDBEARING_WOMAN


def _holder(born: date, gender: Gender = Gender.MALE) -> Holder:
    return Holder(born, gender)


@pytest.mark.parametrize(
    ("kind", "holder", "code"),
    [
        (TagKind.KEY_YOUTH, _holder(date(2020, 11, 24)), "tag_age_out_of_range"),  # 5
        (TagKind.KEY_YOUTH, _holder(date(2020, 11, 23)), None),  # 6 today
        (TagKind.KEY_YOUTH, _holder(date(2000, 11, 24)), None),  # 25, last day
        (TagKind.KEY_YOUTH, _holder(date(2000, 11, 23)), "tag_age_out_of_range"),  # 26
        (TagKind.KEY_YOUTH, Holder(None, None), "tag_age_out_of_range"),  # age unknown
        (WOMAN, _holder(date(1990, 1, 1), Gender.MALE), "tag_gender_mismatch"),
        (WOMAN, _holder(date(2011, 11, 23), Gender.FEMALE), None),  # 15 today
        (WOMAN, _holder(date(2011, 11, 24), Gender.FEMALE), "tag_age_out_of_range"),  # 14
        (WOMAN, _holder(date(1976, 11, 24), Gender.FEMALE), None),  # 49, last day
        (WOMAN, _holder(date(1976, 11, 23), Gender.FEMALE), "tag_age_out_of_range"),  # 50
        (TagKind.ELDERLY, _holder(date(1966, 11, 24)), "tag_age_out_of_range"),  # 59
        (TagKind.ELDERLY, _holder(date(1966, 11, 23)), None),  # 60 today
        (TagKind.DRUG_USER, Holder(None, None), None),  # no age rule
    ],
)
def test_r_key_1_r_care_1_who_may_carry_a_tag(
    kind: TagKind, holder: Holder, code: str | None
) -> None:
    if code is None:
        check_holder(kind, holder, ON)
        return
    with pytest.raises(Invalid) as caught:
        check_holder(kind, holder, ON)
    assert caught.value.code == code
    assert [e.field for e in caught.value.errors] == ["id_number"]


def test_r_key_2_a_tag_past_its_period_cannot_be_followed() -> None:
    """A released prisoner 5 years after release would be unfollowed the next night."""
    details = parse_details(TagKind.RELEASED_PRISONER, VALID_DETAILS[TagKind.RELEASED_PRISONER])
    holder = _holder(date(1980, 1, 1))
    check_eligible(TagKind.RELEASED_PRISONER, holder, details, date(2029, 2, 28))
    with pytest.raises(Invalid) as caught:
        check_eligible(TagKind.RELEASED_PRISONER, holder, details, date(2029, 3, 1))
    assert caught.value.code == "tag_period_ended"
    assert [e.field for e in caught.value.errors] == ["details.release_date"]


def test_identify_reads_resident_ids_and_passes_other_documents() -> None:
    """R-POP-2: birth date and gender come from a resident ID; 15-digit numbers upgrade."""
    number = resident_id(date(1990, 5, 6), female=True)
    assert identify(number.lower(), ON) == (number, Holder(date(1990, 5, 6), Gender.FEMALE))
    legacy = "653101" + "900506" + "123"
    upgraded, holder = identify(legacy, ON)
    assert upgraded.startswith("65310119900506123") and len(upgraded) == 18
    assert holder == Holder(date(1990, 5, 6), Gender.MALE)
    assert identify("E12345678", ON) == ("E12345678", None)
    broken = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(Invalid) as caught:
        identify(broken, ON)
    assert caught.value.code == "id_number_invalid"
