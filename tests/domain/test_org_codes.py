"""R-ORG-1: the territorial tree's code shapes and placement rules, table-driven and pure."""

import pytest

from domain.errors import Invalid
from domain.org import Level, check_code, check_placement, child_level

CITY = "653100000000"
DISTRICT = "653101000000"
STREET = "653101001000"
COMMUNITY = "653101001001"
GRID = "653101001001007"


# (level, code, parent code) that R-ORG-1 accepts.
GOOD_CODES = [
    (Level.CITY, CITY, None),
    (Level.DISTRICT, DISTRICT, None),
    (Level.DISTRICT, DISTRICT, CITY),
    (Level.DISTRICT, "653199000000", CITY),
    (Level.STREET, STREET, DISTRICT),
    (Level.STREET, "653101999000", DISTRICT),
    (Level.COMMUNITY, COMMUNITY, STREET),
    (Level.COMMUNITY, "653101001999", STREET),
    (Level.GRID, GRID, COMMUNITY),
    (Level.GRID, "653101001001001", COMMUNITY),
    (Level.GRID, "653101001001999", COMMUNITY),
]


@pytest.mark.parametrize(("level", "code", "parent_code"), GOOD_CODES)
def test_r_org_1_good_codes_are_accepted(level: Level, code: str, parent_code: str | None) -> None:
    check_code(code, level, parent_code)


# Codes whose shape is wrong for their level, whatever the parent.
WRONG_SHAPE = [
    # city: 12 digits ending in eight zeros
    (Level.CITY, "653101000000", "district code as a city"),
    (Level.CITY, "65310000000", "11 digits"),
    (Level.CITY, "6531000000000", "13 digits"),
    (Level.CITY, "65310000000a", "a letter"),
    # district: PPCCDD000000 with DD != 00
    (Level.DISTRICT, CITY, "city code as a district (DD = 00)"),
    (Level.DISTRICT, STREET, "street code as a district"),
    (Level.DISTRICT, "65310100000", "11 digits"),
    (Level.DISTRICT, "653101000000000", "15 digits"),
    (Level.DISTRICT, " 653101000000", "leading space"),
    (Level.DISTRICT, "653101000000\n", "trailing newline"),
    (Level.DISTRICT, "６５３１０１000000", "full-width digits"),
    (Level.DISTRICT, "٦٥٣١٠١000000", "Arabic-Indic digits"),
    (Level.GRID, "653101001001٠٠٧", "Arabic-Indic serial"),
    # street: PPCCDDSSS000 with SSS != 000
    (Level.STREET, DISTRICT, "district code as a street (SSS = 000)"),
    (Level.STREET, COMMUNITY, "community code as a street"),
    (Level.STREET, "65310100100", "11 digits"),
    (Level.STREET, "65310100100x", "a letter"),
    # community: PPCCDDSSSNNN with NNN != 000
    (Level.COMMUNITY, STREET, "street code as a community (NNN = 000)"),
    (Level.COMMUNITY, GRID, "grid code as a community"),
    (Level.COMMUNITY, "6531010010011", "13 digits"),
    # grid: community code + 3 digits, serial != 000
    (Level.GRID, COMMUNITY, "12 digits"),
    (Level.GRID, "653101001001000", "serial 000"),
    (Level.GRID, "65310100100100", "14 digits"),
    (Level.GRID, "6531010010010071", "16 digits"),
    (Level.GRID, "65310100100100a", "a letter"),
    (Level.GRID, "", "empty"),
]


@pytest.mark.parametrize(("level", "code", "why"), WRONG_SHAPE)
def test_r_org_1_wrong_shape_is_code_malformed(level: Level, code: str, why: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_code(code, level, None)
    assert caught.value.code == "code_malformed", why
    assert [e.field for e in caught.value.errors] == ["code"]


# Well-shaped codes that do not extend their parent's code.
NOT_EXTENDING = [
    (Level.DISTRICT, "653201000000", CITY, "another city's district"),
    (Level.STREET, "653102001000", DISTRICT, "another district's street"),
    (Level.STREET, "654101001000", DISTRICT, "another province's street"),
    (Level.COMMUNITY, "653101002001", STREET, "another street's community"),
    (Level.COMMUNITY, "653102001001", STREET, "another district's community"),
    (Level.GRID, "653101001002007", COMMUNITY, "another community's grid"),
    (Level.GRID, "653101002001007", COMMUNITY, "another street's grid"),
]


@pytest.mark.parametrize(("level", "code", "parent_code", "why"), NOT_EXTENDING)
def test_r_org_1_code_must_extend_parent_code(
    level: Level, code: str, parent_code: str, why: str
) -> None:
    check_code(code, level, None)  # the shape alone is fine
    with pytest.raises(Invalid) as caught:
        check_code(code, level, parent_code)
    assert caught.value.code == "code_malformed", why


GOOD_PLACEMENTS = [
    (Level.CITY, None),
    (Level.DISTRICT, None),
    (Level.DISTRICT, Level.CITY),
    (Level.STREET, Level.DISTRICT),
    (Level.COMMUNITY, Level.STREET),
    (Level.GRID, Level.COMMUNITY),
]


@pytest.mark.parametrize(("level", "parent_level"), GOOD_PLACEMENTS)
def test_r_org_1_child_one_level_below_parent_is_placed(
    level: Level, parent_level: Level | None
) -> None:
    check_placement(level, parent_level)


BAD_PLACEMENTS = [
    (Level.COMMUNITY, Level.DISTRICT),
    (Level.GRID, Level.STREET),
    (Level.GRID, Level.DISTRICT),
    (Level.STREET, Level.CITY),
    (Level.STREET, Level.STREET),
    (Level.COMMUNITY, Level.COMMUNITY),
    (Level.DISTRICT, Level.DISTRICT),
    (Level.DISTRICT, Level.STREET),
    (Level.CITY, Level.CITY),
    (Level.CITY, Level.DISTRICT),
    (Level.STREET, Level.GRID),
    (Level.GRID, Level.GRID),
]


@pytest.mark.parametrize(("level", "parent_level"), BAD_PLACEMENTS)
def test_r_org_1_level_not_one_below_parent_is_level_mismatch(
    level: Level, parent_level: Level
) -> None:
    with pytest.raises(Invalid) as caught:
        check_placement(level, parent_level)
    assert caught.value.code == "level_mismatch"
    assert caught.value.params["parent_level"] == parent_level.value
    assert [e.field for e in caught.value.errors] == ["level"]


@pytest.mark.parametrize("level", [Level.STREET, Level.COMMUNITY, Level.GRID])
def test_r_org_1_only_city_or_district_stand_at_the_top(level: Level) -> None:
    with pytest.raises(Invalid) as caught:
        check_placement(level, None)
    assert caught.value.code == "top_level_invalid"
    assert [e.field for e in caught.value.errors] == ["parent_id"]


def test_r_org_1_levels_chain_city_to_grid() -> None:
    assert [child_level(level) for level in Level] == [
        Level.DISTRICT,
        Level.STREET,
        Level.COMMUNITY,
        Level.GRID,
        None,
    ]
