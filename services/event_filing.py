"""A reported event filed in one statement: the event already pointing at its first step
as its current one, the step, the history row and the audit entry. The foreign keys between
them are checked at the statement's end, when all are in; an INSERT and then an UPDATE would
cost a round trip and the UPDATE triggers' work.

The statement is built once: constructed per report, with fifty-odd values, building it
and deriving its cache key cost more than running it."""

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Insert, Table, bindparam, insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from services.audit import ENTRY_COLUMNS
from services.models import AuditEntry, Event, EventAction, EventStep
from services.models.base import Base


@dataclass(frozen=True)
class _Column:
    key: str
    # The statement's parameter: the attribute after a prefix of the record type's own.
    param: str
    # Given for None, as the ORM's flush would (statements in one WITH get no defaults).
    default: Any
    # Its default is made on inserting (an id): a value must be given.
    required: bool


def _columns(model: type[Base], prefix: str) -> list[_Column]:
    """The columns an INSERT gives values, all but those the database numbers itself."""
    found = []
    for attribute in sa_inspect(model).column_attrs:
        column = attribute.columns[0]
        if column.identity is not None:
            continue
        plain = isinstance(column.default, ScalarElementColumnDefault)
        default = column.default.arg if plain else None
        required = column.default is not None and not plain
        found.append(_Column(attribute.key, prefix + attribute.key, default, required))
    return found


_COLUMNS = {
    Event: _columns(Event, "event_"),
    EventStep: _columns(EventStep, "step_"),
    EventAction: _columns(EventAction, "action_"),
}


def _insert(model: type[Base]) -> Insert:
    return insert(cast(Table, model.__table__)).values(
        {c.key: bindparam(c.param, type_=model.__table__.c[c.key].type) for c in _COLUMNS[model]}
    )


_AUDIT = cast(Table, AuditEntry.__table__)
# The entry is linked into the chain by its table's triggers, as any insert of it is.
_ENTRY = insert(_AUDIT).values(
    {name: bindparam(f"audit_{name}", type_=_AUDIT.c[name].type) for name in ENTRY_COLUMNS}
)

FILING = _insert(Event).add_cte(
    _insert(EventStep).cte("filed_step"),
    _insert(EventAction).cte("filed_action"),
    _ENTRY.cte("filed_entry"),
)


def filing_params(
    event: Event, step: EventStep, history: EventAction, entry: dict[str, Any]
) -> dict[str, Any]:
    """`FILING`'s parameters: every column of each record as set, else its plain default,
    and the audit entry's values (`audit.entry_values`)."""
    params = {}
    records: tuple[Base, ...] = (event, step, history)
    for record in records:
        values = sa_inspect(record).dict
        for column in _COLUMNS[type(record)]:
            value = values.get(column.key)
            if value is None and column.required:
                raise TypeError(f"{type(record).__name__}.{column.key} must be set")
            params[column.param] = column.default if value is None else value
    return params | {f"audit_{name}": entry[name] for name in ENTRY_COLUMNS}
