"""Partial updates: an absent field stays as it is; a field that always has a value cannot
be cleared by sending null (refused as invalid input instead of reaching the database)."""

from typing import Any


def refuse_null(cls: type, value: Any) -> Any:
    """A pydantic field validator: `field_validator(*names)(refuse_null)`."""
    if value is None:
        raise ValueError("不能为空")
    return value
