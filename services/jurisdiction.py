"""Jurisdiction (R-JUR-1) in one place: every scoped query filters through `in_scope`.

Row-level security enforces the same rule in the database as a fail-closed backstop; this
helper keeps queries index-friendly and makes the rule visible in the code that reads data.
"""

from typing import Any

from sqlalchemy import ColumnElement, String, bindparam, cast, literal, true
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


# The bound parameter carrying the caller's scope in statements built once and run for many.
SCOPE_PARAM = "scope"


def in_bound_scope(
    path_column: ColumnElement[Any] | InstrumentedAttribute[Any], *, whole_tree: bool
) -> ColumnElement[bool]:
    """`in_scope` for a statement built once per shape: `path <@ :scope`, the caller's scope
    bound at execution as `SCOPE_PARAM`, or TRUE in the statement for whole-tree callers."""
    if whole_tree:
        return true()
    scope = cast(bindparam(SCOPE_PARAM, type_=String), Ltree())
    return path_column.op("<@", return_type=None)(scope)


def path_in_scope(path: str | None, principal: Principal) -> bool:
    """The same rule for a path already in hand (e.g. a parent fetched by id)."""
    if principal.sees_everything:
        return True
    if not path:
        return False
    return within(path, principal.scope)
