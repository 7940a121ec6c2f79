"""Reference tables held in the process, each for the stamp its trigger drew at the table's
last change (migration 0051): the working calendar, the system settings and the routing
rules, which most event requests read and which change now and then.

An authenticated request reads every stamp along with its principal (`services.auth`) and
leaves them on its session, so a held table costs it no round trip; other work (the worker,
the public form) reads the one stamp it needs. A session that changes a reference table
drops the stamp it was given (`changed`), and reads its own change afresh.
"""

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import ReferenceStamp

T = TypeVar("T")

CALENDAR = "calendar"
SETTINGS = "settings"
ROUTING = "routing"

# The session's `info` entry holding the stamps its request was given.
_STAMPS = "reference_stamps"
_STAMP = select(ReferenceStamp.stamp).where(ReferenceStamp.name == bindparam("name"))


def remember(session: AsyncSession, stamps: dict[str, str] | None) -> None:
    """Keep the stamps read with the principal (name to stamp; the connection decodes
    JSON)."""
    session.info[_STAMPS] = dict(stamps) if stamps else {}


def changed(session: AsyncSession, name: str) -> None:
    """The session has changed the table: its next read asks the database for the stamp."""
    session.info.get(_STAMPS, {}).pop(name, None)


async def _stamp(session: AsyncSession, name: str) -> str | None:
    given: dict[str, str] | None = session.info.get(_STAMPS)
    if given is not None and name in given:
        return given[name]
    found = await session.scalar(_STAMP, {"name": name})
    return None if found is None else str(found)


class Held(Generic[T]):
    """One table's contents as loaded for the last stamp seen. Without a stamp (its row is
    gone) the table is loaded for each caller and nothing is kept."""

    def __init__(self, name: str, load: Callable[[AsyncSession], Awaitable[T]]) -> None:
        self.name = name
        self._load = load
        self._held: tuple[str, T] | None = None

    async def get(self, session: AsyncSession) -> T:
        stamp = await _stamp(session, self.name)
        held = self._held
        if stamp is not None and held is not None and held[0] == stamp:
            return held[1]
        value = await self._load(session)
        if stamp is not None:
            self._held = (stamp, value)
        return value
