"""Ledgers (台账, R-DAY-2): a unit's yearly records of meetings, documents, activities,
special work and the three kinds of work logs; scoped, searchable, paged and exportable."""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select

from domain.daily_work import LedgerKind, check_ledger_entry
from domain.errors import NotFound
from domain.versioning import check_version
from services import audit
from services.attachments_uploads import file_key
from services.context import Ctx
from services.jurisdiction import in_scope
from services.models import LedgerEntry, OrgUnit
from services.pagination import AnySelect, Page, paginate
from services.places import in_unit
from services.registry import unit_for_record
from services.upload_claims import take_uploads

TARGET = "ledger_entry"

COLUMNS = (
    LedgerEntry.id,
    LedgerEntry.unit_id,
    OrgUnit.name.label("unit_name"),
    LedgerEntry.year,
    LedgerEntry.kind,
    LedgerEntry.subtype,
    LedgerEntry.title,
    LedgerEntry.doc_no,
    LedgerEntry.occurred_on,
    LedgerEntry.content,
    LedgerEntry.attachments,
    LedgerEntry.version,
    LedgerEntry.created_at,
    LedgerEntry.updated_at,
)


@dataclass(frozen=True)
class LedgerFilter:
    year: int | None = None
    kind: LedgerKind | None = None
    subtype: str | None = None
    unit_id: uuid.UUID | None = None
    q: str | None = None


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def file_url(entry_id: uuid.UUID, upload_id: str) -> str:
    """Where the platform serves a file of a ledger entry."""
    return f"/api/v1/daily/ledgers/{entry_id}/attachments/{upload_id}"


def _shown(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["attachments"] = [
        {**item, "url": file_url(data["id"], item["upload_id"])} for item in data["attachments"]
    ]
    return data


async def _files(
    ctx: Ctx, upload_ids: list[uuid.UUID], current: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The entry's files: those it already has and the caller's uploads it takes now
    (422 `ledger_attachment_invalid` naming any other, and nothing changes)."""
    kept = {item["upload_id"]: item for item in current}
    wanted = {
        upload_id: f"attachment_ids.{index}"
        for index, upload_id in enumerate(upload_ids)
        if str(upload_id) not in kept
    }
    taken = await take_uploads(ctx, wanted, code="ledger_attachment_invalid")
    files = []
    for upload_id in dict.fromkeys(upload_ids):
        upload = taken.get(upload_id)
        files.append(
            kept[str(upload_id)]
            if upload is None
            else {
                "upload_id": str(upload.id),
                "filename": upload.filename,
                "mime": upload.mime,
                "size": upload.stored_size,
            }
        )
    return files


async def get_entry(ctx: Ctx, entry_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await ctx.session.execute(
            select(*COLUMNS)
            .join(OrgUnit, OrgUnit.id == LedgerEntry.unit_id)
            .where(LedgerEntry.id == entry_id, in_scope(LedgerEntry.path, ctx.principal))
        )
    ).one_or_none()
    if row is None:
        raise NotFound("ledger_entry_not_found")
    return _shown(row)


async def create_entry(ctx: Ctx, values: dict[str, Any]) -> dict[str, Any]:
    """Record an entry in a unit's ledger of the year (a unit in jurisdiction)."""
    unit = await unit_for_record(ctx, values["unit_id"])
    check_ledger_entry(
        LedgerKind(values["kind"]),
        values["subtype"],
        values["year"],
        values["occurred_on"],
        values.get("doc_no"),
    )
    values = dict(values)
    files = await _files(ctx, values.pop("attachment_ids", []), [])
    now = ctx.now()
    entry = LedgerEntry(
        **values,
        attachments=files,
        path=unit.path,
        created_at=now,
        updated_at=now,
        created_by=ctx.principal.user_id,
    )
    ctx.session.add(entry)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="ledger.create",
        target_type=TARGET,
        target_id=entry.id,
        unit_path=unit.path,
        after=_jsonable(
            {k: v for k, v in values.items() if k != "unit_id"} | {"attachments": files}
        ),
    )
    return await get_entry(ctx, entry.id)


async def update_entry(
    ctx: Ctx, entry_id: uuid.UUID, changes: dict[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Change an entry (412 when stale); the result must still be a valid entry."""
    entry = (
        await ctx.session.execute(
            select(LedgerEntry)
            .where(LedgerEntry.id == entry_id, in_scope(LedgerEntry.path, ctx.principal))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if entry is None:
        raise NotFound("ledger_entry_not_found")
    check_version(expected_version, entry.version)
    merged = {
        key: changes.get(key, getattr(entry, key))
        for key in ("kind", "subtype", "year", "occurred_on", "doc_no")
    }
    check_ledger_entry(
        LedgerKind(merged["kind"]), **{k: v for k, v in merged.items() if k != "kind"}
    )
    changes = dict(changes)
    if "attachment_ids" in changes:
        upload_ids = changes.pop("attachment_ids")
        changes["attachments"] = await _files(ctx, upload_ids or [], entry.attachments)
    before = {key: getattr(entry, key) for key in changes}
    for key, value in changes.items():
        setattr(entry, key, value)
    entry.version += 1
    entry.updated_at = ctx.now()
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="ledger.update",
        target_type=TARGET,
        target_id=entry.id,
        unit_path=entry.path,
        before=_jsonable(before),
        after=_jsonable(changes),
    )
    return await get_entry(ctx, entry.id)


def ledger_query(ctx: Ctx, flt: LedgerFilter) -> AnySelect:
    """Entries in jurisdiction matching the filters (the list and its export); `q` looks in
    title, document number and content."""
    stmt = (
        select(*COLUMNS)
        .join(OrgUnit, OrgUnit.id == LedgerEntry.unit_id)
        .where(in_scope(LedgerEntry.path, ctx.principal))
    )
    if flt.year is not None:
        stmt = stmt.where(LedgerEntry.year == flt.year)
    if flt.kind is not None:
        stmt = stmt.where(LedgerEntry.kind == flt.kind.value)
    if flt.subtype is not None:
        stmt = stmt.where(LedgerEntry.subtype == flt.subtype)
    if flt.unit_id is not None:
        stmt = stmt.where(in_unit(LedgerEntry.path, flt.unit_id))
    if flt.q:
        stmt = stmt.where(
            or_(
                LedgerEntry.title.icontains(flt.q, autoescape=True),
                LedgerEntry.doc_no.icontains(flt.q, autoescape=True),
                LedgerEntry.content.icontains(flt.q, autoescape=True),
            )
        )
    return stmt


async def list_entries(
    ctx: Ctx, flt: LedgerFilter, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page by title."""
    return await paginate(
        ctx.session,
        ledger_query(ctx, flt),
        key=(LedgerEntry.title, LedgerEntry.id),
        limit=limit,
        cursor=cursor,
        convert=_shown,
    )


@dataclass(frozen=True)
class LedgerFile:
    filename: str
    mime: str
    size: int
    storage_key: str


async def ledger_file(ctx: Ctx, entry_id: uuid.UUID, upload_id: uuid.UUID) -> LedgerFile:
    """A file of an entry in jurisdiction."""
    entry = await get_entry(ctx, entry_id)
    for item in entry["attachments"]:
        if item["upload_id"] == str(upload_id):
            return LedgerFile(item["filename"], item["mime"], item["size"], file_key(upload_id))
    raise NotFound("ledger_attachment_not_found")
