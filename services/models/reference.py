"""The stamps of the reference tables the processes hold (migration 0051)."""

import uuid

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base


class ReferenceStamp(Base):
    __tablename__ = "reference_stamps"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    stamp: Mapped[uuid.UUID]
