"""Standard addresses and houses (R-MAP-3, R-HOUSE-1, R-HOUSE-2): how address text is
normalised, cut into address components and reduced to pinyin initials for typo-tolerant
search, and the house dictionaries.

Search compares component-wise: pg_trgm's word similarity only scores well against whole
words, and Chinese addresses have no spaces, so "西域大道12号" is stored for searching as
"西域大道 12号" and as the initials "xydd 12h". Chinese typing errors are mostly homophones
picked from the pinyin IME (打 for 大), which leave the initials unchanged.
"""

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from pypinyin import Style, lazy_pinyin

# A hit needs this word similarity (0…1) on the characters or on the initials.
MATCH_THRESHOLD = 0.3

# Component suffixes, longest first so that 小区 wins over 区 and 号楼 over 号.
_SUFFIXES = sorted(
    (
        "特别行政区",
        "自治区",
        "自治州",
        "自治县",
        "省",
        "市",
        "地区",
        "盟",
        "区",
        "县",
        "旗",
        "街道",
        "镇",
        "乡",
        "社区",
        "村",
        "组",
        "大道",
        "大街",
        "路",
        "街",
        "巷",
        "弄",
        "胡同",
        "小区",
        "花园",
        "公寓",
        "大厦",
        "广场",
        "苑",
        "号院",
        "号楼",
        "院",
        "号",
        "栋",
        "幢",
        "座",
        "单元",
        "层",
        "楼",
        "室",
        "户",
    ),
    key=len,
    reverse=True,
)
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SPACE_NEAR_CJK = re.compile(rf"\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+")
_SPACES = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


class HazardLevel(StrEnum):
    """Hazard level of a rental (隐患程度, R-HOUSE-2)."""

    NONE = "无"
    LOW = "低"
    MEDIUM = "中"
    HIGH = "高"


def normalise(text: str) -> str:
    """The canonical form of an address: NFKC (full-width digits, letters and brackets
    become ASCII), no spaces around Chinese characters, other whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", text)
    return _SPACES.sub(" ", _SPACE_NEAR_CJK.sub("", folded)).strip()


def components(text: str) -> list[str]:
    """The address cut after each component suffix (市, 路, 小区, 号, 栋, 室 …) and at
    spaces: "喀什市西域大道12号" → ["喀什市", "西域大道", "12号"]."""
    parts: list[str] = []
    for chunk in normalise(text).split(" "):
        start = i = 0
        while i < len(chunk):
            suffix = next((s for s in _SUFFIXES if chunk.startswith(s, i)), None)
            if suffix is None:
                i += 1
                continue
            i += len(suffix)
            parts.append(chunk[start:i])
            start = i
        if start < len(chunk):
            parts.append(chunk[start:])
    return parts


def search_text(text: str) -> str:
    """The address as words for trigram search: its components joined by spaces."""
    return " ".join(components(text))


def pinyin_initials(text: str) -> str:
    """Lower-case pinyin initials per component, digits and Latin letters kept:
    "喀什市西域大道12号" → "kss xydd 12h"."""
    words = (
        _NOT_ALNUM.sub(" ", "".join(lazy_pinyin(part, style=Style.FIRST_LETTER)).lower()).strip()
        for part in components(text)
    )
    return " ".join(word for word in words if word)


@dataclass(frozen=True)
class SearchTerms:
    """A search query in the forms it is compared in: the normalised text (substring
    match), its components (character similarity) and its initials (homophones, and
    queries typed as initials such as "xydd")."""

    plain: str
    words: str
    initials: str

    @classmethod
    def parse(cls, query: str) -> "SearchTerms | None":
        """The terms of a query; None when nothing searchable is left."""
        plain = normalise(query)
        if not plain:
            return None
        return cls(plain=plain, words=search_text(plain), initials=pinyin_initials(plain))
