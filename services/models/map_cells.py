"""Point counts of the map layers per web-mercator cell (R-MAP-2, migration 0039), kept
current by triggers on the layers' tables: low-zoom vector tiles add them up."""

from sqlalchemy import SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree


class MapCell(Base):
    __tablename__ = "map_cells"

    layer: Mapped[str] = mapped_column(String(32), primary_key=True)
    # 2^level cells across the world; cx counts from the west, cy from the north.
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    cx: Mapped[int] = mapped_column(primary_key=True)
    cy: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(Ltree(), primary_key=True)
    n: Mapped[int]
    # Sums of the points' EPSG:3857 coordinates: a cluster's centroid is sum / n.
    sum_x: Mapped[float]
    sum_y: Mapped[float]
