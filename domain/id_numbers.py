"""Resident identity numbers (公民身份号码, GB 11643-1999; R-POP-2).

Eighteen characters: a 6-digit administrative division code, the birth date (YYYYMMDD), a
3-digit sequence whose parity gives the gender (odd = male) and an ISO 7064 MOD 11-2 check
character (0-9 or X). Fifteen-digit numbers issued before 1999 (YYMMDD, no check digit) are
accepted and upgraded. Region codes are looked up in the division-code table shipped with
python-stdnum, which keeps codes that were in use at any time (people keep their number when
their county is renamed or merged).
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from operator import mul

from stdnum import numdb

from domain.errors import FieldError, Invalid

_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_CHECK_CHARS = "10X98765432"
# ASCII digits only: `\d` would also take Arabic-Indic or Devanagari digits, which NFKC
# keeps and `int()` reads, and such a number would be stored as typed.
_EIGHTEEN = re.compile(r"[0-9]{17}[0-9X]")
_FIFTEEN = re.compile(r"[0-9]{15}")
# Residence permits of Hong Kong, Macao and Taiwan residents (港澳台居民居住证) share the
# format but not the register: such people are recorded as overseas with their permit.
PERMIT_REGIONS = frozenset({"810000", "820000", "830000"})
# The earliest plausible birth date: anything older is a typo, not a person.
EARLIEST_BIRTH = date(1850, 1, 1)


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True)
class ResidentId:
    """A valid 18-character number and what it encodes."""

    number: str
    region: str
    birth_date: date
    gender: Gender


def normalise(raw: str) -> str:
    """Full-width digits and letters become ASCII (NFKC), spaces go, `x` becomes `X`."""
    return "".join(unicodedata.normalize("NFKC", raw).split()).upper()


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) != len(_WEIGHTS):
        raise ValueError("seventeen digits expected")
    return _CHECK_CHARS[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


def upgrade(legacy: str) -> str:
    """A 15-digit number as 18: the century `19` inserted and the check character added."""
    first17 = legacy[:6] + "19" + legacy[6:]
    return first17 + check_char(first17)


@cache
def region_exists(code: str) -> bool:
    """Whether a 6-digit division code is (or was) assigned to a county-level unit."""
    return any("county" in props for _, props in numdb.get("cn/loc").info(code))


def _birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def _invalid(code: str, **params: object) -> Invalid:
    return Invalid("id_number_invalid", errors=[FieldError("id_number", code, dict(params))])


def parse(raw: str, *, today: date) -> ResidentId:
    """The validated number with its region, birth date and gender; `Invalid` naming the
    first broken rule otherwise (format, check character, region, birth date)."""
    number = normalise(raw)
    if _FIFTEEN.fullmatch(number):
        number = upgrade(number)
    elif not _EIGHTEEN.fullmatch(number):
        raise _invalid("id_number_format")
    if number[17] != check_char(number[:17]):
        raise _invalid("id_number_checksum")
    if number[:6] in PERMIT_REGIONS:
        raise _invalid("id_number_permit", region=number[:6])
    if not region_exists(number[:6]):
        raise _invalid("id_number_region", region=number[:6])
    born = _birth_date(number)
    if born is None or not EARLIEST_BIRTH <= born <= today:
        raise _invalid("id_number_birth_date")
    gender = Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
    return ResidentId(number=number, region=number[:6], birth_date=born, gender=gender)


def verify(
    raw: str, *, today: date, birth_date: date | None = None, gender: Gender | None = None
) -> ResidentId:
    """`parse`, then the submitted birth date and gender must agree with the number."""
    resident = parse(raw, today=today)
    errors = []
    if birth_date is not None and birth_date != resident.birth_date:
        errors.append(FieldError("birth_date", "birth_date_mismatch"))
    if gender is not None and gender != resident.gender:
        errors.append(FieldError("gender", "gender_mismatch"))
    if errors:
        raise Invalid("id_number_invalid", errors=errors)
    return resident
