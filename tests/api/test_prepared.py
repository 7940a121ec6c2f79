"""Statements compiled once for the hot reads (services.prepared): the values a call
gives are bound in order, a missing one is refused, and SQL that SQLAlchemy would have to
re-render per execution (IN lists) cannot be kept."""

import pytest
from sqlalchemy import Integer, String, bindparam, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import Event
from services.prepared import Prepared


async def test_values_are_bound_by_name_in_the_statements_order(session: AsyncSession) -> None:
    prepared = Prepared(
        select(bindparam("b", type_=String), literal(7), bindparam("a", type_=Integer) + 1).where(
            bindparam("a", type_=Integer) > 0
        )
    )
    row = await prepared.row(session, {"a": 41, "b": "乙"})
    assert row is not None and tuple(row.values()) == ("乙", 7, 42)
    with pytest.raises(KeyError, match="'b'"):
        await prepared.row(session, {"a": 1})


def test_an_in_list_cannot_be_prepared() -> None:
    with pytest.raises(ValueError, match="expanding"):
        Prepared(select(Event.id).where(Event.state.in_(["closed", "archived"])))
