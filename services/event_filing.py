"""A reported event filed in one statement: the event already pointing at its first step
as its current one, the step and the history row. The foreign keys between them are
checked at the statement's end, when all three are in; an INSERT and then an UPDATE would
cost a round trip and the UPDATE triggers' work.

The statement is built once: constructed per report, with fifty-odd values, building it
and deriving its cache key cost more than running it."""

from typing import Any, cast

from sqlalchemy import Insert, Table, bindparam, insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import ColumnProperty
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from services.models import Event, EventAction, EventStep
from services.models.base import Base

# Each record's parameters are its attribute names after a prefix of its own.
_PREFIXES: dict[type[Base], str] = {Event: "event_", EventStep: "step_", EventAction: "action_"}


def _written(model: type[Base]) -> list[ColumnProperty[Any]]:
    """The columns an INSERT gives values, all but those the database numbers itself."""
    return [a for a in sa_inspect(model).column_attrs if a.columns[0].identity is None]


def _insert(model: type[Base]) -> Insert:
    prefix = _PREFIXES[model]
    return insert(cast(Table, model.__table__)).values(
        {a.key: bindparam(prefix + a.key, type_=a.columns[0].type) for a in _written(model)}
    )


FILING = _insert(Event).add_cte(
    _insert(EventStep).cte("filed_step"), _insert(EventAction).cte("filed_action")
)


def filing_params(event: Event, step: EventStep, history: EventAction) -> dict[str, Any]:
    return {name: value for record in (event, step, history) for name, value in _params(record)}


def _params(record: Base) -> list[tuple[str, Any]]:
    """Every column of `record` as set; unset or None, its plain default where it has one,
    as the ORM's flush would give it. A column whose default is made on inserting (an id)
    must have been set."""
    values = sa_inspect(record).dict
    prefix = _PREFIXES[type(record)]
    params = []
    for attribute in _written(type(record)):
        value, default = values.get(attribute.key), attribute.columns[0].default
        if value is None and isinstance(default, ScalarElementColumnDefault):
            value = default.arg
        elif value is None and default is not None:
            raise TypeError(f"{type(record).__name__}.{attribute.key} must be set")
        params.append((prefix + attribute.key, value))
    return params
