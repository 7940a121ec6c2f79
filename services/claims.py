"""The import pool and claiming (R-IMP-2).

The pool holds the rows of finished imports not yet claimed, each at the grid its file named
or else at its district. Staff claim rows into a grid of the district: each claim creates
the record through the registry's own service, so every rule of the registry holds. Pool
rows that are the same (grid, name, ID number) are one: claiming one claims them all. A row
is claimed once — the claim's key is the row, and of two claims racing for a row the first
to insert wins while the other waits for it and then reports the row claimed.

A claim that fails leaves the row in the pool: `incomplete` when the record lacks what the
registry requires (fix the row, then claim), `duplicate` when an active record of the same
identity already exists in the grid (the two side by side; merge the row into it, or skip).
"""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from domain.errors import Conflict, DomainError, FieldError, Invalid, NotFound, PermissionDenied
from domain.imports import (
    TEMPLATES,
    Nature,
    Template,
    check_row,
    header_of,
    row_reason,
    typed_values,
)
from domain.masking import Mask
from domain.people import DETAIL_MASKS, PERSON_MASKS, Kind
from domain.permissions import Perm
from domain.places import OrganisationCategory
from domain.registry import FollowStatus, Status
from domain.tags import DETAIL_MASKS as TAG_DETAIL_MASKS
from domain.tags import TagKind
from domain.versioning import check_version
from services import audit, houses, organisations, people, rentals, tags
from services.claim_records import RECORD_REGISTRIES, Registry, record_values
from services.context import Ctx
from services.imports import pool_identity, published
from services.jurisdiction import in_scope
from services.masking import MaskSpec, present, present_one
from services.models import ImportClaim, ImportRow, Organisation, OrgUnit, Person, PersonTag
from services.pagination import AnySelect
from services.registry import grid_for_record

TARGET = "import_row"

_PERSONVALUE_MASKS = {k: m for k, m in PERSON_MASKS.items() if not k.startswith("details.")}
# The sensitive values a row of any template may carry (R-JUR-3).
VALUE_MASKS: dict[str, Mask] = {
    **_PERSONVALUE_MASKS,
    **DETAIL_MASKS,
    **TAG_DETAIL_MASKS,
    "legal_representative_id_number": Mask.ID_NUMBER,
    "legal_representative_phone": Mask.PHONE,
    **houses.HOUSE_MASK,
    **rentals.RENTAL_MASK,
}
# Pool rows carry the personal data of the file (R-JUR-3).
POOL_MASKS: MaskSpec = {
    "name": Mask.NAME,
    "id_number": Mask.ID_NUMBER,
    **{f"values.{key}": mask for key, mask in VALUE_MASKS.items()},
}


def _fields(ctx: Ctx, template: Template, values: dict[str, Any]) -> dict[str, Any]:
    """Pool values as the registry's service takes them: types restored, details (if the
    record keeps any) nested."""
    typed = typed_values(template, values, today=ctx.today())
    details = {k: v for k, v in values.items() if k in template.detail_keys}
    plain = {k: v for k, v in typed.items() if k not in template.detail_keys and k != "name"}
    if template.details_model is None:
        return typed
    return {**plain, "name": values.get("name"), "details": details}


async def _create_person(
    ctx: Ctx, template: Template, grid: OrgUnit, values: dict[str, Any]
) -> dict[str, Any]:
    fields = _fields(ctx, template, values)
    if not fields.get("name"):
        raise Invalid("validation_failed", errors=[FieldError("name", "field_required")])
    return await people.create_person(ctx, grid_id=grid.id, kind=Kind(template.kind), values=fields)


async def _update_person(ctx: Ctx, record_id: uuid.UUID, changes: dict[str, Any]) -> dict[str, Any]:
    return await people.update_person(ctx, record_id, changes, expected_version=None)


def _person_identity(
    template: Template, grid: OrgUnit, values: dict[str, Any]
) -> ColumnElement[bool] | None:
    if template.kind == Kind.OVERSEAS:
        parts = [values.get(k) for k in ("document_type", "nationality", "document_number")]
        number = ":".join(str(p).upper() if p else "" for p in parts)
    else:
        number = values.get("id_number") or ""
    return and_(Person.grid_id == grid.id, Person.id_number == number)


async def _create_organisation(
    ctx: Ctx, template: Template, grid: OrgUnit, values: dict[str, Any]
) -> dict[str, Any]:
    return await organisations.create_organisation(
        ctx,
        category=OrganisationCategory(template.kind),
        unit_id=grid.id,
        values=_fields(ctx, template, values),
    )


async def _update_organisation(
    ctx: Ctx, record_id: uuid.UUID, changes: dict[str, Any]
) -> dict[str, Any]:
    return await organisations.update_organisation(ctx, record_id, changes, expected_version=None)


def _organisation_identity(
    template: Template, grid: OrgUnit, values: dict[str, Any]
) -> ColumnElement[bool] | None:
    if not values.get("licence_no"):
        return None
    return and_(
        Organisation.category == template.kind,
        Organisation.grid_id == grid.id,
        Organisation.licence_no == values["licence_no"],
    )


async def _create_tag(
    ctx: Ctx, template: Template, grid: OrgUnit, values: dict[str, Any]
) -> dict[str, Any]:
    fields = _fields(ctx, template, values)
    missing = [k for k in ("id_number", "name") if not fields.get(k)]
    if missing:
        raise Invalid(
            "validation_failed", errors=[FieldError(k, "field_required") for k in missing]
        )
    return await tags.create_tag(
        ctx,
        grid_id=grid.id,
        kind=TagKind(template.kind),
        id_number=fields["id_number"],
        name=fields["name"],
        details=fields["details"],
        person_kind=Kind.REGISTERED.value,
    )


async def _update_tag(ctx: Ctx, record_id: uuid.UUID, changes: dict[str, Any]) -> dict[str, Any]:
    return await tags.update_tag(
        ctx,
        record_id,
        name=changes.get("name"),
        details=changes.get("details"),
        expected_version=None,
    )


def _tag_identity(
    template: Template, grid: OrgUnit, values: dict[str, Any]
) -> ColumnElement[bool] | None:
    return and_(
        PersonTag.grid_id == grid.id,
        PersonTag.kind == template.kind,
        PersonTag.id_number == (values.get("id_number") or ""),
    )


REGISTRIES: dict[Nature, Registry] = {
    Nature.PERSON: Registry(
        write=Perm.POPULATION_WRITE,
        model=Person,
        active=Status.ACTIVE,
        create=_create_person,
        update=_update_person,
        get=people.get_person,
        identity=_person_identity,
        mask=PERSON_MASKS,
    ),
    Nature.ORGANISATION: Registry(
        write=Perm.PLACE_WRITE,
        model=Organisation,
        active=Status.ACTIVE,
        create=_create_organisation,
        update=_update_organisation,
        get=organisations.ORGANISATIONS.get,
        identity=_organisation_identity,
        mask=organisations.ORGANISATIONS.mask,
    ),
    Nature.TAG: Registry(
        write=Perm.TAG_WRITE,
        model=PersonTag,
        active=FollowStatus.FOLLOWED,
        create=_create_tag,
        update=_update_tag,
        get=tags.get_tag,
        identity=_tag_identity,
        mask=tags.MASKS,
    ),
    **RECORD_REGISTRIES,
}
# What a registry refuses a record for because an active one of its identity exists.
DUPLICATE_CODES = frozenset({"duplicate_active_record", "house_no_taken", "component_code_taken"})


# The pool.


def _unclaimed() -> ColumnElement[bool]:
    return ~exists().where(ImportClaim.row_id == ImportRow.id)


@dataclass(frozen=True)
class PoolFilters:
    district_id: uuid.UUID | None = None
    registry: str | None = None
    import_id: uuid.UUID | None = None
    grid_id: uuid.UUID | None = None
    q: str | None = None
    claimed: bool = False


def _select() -> AnySelect:
    return (
        select(
            ImportRow.id,
            ImportRow.import_id,
            ImportRow.row_no,
            ImportRow.registry_code.label("registry"),
            ImportRow.district_id,
            ImportRow.grid_id,
            OrgUnit.code.label("grid_code"),
            ImportRow.name,
            ImportRow.id_number,
            ImportRow.values,
            ImportRow.version,
            ImportRow.path,
            ImportClaim.outcome,
            ImportClaim.record_id,
            ImportClaim.claimed_at,
        )
        .outerjoin(OrgUnit, OrgUnit.id == ImportRow.grid_id)
        .outerjoin(ImportClaim, ImportClaim.row_id == ImportRow.id)
    )


def pool_query(ctx: Ctx, filters: PoolFilters) -> AnySelect:
    """Pool rows in jurisdiction (of finished imports): unclaimed ones, or with `claimed`
    those that left the pool (claimed, merged or skipped)."""
    stmt = _select().where(in_scope(ImportRow.path, ctx.principal), published(ImportRow.path))
    claimed = ImportClaim.row_id.is_not(None)
    stmt = stmt.where(claimed if filters.claimed else ~claimed)
    if filters.district_id is not None:
        stmt = stmt.where(ImportRow.district_id == filters.district_id)
    if filters.registry is not None:
        stmt = stmt.where(ImportRow.registry_code == filters.registry)
    if filters.import_id is not None:
        stmt = stmt.where(ImportRow.import_id == filters.import_id)
    if filters.grid_id is not None:
        stmt = stmt.where(ImportRow.grid_id == filters.grid_id)
    if filters.q:
        stmt = stmt.where(
            or_(
                ImportRow.name.icontains(filters.q, autoescape=True),
                ImportRow.id_number == filters.q.strip().upper(),
            )
        )
    return stmt


def pool_row(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data.pop("path")
    data["claimed"] = data.pop("outcome")
    return data


async def present_rows(ctx: Ctx, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return await present(ctx, rows, POOL_MASKS, target_type=TARGET)


async def _row(ctx: Ctx, row_id: uuid.UUID, *, lock: bool = False) -> ImportRow:
    """A pool row (of a finished import) in jurisdiction; else 404."""
    stmt = select(ImportRow).where(
        ImportRow.id == row_id,
        in_scope(ImportRow.path, ctx.principal),
        published(ImportRow.path),
    )
    found = (
        await ctx.session.execute(stmt.with_for_update() if lock else stmt)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("import_row_not_found")
    return found


async def _claim_of(ctx: Ctx, row_id: uuid.UUID) -> ImportClaim | None:
    return await ctx.session.get(ImportClaim, row_id)


async def get_row(ctx: Ctx, row_id: uuid.UUID, grid_id: uuid.UUID | None = None) -> dict[str, Any]:
    """A pool row with the pool rows it is one with and, when a grid is named (the row's own
    by default), the active record of its identity there beside it (R-IMP-2 `duplicate`)."""
    row = await _row(ctx, row_id)
    data = (await ctx.session.execute(_select().where(ImportRow.id == row.id))).one()
    shown = await present_one(
        ctx, pool_row(data), POOL_MASKS, target_type=TARGET, unit_path=row.path
    )
    target = grid_id or row.grid_id
    if target is not None:
        grid = await grid_for_record(ctx, target)
        shown["existing"] = await _side_by_side(ctx, row, grid)
    shown["duplicates"] = [str(i) for i in await _pool_duplicates(ctx, row)]
    return shown


async def _existing(ctx: Ctx, row: ImportRow, grid: OrgUnit) -> dict[str, Any] | None:
    template = TEMPLATES[row.registry_code]
    registry = REGISTRIES[template.nature]
    identity = registry.identity(template, grid, row.values)
    if identity is None:
        return None
    model = registry.model
    record_id = (
        await ctx.session.execute(select(model.id).where(identity, model.status == registry.active))
    ).scalar_one_or_none()
    return None if record_id is None else await registry.get(ctx, record_id)


async def _side_by_side(ctx: Ctx, row: ImportRow, grid: OrgUnit) -> dict[str, Any] | None:
    """The active record the row duplicates, and per field the row's and the record's value."""
    record = await _existing(ctx, row, grid)
    if record is None:
        return None
    template = TEMPLATES[row.registry_code]
    values = await present_one(
        ctx, {"values": row.values}, POOL_MASKS, target_type=TARGET, unit_path=row.path
    )
    fields = []
    for column in template.columns:
        here = values["values"].get(column.key)
        there = record.get(column.key, (record.get("details") or {}).get(column.key))
        if (
            here is None
            and column.key not in record
            and column.key not in (record.get("details") or {})
        ):
            continue
        fields.append(
            {
                "field": column.key,
                "header": column.header,
                "row": here,
                "record": there,
                "differs": here is not None and str(here) != str(there),
            }
        )
    return {"record_id": record["id"], "fields": fields}


def _pool_key(template: Template, row: ImportRow) -> list[ColumnElement[bool]] | None:
    """What makes another pool row one with `row` (R-IMP-2), as its template says: of grid,
    name and identity, those in the template's key; None when the row lacks a part."""
    parts = {"grid": (ImportRow.grid_id, row.grid_id), "name": (ImportRow.name, row.name)}
    parts["identity"] = (ImportRow.id_number, row.id_number)
    key = [parts[part] for part in template.pool_key]
    if any(value is None for column, value in key if column is not ImportRow.grid_id):
        return None
    return [column.is_(None) if value is None else column == value for column, value in key]


async def _pool_duplicates(ctx: Ctx, row: ImportRow) -> list[uuid.UUID]:
    """Other unclaimed rows of the district's pool that are one with the row."""
    key = _pool_key(TEMPLATES[row.registry_code], row)
    if key is None:
        return []
    found = await ctx.session.execute(
        select(ImportRow.id).where(
            ImportRow.district_id == row.district_id,
            ImportRow.registry_code == row.registry_code,
            *key,
            ImportRow.id != row.id,
            in_scope(ImportRow.path, ctx.principal),
            _unclaimed(),
            published(ImportRow.path),
        )
    )
    return list(found.scalars())


async def _take(
    ctx: Ctx,
    row_id: uuid.UUID,
    outcome: str,
    grid: OrgUnit | None,
    *,
    path: str | None = None,
    record_id: uuid.UUID | None = None,
) -> bool:
    """Insert the row's claim (at the grid, else at `path`); False when another claim has
    it — a racing one waits on the key until the first commits, then finds it taken."""
    taken = await ctx.session.execute(
        pg_insert(ImportClaim)
        .values(
            row_id=row_id,
            outcome=outcome,
            grid_id=grid.id if grid else None,
            path=grid.path if grid else path,
            record_id=record_id,
            claimed_by=ctx.principal.user_id,
            claimed_at=ctx.now(),
        )
        .on_conflict_do_nothing(index_elements=["row_id"])
        .returning(ImportClaim.row_id)
    )
    return taken.scalar_one_or_none() is not None


def _failure(row_id: uuid.UUID, reason: str, **extra: Any) -> dict[str, Any]:
    return {"row_id": row_id, "reason": reason, **extra}


def _errors(template: Template, exc: DomainError) -> list[dict[str, Any]]:
    errors = exc.errors or [FieldError("", exc.code)]
    return [
        {
            "field": e.field,
            # `details.x` or `kinds.0.details.x` is the column `x`.
            "header": header_of(template, e.field.rsplit(".", 1)[-1]),
            "code": e.code,
        }
        for e in errors
    ]


async def _claim_one(ctx: Ctx, row: ImportRow, grid: OrgUnit) -> dict[str, Any]:
    """One row claimed into the grid: the record created and the row's pool duplicates
    claimed with it, or why not (nothing written then)."""
    template = TEMPLATES[row.registry_code]
    registry = REGISTRIES[template.nature]
    twins = await _pool_duplicates(ctx, row)
    # The rows first, all of them in id order, as a skip, merge or fix locks its row: the
    # claims inserted next then never wait on a row that waits on them.
    await ctx.session.execute(
        select(ImportRow.id)
        .where(ImportRow.id.in_([row.id, *twins]))
        .order_by(ImportRow.id)
        .with_for_update()
    )
    await ctx.session.refresh(row)
    try:
        async with ctx.session.begin_nested():
            if not await _take(ctx, row.id, "claimed", grid):
                return _failure(row.id, "claimed")
            if await _existing(ctx, row, grid) is not None:
                raise Conflict("duplicate_active_record")
            record = await registry.create(ctx, template, grid, row.values)
            # A twin skipped meanwhile stays skipped.
            twins = [
                twin
                for twin in twins
                if await _take(ctx, twin, "with_duplicate", grid, record_id=record["id"])
            ]
            await ctx.session.execute(
                update(ImportClaim)
                .where(ImportClaim.row_id == row.id)
                .values(record_id=record["id"])
            )
            await audit.record(
                ctx,
                action="import_row.claim",
                target_type=TARGET,
                target_id=row.id,
                unit_path=grid.path,
                after={
                    "grid_id": str(grid.id),
                    "record_id": str(record["id"]),
                    "with": [str(t) for t in twins],
                },
            )
    except Conflict as exc:
        if exc.code not in DUPLICATE_CODES:
            raise
        return _failure(row.id, "duplicate", existing=await _side_by_side(ctx, row, grid))
    except Invalid as exc:
        return _failure(row.id, "incomplete", errors=_errors(template, exc))
    return {"row_id": row.id, "record_id": record["id"], "with": twins}


async def claim_rows(ctx: Ctx, *, grid_id: uuid.UUID, row_ids: list[uuid.UUID]) -> dict[str, Any]:
    """Claim a batch of pool rows into a grid (R-IMP-2); `succeeded` and `failed` lists."""
    grid = await grid_for_record(ctx, grid_id)
    succeeded: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    done: dict[uuid.UUID, uuid.UUID] = {}
    for row_id in dict.fromkeys(row_ids):
        if row_id in done:
            succeeded.append({"row_id": row_id, "record_id": done[row_id], "with": []})
            continue
        try:
            row = await _row(ctx, row_id)
        except NotFound:
            failed.append(_failure(row_id, "not_found"))
            continue
        template = TEMPLATES[row.registry_code]
        if not ctx.principal.can(REGISTRIES[template.nature].write):
            raise PermissionDenied()
        if not _in_district(row, grid):
            failed.append(_failure(row_id, "grid_outside_district"))
            continue
        outcome = await _claim_one(ctx, row, grid)
        if "reason" in outcome:
            failed.append(outcome)
        else:
            succeeded.append(outcome)
            done.update({twin: outcome["record_id"] for twin in outcome["with"]})
    return {"grid_id": grid.id, "succeeded": succeeded, "failed": failed}


def _in_district(row: ImportRow, grid: OrgUnit) -> bool:
    """Rows are claimed into grids of the district their import was addressed to (a path is
    made of its units' ids)."""
    return row.district_id.hex in grid.path.split(".")


async def _unclaimed_row(ctx: Ctx, row_id: uuid.UUID) -> ImportRow:
    row = await _row(ctx, row_id, lock=True)
    if await _claim_of(ctx, row.id) is not None:
        raise Conflict("import_row_claimed")
    return row


async def fix_row(
    ctx: Ctx, row_id: uuid.UUID, changes: dict[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Correct an unclaimed row (`incomplete` → fix, then claim): the changed values are
    checked as an imported row is; null removes one. Its grid stays as filed."""
    row = await _unclaimed_row(ctx, row_id)
    check_version(expected_version, row.version)
    template = TEMPLATES[row.registry_code]
    known = {c.key for c in template.columns} - {"grid_code"}
    unknown = [k for k in changes if k not in known]
    if unknown:
        raise Invalid(
            "validation_failed", errors=[FieldError(k, "field_forbidden") for k in unknown]
        )
    merged = {k: v for k, v in {**row.values, **changes}.items() if v not in (None, "")}
    check = check_row(template, merged, today=ctx.today())
    if check.errors:
        raise Invalid(
            "validation_failed", errors=[FieldError(f, row_reason(r)) for f, r in check.errors]
        )
    before = dict(row.values)
    row.values = check.values
    row.name, row.id_number = pool_identity(template, check.values)
    row.version += 1
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="import_row.update",
        target_type=TARGET,
        target_id=row.id,
        unit_path=row.path,
        before=before,
        after=check.values,
    )
    return await get_row(ctx, row.id)


async def merge_row(ctx: Ctx, row_id: uuid.UUID, *, grid_id: uuid.UUID) -> dict[str, Any]:
    """Resolve a `duplicate`: the row's values written onto the active record of its
    identity in the grid (only what the row states), and the row leaves the pool."""
    row = await _unclaimed_row(ctx, row_id)
    grid = await grid_for_record(ctx, grid_id)
    template = TEMPLATES[row.registry_code]
    registry = REGISTRIES[template.nature]
    if not ctx.principal.can(registry.write):
        raise PermissionDenied()
    record = await _existing(ctx, row, grid)
    if record is None:
        raise Conflict("import_row_no_duplicate")
    changes = (
        record_values(ctx, template, row.values, complete=False)
        if template.nature in RECORD_REGISTRIES
        else _fields(ctx, template, row.values)
    )
    if not changes.get("details"):
        changes.pop("details", None)
    # The claim first: of a merge racing a claim, the loser changes nothing.
    if not await _take(ctx, row.id, "merged", grid, record_id=record["id"]):
        raise Conflict("import_row_claimed")
    updated = await registry.update(ctx, record["id"], changes)
    await audit.record(
        ctx,
        action="import_row.merge",
        target_type=TARGET,
        target_id=row.id,
        unit_path=grid.path,
        after={"record_id": str(updated["id"])},
    )
    return {"row_id": row.id, "record_id": updated["id"], "outcome": "merged"}


async def skip_row(ctx: Ctx, row_id: uuid.UUID) -> dict[str, Any]:
    """Resolve a `duplicate` by dropping the row from the pool (the record stays as is)."""
    row = await _unclaimed_row(ctx, row_id)
    if not await _take(ctx, row.id, "skipped", None, path=row.path):
        raise Conflict("import_row_claimed")
    await audit.record(
        ctx, action="import_row.skip", target_type=TARGET, target_id=row.id, unit_path=row.path
    )
    return {"row_id": row.id, "record_id": None, "outcome": "skipped"}
