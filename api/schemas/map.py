"""Map range queries: one area, several layers, per-layer filters and cursors (R-MAP-1)."""

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from api.schemas.common import Input, Output
from domain.coords import Crs


class MapQuery(Input):
    layers: Annotated[list[str], Field(min_length=1, max_length=10)]
    unit_id: uuid.UUID | None = None
    bbox: Annotated[list[float] | None, Field(min_length=4, max_length=4)] = None
    center: Annotated[list[float] | None, Field(min_length=2, max_length=2)] = None
    radius_m: Annotated[float | None, Field(gt=0, le=50_000)] = None
    polygon: dict[str, Any] | None = None
    crs: Crs = Crs.WGS84
    filters: dict[str, dict[str, str]] = Field(default_factory=dict)
    cursors: dict[str, str] = Field(default_factory=dict)
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    geojson: bool = False

    @model_validator(mode="after")
    def one_area(self) -> "MapQuery":
        given = [
            self.unit_id is not None,
            self.bbox is not None,
            self.center is not None or self.radius_m is not None,
            self.polygon is not None,
        ]
        if sum(given) != 1:
            raise ValueError("exactly one of unit_id, bbox, center+radius_m, polygon")
        if (self.center is None) != (self.radius_m is None):
            raise ValueError("a circle needs both center and radius_m")
        return self


class LayerResult(Output):
    total: int
    items: list[dict[str, Any]]
    next_cursor: str | None
    geojson: dict[str, Any] | None = None


class MapQueryResult(Output):
    layers: dict[str, LayerResult]


class LayerInfo(Output):
    name: str
    title: str
    filters: list[str]
    kind: Literal["point"] = "point"
