"""Map layers (R-MAP-1, R-MAP-2): which table, which point column, which columns a result
item shows, which of them are masked, and which filters a layer accepts.

Registries add their layer here; range queries and vector tiles serve every layer alike.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, any_, exists
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import InstrumentedAttribute

from domain.masking import Mask
from domain.permissions import Perm
from domain.workflow import OPEN_STATES
from services.models import Address, Event, House, Person, PersonTag, Rental, WorkerPosition
from services.models.places import Component, Organisation, Place, PlaceKindEntry, VideoPoint


@dataclass(frozen=True)
class Layer:
    name: str
    title: str
    model: Any
    geom: InstrumentedAttribute[Any]
    columns: tuple[InstrumentedAttribute[Any], ...]
    permission: Perm
    active: Callable[[], ColumnElement[bool]]
    mask: dict[str, Mask] = field(default_factory=dict)
    # Attributes safe to put in vector tiles, which are cached and never masked per caller.
    tile_columns: tuple[InstrumentedAttribute[Any], ...] = ()
    filters: dict[str, Callable[[str], ColumnElement[bool]]] = field(default_factory=dict)


def _followed_tag(kind: str) -> ColumnElement[bool]:
    return exists().where(
        PersonTag.person_id == Person.id,
        PersonTag.kind == kind,
        PersonTag.status == "followed",
    )


def _place_kind(column: str) -> Callable[[str], ColumnElement[bool]]:
    def held(value: str) -> ColumnElement[bool]:
        return exists().where(
            PlaceKindEntry.place_id == Place.id, getattr(PlaceKindEntry, column) == value
        )

    return held


def _yes_no(condition: ColumnElement[bool], value: str) -> ColumnElement[bool]:
    """A yes/no filter: the condition, or its negation."""
    return condition if value.lower() in ("1", "true", "yes") else ~condition


def _rented(value: str) -> ColumnElement[bool]:
    return _yes_no(exists().where(Rental.house_id == House.id, Rental.status == "active"), value)


def _open_event(value: str) -> ColumnElement[bool]:
    # `= ANY (ARRAY[...])`, not IN: an IN list is expanded per execution, and map statements
    # are compiled once (services.prepared).
    open_states = array([state.value for state in OPEN_STATES])
    return _yes_no(Event.state == any_(open_states), value)


LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (
        Layer(
            name="people",
            title="实有人口",
            model=Person,
            geom=Person.location,
            columns=(Person.id, Person.name, Person.kind, Person.id_number, Person.grid_id),
            permission=Perm.POPULATION_READ,
            active=lambda: Person.status == "active",
            mask={"name": Mask.NAME, "id_number": Mask.ID_NUMBER},
            tile_columns=(Person.kind,),
            filters={"kind": lambda v: Person.kind == v, "tag_kind": _followed_tag},
        ),
        Layer(
            name="houses",
            title="实有房屋",
            model=House,
            geom=House.location,
            columns=(House.id, House.house_no, House.address, House.use, House.grid_id),
            permission=Perm.HOUSE_READ,
            active=lambda: House.status == "active",
            tile_columns=(House.use,),
            filters={"use": lambda v: House.use == v, "rented": _rented},
        ),
        Layer(
            name="places",
            title="重点场所",
            model=Place,
            geom=Place.location,
            columns=(Place.id, Place.name, Place.grid_id),
            permission=Perm.PLACE_READ,
            active=lambda: Place.status == "followed",
            filters={"kind": _place_kind("kind"), "level": _place_kind("level")},
        ),
        Layer(
            name="organisations",
            title="组织",
            model=Organisation,
            geom=Organisation.location,
            columns=(Organisation.id, Organisation.name, Organisation.category),
            permission=Perm.PLACE_READ,
            active=lambda: Organisation.status == "active",
            tile_columns=(Organisation.category,),
            filters={"category": lambda v: Organisation.category == v},
        ),
        Layer(
            name="components",
            title="城市部件",
            model=Component,
            geom=Component.location,
            columns=(
                Component.id,
                Component.code,
                Component.name,
                Component.kind,
                Component.condition,
                Component.grid_id,
            ),
            permission=Perm.PLACE_READ,
            active=lambda: Component.status == "active",
            tile_columns=(Component.kind, Component.condition),
            filters={
                "kind": lambda v: Component.kind == v,
                "category": lambda v: Component.category == v,
                "condition": lambda v: Component.condition == v,
            },
        ),
        Layer(
            name="video_points",
            title="视频点位",
            model=VideoPoint,
            geom=VideoPoint.location,
            columns=(VideoPoint.id, VideoPoint.name, VideoPoint.owner, VideoPoint.grid_id),
            permission=Perm.PLACE_READ,
            active=lambda: VideoPoint.status == "active",
        ),
        Layer(
            name="events",
            title="事件",
            model=Event,
            geom=Event.location,
            columns=(
                Event.id,
                Event.service_no,
                Event.title,
                Event.category,
                Event.state,
                Event.occurred_at,
                Event.grid_id,
            ),
            permission=Perm.EVENT_READ,
            # Events are never deregistered: closed ones stay on the map unless filtered.
            active=lambda: Event.location.is_not(None),
            tile_columns=(Event.category, Event.state),
            filters={
                "category": lambda v: Event.category == v,
                "state": lambda v: Event.state == v,
                "open": _open_event,
            },
        ),
        Layer(
            name="worker_positions",
            title="网格员位置",
            model=WorkerPosition,
            geom=WorkerPosition.location,
            columns=(
                WorkerPosition.id,
                WorkerPosition.full_name,
                WorkerPosition.accuracy_m,
                WorkerPosition.reported_at,
            ),
            permission=Perm.MAP_READ,
            active=lambda: WorkerPosition.location.is_not(None),
        ),
        Layer(
            name="addresses",
            title="标准地址",
            model=Address,
            geom=Address.location,
            columns=(Address.id, Address.full_text, Address.grid_id),
            permission=Perm.HOUSE_READ,
            active=lambda: Address.status == "active",
        ),
    )
}


def layer_filters(layer: Layer, given: dict[str, str]) -> list[ColumnElement[bool]]:
    """The layer's own filters for the given values; unknown names are refused upstream."""
    return [layer.filters[name](value) for name, value in given.items()]
