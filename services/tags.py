"""Business tags on people (业务人员, SPEC §3.2): key persons and care objects with their own
details and follow state, linked to the actual population as the system setting says
(R-LINK-1), masked for callers without pii:read (R-JUR-3)."""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, cast, or_, select

from domain.errors import FieldError, Invalid, NotFound
from domain.id_numbers import Gender
from domain.masking import Mask
from domain.registry import FollowStatus, Status
from domain.tags import (
    DETAIL_MASKS,
    KINDS,
    Holder,
    LinkMode,
    TagKind,
    check_conversion,
    check_eligible,
    detail_titles,
    identify,
    parse_details,
)
from domain.versioning import check_version
from services import settings_store
from services.constraints import flush_unique
from services.context import Ctx
from services.exporting import Column
from services.jurisdiction import in_scope
from services.masking import MaskSpec, mask_record, present, present_one
from services.models import OrgUnit, Person, PersonTag
from services.models.base import Ltree
from services.pagination import AnySelect, Page, paginate
from services.registry import (
    audit_change,
    change_status,
    grid_for_record,
    lock_record,
    reactivate,
    stamp_new,
    status_history,
    unit_for_record,
)

TARGET = "person_tag"
FOLLOW_UNIQUE_INDEX = "uq_person_tags_grid_kind_id_followed"
# A person created for a tag (link mode 3) has no known residence yet; R-POP-5 wants a reason.
NO_HOUSE_YET = "随业务人员登记，住所待核实"

# R-JUR-3: names are masked (张*) like ID numbers and the sensitive details.
MASKS: MaskSpec = {
    "id_number": Mask.ID_NUMBER,
    "name": Mask.NAME,
    **{f"details.{name}": mask for name, mask in DETAIL_MASKS.items()},
}
# Exports flatten the details into columns of their own.
EXPORT_MASKS: MaskSpec = {"id_number": Mask.ID_NUMBER, "name": Mask.NAME, **DETAIL_MASKS}

COLUMNS = (
    PersonTag.id,
    PersonTag.grid_id,
    PersonTag.path,
    PersonTag.person_id,
    PersonTag.kind,
    PersonTag.id_number,
    PersonTag.name,
    PersonTag.details,
    PersonTag.automatic,
    PersonTag.status,
    PersonTag.status_reason,
    PersonTag.status_changed_at,
    PersonTag.version,
    PersonTag.created_at,
    PersonTag.updated_at,
    PersonTag.created_by,
)


def business_date(ctx: Ctx) -> date:
    """Today in the business time zone: `Ctx.today()`, kept for the modules importing it."""
    return ctx.today()


@dataclass(frozen=True)
class ActivePerson:
    id: uuid.UUID
    holder: Holder


async def _active_person(ctx: Ctx, grid_id: uuid.UUID, number: str) -> ActivePerson | None:
    row = (
        await ctx.session.execute(
            select(Person.id, Person.birth_date, Person.gender).where(
                Person.grid_id == grid_id,
                # Overseas people are identified by `type:nationality:number` (R-POP-2);
                # a tag names them by their bare document number.
                or_(
                    Person.id_number == number,
                    and_(
                        Person.kind == "overseas",
                        Person.details["document_number"].astext == number,
                    ),
                ),
                Person.status == Status.ACTIVE,
            )
        )
    ).one_or_none()
    if row is None:
        return None
    gender = Gender(row.gender) if row.gender in set(Gender) else None
    return ActivePerson(row.id, Holder(row.birth_date, gender))


NOBODY_KNOWN = Holder(None, None)


async def _resolve(
    ctx: Ctx, grid_id: uuid.UUID, raw_number: str, known: Holder = NOBODY_KNOWN
) -> tuple[str, Holder, ActivePerson | None]:
    """The normalised ID, the active person with that ID in the grid (if any), and the
    holder's birth date and gender: from a resident ID, else from the person record, else
    `known`."""
    number, from_id = identify(raw_number, ctx.today())
    person = await _active_person(ctx, grid_id, number)
    return number, from_id or (person.holder if person else known), person


def _snapshot(tag: PersonTag) -> dict[str, Any]:
    # Audit entries are read by auditors without pii:read: they keep the masked values.
    return mask_record(
        {
            "kind": tag.kind,
            "name": tag.name,
            "id_number": tag.id_number,
            "person_id": str(tag.person_id) if tag.person_id else None,
            "details": tag.details,
        },
        MASKS,
    )


async def _create_person(
    ctx: Ctx, grid: OrgUnit, number: str, name: str, holder: Holder, kind: str
) -> uuid.UUID:
    """R-LINK-1 mode 3: the actual person behind a tag for an unknown ID, with what the ID
    tells; the rest is completed through the population registry."""
    person = Person(
        grid_id=grid.id,
        kind=kind,
        id_number=number,
        name=name,
        birth_date=holder.birth_date,
        gender=holder.gender.value if holder.gender else None,
        no_house_reason=NO_HOUSE_YET,
        status=Status.ACTIVE,
    )
    stamp_new(ctx, person, grid.path)
    ctx.session.add(person)
    await flush_unique(ctx.session, id_number=number)
    await audit_change(
        ctx,
        person,
        action="person.create",
        target_type="person",
        before=None,
        after=mask_record(
            {"kind": kind, "name": name, "id_number": number, "source": TARGET}, MASKS
        ),
        bump=False,
    )
    return person.id


async def create_tag(
    ctx: Ctx,
    *,
    grid_id: uuid.UUID,
    kind: TagKind,
    id_number: str,
    name: str,
    details: dict[str, Any],
    person_kind: str,
) -> dict[str, Any]:
    """Add a followed tag at grid level. Linked to the grid's active person with that ID
    when there is one; otherwise the link mode decides: 1 the tag stands alone, 2 refused
    (422 `person_required`), 3 the person is created too (kind `person_kind`). The holder's
    age and gender must suit the kind; one followed tag per (grid, kind, ID) (409)."""
    clean = parse_details(kind, details)
    grid = await grid_for_record(ctx, grid_id)
    number, holder, person = await _resolve(ctx, grid.id, id_number)
    mode = await settings_store.tag_link_mode(ctx)
    if person is None and mode == LinkMode.PERSON_REQUIRED:
        raise Invalid("person_required", errors=[FieldError("id_number", "person_required")])
    check_eligible(kind, holder, clean, ctx.today())
    person_id = person.id if person else None
    if person is None and mode == LinkMode.CREATE_PERSON:
        if holder.birth_date is None:
            # Only a resident ID says who the new person is (R-POP-2).
            raise Invalid("id_number_invalid", errors=[FieldError("id_number", "id_number_format")])
        person_id = await _create_person(ctx, grid, number, name, holder, person_kind)
    tag = PersonTag(
        grid_id=grid.id,
        person_id=person_id,
        kind=kind.value,
        id_number=number,
        name=name,
        birth_date=holder.birth_date,
        details=clean,
        automatic=False,
        status=FollowStatus.FOLLOWED,
    )
    stamp_new(ctx, tag, grid.path)
    ctx.session.add(tag)
    await flush_unique(ctx.session, id_number=number)
    await audit_change(
        ctx,
        tag,
        action=f"{TARGET}.create",
        target_type=TARGET,
        before=None,
        after=_snapshot(tag),
        bump=False,
    )
    return await get_tag(ctx, tag.id)


async def _tag_row(ctx: Ctx, tag_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await ctx.session.execute(
            select(*COLUMNS).where(PersonTag.id == tag_id, in_scope(PersonTag.path, ctx.principal))
        )
    ).one_or_none()
    if row is None:
        raise NotFound("tag_not_found")
    return dict(row._mapping)


async def get_tag(ctx: Ctx, tag_id: uuid.UUID) -> dict[str, Any]:
    """One tag as the caller may see it (masked without pii:read)."""
    row = await _tag_row(ctx, tag_id)
    return await present_one(ctx, row, MASKS, target_type=TARGET, unit_path=row["path"])


@dataclass(frozen=True)
class TagFilters:
    unit_id: uuid.UUID | None = None
    kind: TagKind | None = None
    status: FollowStatus | None = None
    person_id: uuid.UUID | None = None
    automatic: bool | None = None
    q: str | None = None


async def tags_query(ctx: Ctx, filters: TagFilters) -> AnySelect:
    """Tags in the caller's jurisdiction matching the filters: `unit_id` any unit (its
    subtree), `q` a name fragment or an exact ID number (matched here, shown masked)."""
    stmt = select(*COLUMNS).where(in_scope(PersonTag.path, ctx.principal))
    if filters.unit_id is not None:
        unit = await unit_for_record(ctx, filters.unit_id)
        stmt = stmt.where(PersonTag.path.op("<@")(cast(unit.path, Ltree())))
    if filters.kind is not None:
        stmt = stmt.where(PersonTag.kind == filters.kind.value)
    if filters.status is not None:
        stmt = stmt.where(PersonTag.status == filters.status.value)
    if filters.person_id is not None:
        stmt = stmt.where(PersonTag.person_id == filters.person_id)
    if filters.automatic is not None:
        stmt = stmt.where(PersonTag.automatic.is_(filters.automatic))
    if filters.q:
        stmt = stmt.where(
            PersonTag.name.icontains(filters.q, autoescape=True)
            | (PersonTag.id_number == filters.q.upper())
        )
    return stmt


async def list_tags(
    ctx: Ctx, filters: TagFilters, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page of tags ordered by name, masked as the caller may see them."""
    stmt = await tags_query(ctx, filters)
    page = await paginate(
        ctx.session, stmt, key=(PersonTag.name, PersonTag.id), limit=limit, cursor=cursor
    )
    items = await present(ctx, page.items, MASKS, target_type=TARGET)
    return Page(items=items, next_cursor=page.next_cursor, total=page.total)


async def check_person(ctx: Ctx, person_id: uuid.UUID) -> None:
    """The person exists in the caller's jurisdiction (else 404)."""
    found = await ctx.session.scalar(
        select(Person.id).where(Person.id == person_id, in_scope(Person.path, ctx.principal))
    )
    if found is None:
        raise NotFound("person_not_found")


async def update_tag(
    ctx: Ctx,
    tag_id: uuid.UUID,
    *,
    name: str | None,
    details: dict[str, Any] | None,
    expected_version: int | None,
) -> dict[str, Any]:
    """Rename and/or change details (merged like a JSON merge patch, `null` removes a field,
    then validated again for the kind). A change that changes nothing is a no-op."""
    tag = await lock_record(ctx, PersonTag, tag_id, not_found="tag_not_found")
    check_version(expected_version, tag.version)
    before, original = _snapshot(tag), (tag.name, tag.details)
    if name is not None:
        tag.name = name
    if details is not None:
        merged = {**tag.details, **details}
        tag.details = parse_details(
            TagKind(tag.kind), {k: v for k, v in merged.items() if v is not None}
        )
    # Compared unmasked: a change to a masked detail is still a change.
    if (tag.name, tag.details) != original:
        await audit_change(
            ctx,
            tag,
            action=f"{TARGET}.update",
            target_type=TARGET,
            before=before,
            after=_snapshot(tag),
        )
    return await get_tag(ctx, tag.id)


async def _unfollow(
    ctx: Ctx, tag_id: uuid.UUID, *, reason: str, expected_version: int | None
) -> None:
    await change_status(
        ctx,
        PersonTag,
        tag_id,
        target_type=TARGET,
        from_status=FollowStatus.FOLLOWED,
        to_status=FollowStatus.UNFOLLOWED,
        reason=reason,
        expected_version=expected_version,
        not_found="tag_not_found",
    )


async def unfollow_tag(
    ctx: Ctx, tag_id: uuid.UUID, *, reason: str, expected_version: int | None
) -> dict[str, Any]:
    """取消关注 with a reason and the time, kept in the history (SPEC §3)."""
    await _unfollow(ctx, tag_id, reason=reason, expected_version=expected_version)
    return await get_tag(ctx, tag_id)


async def refollow_tag(
    ctx: Ctx, tag_id: uuid.UUID, *, reason: str | None, expected_version: int | None
) -> dict[str, Any]:
    """重新关注: only while the holder still suits the kind, and refused (409
    `duplicate_active_record`) when another followed tag of the same (grid, kind, ID) exists —
    the partial unique index decides, also under a race."""
    tag = await lock_record(ctx, PersonTag, tag_id, not_found="tag_not_found")
    _, holder, _ = await _resolve(ctx, tag.grid_id, tag.id_number, Holder(tag.birth_date, None))
    if tag.status == FollowStatus.UNFOLLOWED:
        check_eligible(TagKind(tag.kind), holder, tag.details, ctx.today())
    await reactivate(
        ctx,
        PersonTag,
        tag_id,
        unique_index=FOLLOW_UNIQUE_INDEX,
        field="id_number",
        target_type=TARGET,
        from_status=FollowStatus.UNFOLLOWED,
        to_status=FollowStatus.FOLLOWED,
        reason=reason,
        expected_version=expected_version,
        not_found="tag_not_found",
    )
    return await get_tag(ctx, tag_id)


async def convert_tag(
    ctx: Ctx,
    tag_id: uuid.UUID,
    *,
    kind: TagKind,
    details: dict[str, Any],
    reason: str | None,
    expected_version: int | None,
) -> dict[str, Any]:
    """R-KEY-2 by hand: a community-correction tag becomes a released-prisoner tag. The
    source is unfollowed (if it still is followed) with the reason, and a followed tag of
    the new kind is created for the same grid, ID number and person, with its own validated
    details; both are audited and linked in the trail. The source row is locked first, so
    two conversions run one after the other and the second meets the first's tag (409)."""
    source = await lock_record(ctx, PersonTag, tag_id, not_found="tag_not_found")
    check_version(expected_version, source.version)
    default_reason = check_conversion(TagKind(source.kind), kind)
    if source.status == FollowStatus.FOLLOWED:
        await _unfollow(ctx, source.id, reason=reason or default_reason, expected_version=None)
    created = await create_tag(
        ctx,
        grid_id=source.grid_id,
        kind=kind,
        id_number=source.id_number,
        name=source.name,
        details=details,
        person_kind="registered",
    )
    await audit_change(
        ctx,
        source,
        action=f"{TARGET}.convert",
        target_type=TARGET,
        before={"kind": source.kind},
        after={"kind": kind.value, "converted_to": str(created["id"])},
        reason=reason or default_reason,
        bump=False,
    )
    return created


async def tag_history(ctx: Ctx, tag_id: uuid.UUID) -> list[dict[str, Any]]:
    """The tag's follow / unfollow changes, oldest first."""
    await _tag_row(ctx, tag_id)
    return await status_history(ctx, TARGET, tag_id)


STATUS_LABELS = {FollowStatus.FOLLOWED: "关注", FollowStatus.UNFOLLOWED: "取消关注"}
_BASE_COLUMNS = [
    Column("kind_label", "人员类别"),
    Column("name", "姓名"),
    Column("id_number", "身份证号"),
    Column("status_label", "关注状态"),
    Column("status_reason", "状态原因"),
    Column("status_changed_at", "状态变更时间"),
    Column("automatic", "系统自动标记"),
    Column("created_at", "登记时间"),
    Column("updated_at", "更新时间"),
]


def export_columns(kind: TagKind | None) -> list[Column]:
    """The list's columns, then one column per detail field (of the kind, or of all kinds)."""
    titles = detail_titles()
    names = list(KINDS[kind].details.model_fields) if kind else list(titles)
    return _BASE_COLUMNS + [Column(name, titles[name]) for name in names]


def export_row(row: Any) -> dict[str, Any]:
    """A tag as one spreadsheet row: labels for codes, details flattened into columns."""
    data = dict(row._mapping)
    details = data.pop("details") or {}
    return {
        **{k: v for k, v in details.items() if k not in data},
        **data,
        "kind_label": KINDS[TagKind(data["kind"])].label,
        "status_label": STATUS_LABELS[FollowStatus(data["status"])],
    }
