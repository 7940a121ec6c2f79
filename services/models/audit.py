"""The append-only, hash-chained audit trail (R-AUD-1).

`id`, `prev_hash` and `hash` are filled by database triggers: linked as written, and linked
again after whatever committed in between when the transaction commits, under the chain's
lock, so the chain order is the commit order whatever the application does (migration 0040).
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, FetchedValue, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree


class AuditEntry(Base):
    __tablename__ = "audit_log"
    # No RETURNING on insert: the writer may not be allowed to read the entry back (row-level
    # security shows entries by jurisdiction; system-wide ones only to whole-tree scope).
    __table_args__ = {"implicit_returning": False}  # noqa: RUF012  (SQLAlchemy reads it)

    id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, server_default=FetchedValue()
    )
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str | None] = mapped_column(String(100))
    actor_unit_id: Mapped[uuid.UUID | None]
    unit_path: Mapped[str | None] = mapped_column(Ltree())
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    reason: Mapped[str | None]
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
