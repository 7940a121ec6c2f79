"""Full ID and mobile numbers found inside free text (R-JUR-3): masked as their fields are,
only when they are numbers of that kind."""

import pytest

from domain.id_numbers import check_char
from domain.masking import Mask, mask_value, scrub, scrub_text

FIRST17 = "65310119900517001"
ID_NUMBER = FIRST17 + check_char(FIRST17)
WRONG_CHECK = FIRST17 + ("0" if check_char(FIRST17) != "0" else "1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"证件号码{ID_NUMBER}有误", f"证件号码{FIRST17[:6]}********{ID_NUMBER[-4:]}有误"),
        ("电话13812345678。", "电话138****5678。"),
        ("q=13812345678&limit=5", "q=138****5678&limit=5"),
        # A wrong check character is no ID number; twelve digits are no phone.
        (f"编号{WRONG_CHECK}", f"编号{WRONG_CHECK}"),
        ("138123456789", "138123456789"),
        ("12812345678", "12812345678"),
        # A record id holding a run of eleven digits stays whole.
        ("id 0a1b2c3d-0000-4000-8000-a13812345678", "id 0a1b2c3d-0000-4000-8000-a13812345678"),
    ],
)
def test_scrub_text_masks_full_numbers_only(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


def test_a_lower_case_check_character_is_still_an_id_number() -> None:
    number = "11010519491231002x"
    assert number[:17] + check_char(number[:17]).lower() == number
    assert scrub_text(number) == "110105********002x"


def test_scrub_reaches_every_string_of_a_structured_value_and_no_key() -> None:
    value = {ID_NUMBER: [ID_NUMBER, {"phone": "13812345678"}], "n": 13812345678, "x": None}
    assert scrub(value) == {
        ID_NUMBER: [mask_value(Mask.ID_NUMBER, ID_NUMBER), {"phone": "138****5678"}],
        "n": 13812345678,
        "x": None,
    }
    assert mask_value(Mask.EMBEDDED, {"a": "13812345678"}) == {"a": "138****5678"}
