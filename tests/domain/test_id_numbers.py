"""R-POP-2: resident ID numbers (GB 11643-1999) — normalised, 18 characters with an ISO 7064
MOD 11-2 check character, a division code that exists, a real birth date not in the future;
15-digit legacy numbers upgraded; birth date and gender derived and checked against what
was submitted."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from domain.errors import Invalid
from domain.id_numbers import Gender, check_char, parse, region_exists, upgrade, verify
from domain.messages import MESSAGES

TODAY = date(2026, 11, 23)
# The example of GB 11643-1999 itself, and python-stdnum's.
GB_EXAMPLE = "11010519491231002X"
STDNUM_EXAMPLE = "360426199101010071"
REGIONS = ["110105", "360426", "653101", "652801", "440305", "110103"]


def number(region: str, born: date, sequence: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def field_codes(exc: pytest.ExceptionInfo[Invalid]) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in exc.value.errors]


@pytest.mark.parametrize(
    ("raw", "expected", "born", "gender"),
    [
        (GB_EXAMPLE, GB_EXAMPLE, date(1949, 12, 31), Gender.FEMALE),
        (STDNUM_EXAMPLE, STDNUM_EXAMPLE, date(1991, 1, 1), Gender.MALE),
        ("11010519491231002x", GB_EXAMPLE, date(1949, 12, 31), Gender.FEMALE),
        ("１１０１０５１９４９１２３１００２ｘ", GB_EXAMPLE, date(1949, 12, 31), Gender.FEMALE),
        (" 110105 19491231 002X\u3000", GB_EXAMPLE, date(1949, 12, 31), Gender.FEMALE),
        # 15-digit legacy: 19 inserted, check character computed.
        ("110105491231002", GB_EXAMPLE, date(1949, 12, 31), Gender.FEMALE),
        ("360426910101007", STDNUM_EXAMPLE, date(1991, 1, 1), Gender.MALE),
        # A division code abolished since (崇文区, until 2010) still identifies its people.
        (number("110103", date(1980, 2, 29), 11), None, date(1980, 2, 29), Gender.MALE),
    ],
)
def test_r_pop_2_valid_numbers(raw: str, expected: str | None, born: date, gender: Gender) -> None:
    resident = parse(raw, today=TODAY)
    assert resident.number == (expected or raw)
    assert resident.birth_date == born
    assert resident.gender == gender
    assert resident.region == resident.number[:6]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "id_number_format"),
        ("11010519491231002", "id_number_format"),  # 17 characters
        ("11010519491231002X1", "id_number_format"),  # 19 characters
        ("1101051949123100X2", "id_number_format"),  # X not last
        ("11010519491231002A", "id_number_format"),
        ("1101051949-231002X", "id_number_format"),
        ("11010549123100", "id_number_format"),  # 14 digits
        ("110105194912310021", "id_number_checksum"),
        ("360426199101010072", "id_number_checksum"),
        (number("999999", date(1990, 1, 1), 1), "id_number_region"),
        (number("110199", date(1990, 1, 1), 1), "id_number_region"),
    ],
)
def test_r_pop_2_invalid_numbers_name_the_broken_rule(raw: str, code: str) -> None:
    with pytest.raises(Invalid) as exc:
        parse(raw, today=TODAY)
    assert exc.value.code == "id_number_invalid"
    assert field_codes(exc) == [("id_number", code)]


@pytest.mark.parametrize(
    "first17",
    [
        "65310119901301001",  # month 13
        "65310119900230001",  # 30 February
        "65310120261124001",  # tomorrow
        "65310118491231001",  # before 1850
        "65310100000101001",
    ],
)
def test_r_pop_2_birth_date_must_be_real_and_not_in_the_future(first17: str) -> None:
    with pytest.raises(Invalid) as exc:
        parse(first17 + check_char(first17), today=TODAY)
    assert field_codes(exc) == [("id_number", "id_number_birth_date")]


def test_r_pop_2_birth_date_today_is_accepted() -> None:
    assert parse(number("653101", TODAY, 2), today=TODAY).birth_date == TODAY


@pytest.mark.parametrize(
    ("legacy", "code"),
    [
        ("653101901301001", "id_number_birth_date"),  # 1990-13-01
        ("999999900101001", "id_number_region"),
    ],
)
def test_r_pop_2_legacy_numbers_are_checked_once_upgraded(legacy: str, code: str) -> None:
    with pytest.raises(Invalid) as exc:
        parse(legacy, today=TODAY)
    assert field_codes(exc) == [("id_number", code)]


def test_r_pop_2_the_region_comes_from_the_division_code_table() -> None:
    assert region_exists("653101")  # 喀什市
    assert region_exists("110103")  # 崇文区, merged in 2010
    assert not region_exists("653199")
    assert not region_exists("000000")


def test_r_pop_2_submitted_birth_date_and_gender_must_agree() -> None:
    assert verify(GB_EXAMPLE, today=TODAY, birth_date=date(1949, 12, 31), gender=Gender.FEMALE)
    with pytest.raises(Invalid) as exc:
        verify(GB_EXAMPLE, today=TODAY, birth_date=date(1949, 12, 30))
    assert exc.value.code == "id_number_invalid"
    assert field_codes(exc) == [("birth_date", "birth_date_mismatch")]
    with pytest.raises(Invalid) as exc:
        verify(GB_EXAMPLE, today=TODAY, gender=Gender.MALE)
    assert field_codes(exc) == [("gender", "gender_mismatch")]
    with pytest.raises(Invalid) as exc:
        verify(STDNUM_EXAMPLE, today=TODAY, birth_date=date(1991, 1, 2), gender=Gender.FEMALE)
    assert field_codes(exc) == [
        ("birth_date", "birth_date_mismatch"),
        ("gender", "gender_mismatch"),
    ]


@pytest.mark.parametrize(
    "code",
    [
        "id_number_invalid",
        "id_number_format",
        "id_number_checksum",
        "id_number_region",
        "id_number_birth_date",
        "birth_date_mismatch",
        "gender_mismatch",
    ],
)
def test_r_pop_2_every_error_has_a_chinese_and_an_english_message(code: str) -> None:
    zh, en = MESSAGES[code]
    assert any("\u4e00" <= char <= "\u9fff" for char in zh)
    assert en.isascii() and en


valid_numbers = st.builds(
    number,
    st.sampled_from(REGIONS),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999),
)


@given(valid_numbers)
def test_r_pop_2_generated_numbers_round_trip(value: str) -> None:
    """Any number built by the rules parses to itself, its birth date and its gender; the
    check character agrees with python-stdnum's independent implementation."""
    assert check_char(value[:17]) == ric.calc_check_digit(value)
    resident = parse(value, today=TODAY)
    assert resident.number == value
    assert resident.birth_date == date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    assert resident.gender == (Gender.MALE if int(value[16]) % 2 else Gender.FEMALE)
    assert parse(value.lower(), today=TODAY) == resident


@given(valid_numbers.filter(lambda v: v[6:8] == "19"))
def test_r_pop_2_legacy_numbers_upgrade_to_their_18_digit_form(value: str) -> None:
    legacy = value[:6] + value[8:17]
    assert upgrade(legacy) == value
    assert parse(legacy, today=TODAY) == parse(value, today=TODAY)


@given(valid_numbers, st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_r_pop_2_any_single_character_change_is_caught(
    value: str, position: int, replacement: str
) -> None:
    """MOD 11-2 detects every single substitution: a changed number never parses."""
    if replacement == value[position]:
        replacement = "0" if value[position] != "0" else "1"
    changed = value[:position] + replacement + value[position + 1 :]
    with pytest.raises(Invalid) as exc:
        parse(changed, today=TODAY)
    assert [e.field for e in exc.value.errors] == ["id_number"]
