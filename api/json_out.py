"""Read routes that answer straight from the service's rows: the route still declares its
response model (the OpenAPI document shows it), and the body is written by orjson from the
model's fields alone, in its order, without validating again rows the service selected and
typed. Pydantic's validation and serialisation of a 50-person page cost more than the
queries behind it.

Values come out as the models write them: instants in the business zone with their offset
(`Instant`), dates as ISO dates, UUIDs and enum values as strings; fields the model does not
declare (a row's path) are left out.
"""

from datetime import date, datetime
from typing import Any
from uuid import UUID

import orjson
from fastapi import Response
from pydantic import BaseModel

from services.context import business_time
from services.pagination import Page


def _default(value: Any) -> str:
    if isinstance(value, UUID):  # the driver's own UUID class, which orjson does not know
        return str(value)
    if isinstance(value, datetime):
        return business_time(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dumps(content: Any) -> bytes:
    # Dates and instants pass through to `_default`: orjson would keep a row's UTC offset.
    return orjson.dumps(content, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


class Shape:
    """The fields of an output model, picked from a row in the model's order."""

    def __init__(self, model: type[BaseModel]) -> None:
        if any(field.serialization_alias for field in model.model_fields.values()):
            raise ValueError(f"{model.__name__} renames fields; it is answered by pydantic")
        self.fields = tuple(model.model_fields)

    def pick(self, row: dict[str, Any]) -> dict[str, Any]:
        return {name: row[name] for name in self.fields}

    def response(self, row: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
        return Response(_dumps(self.pick(row)), media_type="application/json", headers=headers)

    def page_response(self, page: Page[dict[str, Any]]) -> Response:
        """A `PageOut` of the model."""
        content = {
            "items": [self.pick(row) for row in page.items],
            "next_cursor": page.next_cursor,
            "total": page.total,
        }
        return Response(_dumps(content), media_type="application/json")
