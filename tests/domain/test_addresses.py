"""R-MAP-3: address text is normalised to one spelling, cut into components and reduced to
pinyin initials, the forms the typo-tolerant search compares."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.addresses import (
    HazardLevel,
    SearchTerms,
    components,
    normalise,
    pinyin_initials,
    search_text,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("喀什市西域大道12号", "喀什市西域大道12号"),
        (" 喀什市 西域大道１２号 ", "喀什市西域大道12号"),  # full-width digits, stray spaces
        ("西域大道\u300012号", "西域大道12号"),  # ideographic space
        ("人民路（东段）８号", "人民路(东段)8号"),  # full-width brackets
        ("ABC  Tower   5", "ABC Tower 5"),  # Latin words keep one space
        ("ＡＢＣ大厦", "ABC大厦"),
    ],
)
def test_r_map_3_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("喀什市西域大道12号", ["喀什市", "西域大道", "12号"]),
        ("阳光小区3栋2单元501室", ["阳光小区", "3栋", "2单元", "501室"]),  # 小区 before 区
        ("解放北路9号楼", ["解放北路", "9号楼"]),  # 号楼 before 号
        ("新疆维吾尔自治区喀什地区", ["新疆维吾尔自治区", "喀什地区"]),
        ("3-2-501", ["3-2-501"]),
        ("", []),
    ],
)
def test_r_map_3_components(text: str, parts: list[str]) -> None:
    assert components(text) == parts
    assert search_text(text) == " ".join(parts)


@pytest.mark.parametrize(
    ("text", "initials"),
    [
        ("喀什市西域大道12号", "kss xydd 12h"),
        ("西域打道", "xydd"),  # a homophone slip keeps the initials
        ("重庆路", "cql"),  # polyphone read in its phrase (chóng, not zhòng)
        ("ABC大厦 Room 5", "abcds room 5"),
        ("3-2-501", "3 2 501"),
        ("xyjd", "xyjd"),  # typed initials stay as they are
    ],
)
def test_r_map_3_pinyin_initials(text: str, initials: str) -> None:
    assert pinyin_initials(text) == initials


def test_r_map_3_search_terms() -> None:
    terms = SearchTerms.parse(" 西域打道 １２号")
    assert terms == SearchTerms(plain="西域打道12号", words="西域打道12号", initials="xydd12h")
    assert SearchTerms.parse(" \u3000 ") is None


def test_r_house_2_hazard_levels() -> None:
    assert [level.value for level in HazardLevel] == ["无", "低", "中", "高"]


ADDRESS_TEXT = st.text(
    alphabet=st.sampled_from(list("喀什市西域大道人民路小区栋单元室号 　１２3-ABcd（）")),
    max_size=40,
)


@given(ADDRESS_TEXT)
def test_r_map_3_normalising_is_idempotent_and_forms_agree(text: str) -> None:
    """One address, one spelling: normalising twice changes nothing, and the search forms of
    a text and of its normal form are the same (stored and queried forms match)."""
    once = normalise(text)
    assert normalise(once) == once
    assert search_text(text) == search_text(once)
    assert pinyin_initials(text) == pinyin_initials(once)
    assert "".join(search_text(once).split(" ")) == once.replace(" ", "")
