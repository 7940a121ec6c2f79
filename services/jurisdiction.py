"""Jurisdiction (R-JUR-1) in one place: every scoped query filters through `in_scope`.

Row-level security enforces the same rule in the database as a fail-closed backstop; this
helper keeps queries index-friendly and makes the rule visible in the code that reads data.
"""

from typing import Any

from sqlalchemy import ColumnElement, cast, literal, true
from sqlalchemy.orm import InstrumentedAttribute

from domain.principal import Principal, within
from services.models.base import Ltree


def in_scope(
    path_column: ColumnElement[Any] | InstrumentedAttribute[Any], principal: Principal
) -> ColumnElement[bool]:
    """`path <@ scope` for the principal, or TRUE for whole-tree principals."""
    if principal.sees_everything:
        return true()
    return path_column.op("<@", return_type=None)(cast(literal(principal.scope), Ltree()))


def path_in_scope(path: str | None, principal: Principal) -> bool:
    """The same rule for a path already in hand (e.g. a parent fetched by id)."""
    if principal.sees_everything:
        return True
    if not path:
        return False
    return within(path, principal.scope)
