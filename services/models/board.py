"""Change counters per path behind the command centre's ETag (R-CMD-1), written only by
the database's triggers (migration 0043)."""

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree


class BoardVersion(Base):
    __tablename__ = "board_versions"

    path: Mapped[str] = mapped_column(Ltree(), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
