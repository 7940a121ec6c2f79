"""Masking of sensitive personal fields (R-JUR-3): ID `653101********1234`, phone
`138****5678`, names `张*`, addresses cut after their first characters, sensitive free text
(criminal, drug, mental-health, petition details) hidden entirely."""

from enum import StrEnum


class Mask(StrEnum):
    ID_NUMBER = "id_number"
    PHONE = "phone"
    NAME = "name"
    ADDRESS = "address"
    SECRET = "secret"


HIDDEN = "***"


def _keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + (value[-tail:] if tail else "")


def mask_value(kind: Mask, value: object) -> object:
    """The masked form of one value; None and empty values stay as they are."""
    if value is None or value == "":
        return value
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
