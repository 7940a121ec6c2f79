"""Masking of sensitive personal fields (R-JUR-3): ID `653101********1234`, phone
`138****5678`, names `张*`, addresses cut after their first characters, sensitive free text
(criminal, drug, mental-health, petition details) hidden entirely; and full ID and mobile
numbers found inside free text masked alike, for what leaves the field it was typed in (log
lines, error bodies, audit diffs)."""

import re
from enum import StrEnum

from domain.id_numbers import check_char


class Mask(StrEnum):
    ID_NUMBER = "id_number"
    PHONE = "phone"
    NAME = "name"
    ADDRESS = "address"
    SECRET = "secret"
    # Free text or a structured value (an audit diff) that may quote numbers: only the full
    # ID and mobile numbers inside it are masked.
    EMBEDDED = "embedded"


HIDDEN = "***"


def _keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + (value[-tail:] if tail else "")


def mask_value(kind: Mask, value: object) -> object:
    """The masked form of one value; None and empty values stay as they are."""
    if value is None or value == "":
        return value
    if kind == Mask.EMBEDDED:
        return scrub(value)
    if kind == Mask.SECRET or not isinstance(value, str):
        return HIDDEN
    if kind == Mask.ID_NUMBER:
        # 18-digit resident IDs keep region and last four; other documents keep less.
        return _keep(value, 6, 4) if len(value) >= 15 else _keep(value, 2, 2)
    if kind == Mask.PHONE:
        return _keep(value, 3, 4) if len(value) >= 11 else _keep(value, 2, 2)
    if kind == Mask.NAME:
        return value[0] + "*" * (len(value) - 1) if len(value) > 1 else "*"
    return _keep(value, 6, 0)


# Full numbers inside free text (log lines, error messages, audit diffs): a resident ID
# whose check character is right and a mainland mobile number. Record ids are UUIDs whose
# hex groups can hold a run of digits that looks like a phone: they are matched first and
# left whole.
_IN_TEXT = re.compile(
    r"(?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"|(?<![0-9])(?P<id_number>[1-9][0-9]{16}[0-9Xx])(?![0-9])"
    r"|(?<![0-9])(?P<phone>1[3-9][0-9]{9})(?![0-9])"
)


def _masked_match(match: re.Match[str]) -> str:
    found = match.group()
    if match.lastgroup == "id_number":
        if found[17].upper() != check_char(found[:17]):
            return found
        return str(mask_value(Mask.ID_NUMBER, found))
    if match.lastgroup == "phone":
        return str(mask_value(Mask.PHONE, found))
    return found


def scrub_text(text: str) -> str:
    """`text` with every valid full ID number and mobile number in it masked."""
    return _IN_TEXT.sub(_masked_match, text)


def scrub(value: object) -> object:
    """A JSON-like value (strings, lists, dicts, scalars) with `scrub_text` applied to every
    string in it; keys are left alone."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {key: scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value
