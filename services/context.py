"""What every use case receives: the session, who acts, the clock and the request id."""

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from domain.principal import Principal
from services.clock import Clock
from services.settings import get_settings

_ZONE = ZoneInfo(get_settings().timezone)


def business_time(value: datetime) -> datetime:
    """An instant in the business time zone, as responses show it (API.md: +08:00)."""
    return value.astimezone(_ZONE)


@dataclass
class Ctx:
    session: AsyncSession
    principal: Principal
    clock: Clock
    request_id: str | None = None
    # Set once per use case so every row written in it carries the same instant.
    _now: datetime | None = field(default=None, repr=False)

    def now(self) -> datetime:
        if self._now is None:
            self._now = self.clock.now()
        return self._now

    def today(self) -> date:
        """Today in the business time zone: ages and periods are counted in local dates."""
        return self.now().astimezone(_ZONE).date()
