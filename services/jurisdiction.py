"""Jurisdiction (R-JUR-1) in one place: every scoped query filters through `in_scope`.

Row-level security enforces the same rule in the database as a fail-closed backstop; this
helper keeps queries index-friendly and makes the rule visible in the code that reads data.
"""

from typing import Any

from sqlalchemy import BindParameter, ColumnElement, String, bindparam, cast, literal, true
from sqlalchemy.orm import InstrumentedAttribute

from domain.principal import Principal, within
from services.models.base import Ltree

PathColumn = ColumnElement[Any] | InstrumentedAttribute[Any]
# The bind parameter holding the caller's scope in statements compiled once
# (`services.prepared`): its value is `scope_params(principal)`.
SCOPE_PARAM = "scope"


def within_path(path_column: PathColumn, path: BindParameter[str]) -> ColumnElement[bool]:
    """`path_column <@ path`: the row lies in the subtree at `path`."""
    return path_column.op("<@", return_type=None)(cast(path, Ltree()))


def in_scope(path_column: PathColumn, principal: Principal) -> ColumnElement[bool]:
    """`path <@ scope` for the principal, or TRUE for whole-tree principals."""
    if principal.sees_everything:
        return true()
    return within_path(path_column, literal(principal.scope))


def in_scope_param(path_column: PathColumn, *, everything: bool) -> ColumnElement[bool]:
    """`in_scope` for a statement compiled once for every caller who sees `everything` or
    for every caller who does not, the scope bound as `SCOPE_PARAM`."""
    if everything:
        return true()
    return within_path(path_column, bindparam(SCOPE_PARAM, type_=String()))


def scope_params(principal: Principal) -> dict[str, Any]:
    """The parameters `in_scope_param` binds for the principal."""
    return {SCOPE_PARAM: principal.scope}


def path_in_scope(path: str | None, principal: Principal) -> bool:
    """The same rule for a path already in hand (e.g. a parent fetched by id)."""
    if principal.sees_everything:
        return True
    if not path:
        return False
    return within(path, principal.scope)
