"""Jurisdiction information (辖区信息, R-JURINFO-1): one profile per unit (text sections and
images), and the rosters (花名册) of its political and self-governance organisations, which
are the service teams of those categories (R-TEAM-1) with their active members."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from domain.attachments import Kind
from domain.errors import FieldError, Invalid, NotFound
from domain.places import (
    IMAGE_SCHEMES,
    ROSTER_CATEGORIES,
    TEAM_CATEGORY_NAMES,
    TeamCategory,
    check_urls,
)
from domain.registry import Status
from domain.versioning import check_version
from services import audit
from services.attachments_uploads import file_key
from services.context import Ctx
from services.jurisdiction import in_scope
from services.models import JurisdictionProfile, Team, TeamMember
from services.pagination import AnySelect, Page
from services.places import holder_of, holds, in_unit, name_matches
from services.registry import unit_for_record
from services.teams import MEMBERS
from services.upload_claims import take_uploads

SECTIONS = ("overview", "geography", "economy", "society", "key_projects")


def image_url(unit_id: uuid.UUID, upload_id: str) -> str:
    """Where the platform serves an uploaded profile image."""
    return f"/api/v1/org-units/{unit_id}/profile/images/{upload_id}"


def _shown_image(unit_id: uuid.UUID, image: dict[str, Any]) -> dict[str, Any]:
    if "upload_id" not in image:
        return image
    return {
        "url": image_url(unit_id, image["upload_id"]),
        "upload_id": image["upload_id"],
        "caption": image.get("caption"),
    }


def _profile(unit_id: uuid.UUID, profile: JurisdictionProfile | None) -> dict[str, Any]:
    """The profile as shown; a unit nobody has described yet has an empty one (version 0)."""
    data: dict[str, Any] = {section: None for section in SECTIONS}
    data.update(unit_id=unit_id, images=[], version=0, updated_at=None, updated_by=None)
    if profile is not None:
        data.update({section: getattr(profile, section) for section in SECTIONS})
        data.update(
            images=[_shown_image(unit_id, image) for image in profile.images],
            version=profile.version,
            updated_at=profile.updated_at,
            updated_by=profile.updated_by,
        )
    return data


async def get_profile(ctx: Ctx, unit_id: uuid.UUID) -> dict[str, Any]:
    """The profile of a unit in the caller's jurisdiction (404 outside it)."""
    unit = await unit_for_record(ctx, unit_id)
    profile = await ctx.session.get(JurisdictionProfile, unit.id, populate_existing=True)
    return _profile(unit.id, profile)


async def put_profile(
    ctx: Ctx,
    unit_id: uuid.UUID,
    *,
    sections: dict[str, str | None],
    images: list[dict[str, Any]],
    expected_version: int | None,
) -> dict[str, Any]:
    """Replace the unit's profile. The row is created empty (version 0) on first write, so
    concurrent first writers queue on its lock and `If-Match` works from the start."""
    unit = await unit_for_record(ctx, unit_id)
    check_urls(
        {f"images.{i}.url": image["url"] for i, image in enumerate(images) if "url" in image},
        IMAGE_SCHEMES,
    )
    await ctx.session.execute(
        insert(JurisdictionProfile)
        .values(unit_id=unit.id, path=unit.path, images=[], version=0)
        .on_conflict_do_nothing(index_elements=[JurisdictionProfile.unit_id])
    )
    profile = (
        await ctx.session.execute(
            select(JurisdictionProfile)
            .where(JurisdictionProfile.unit_id == unit.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    check_version(expected_version, profile.version)
    before = _snapshot(profile)
    for section in SECTIONS:
        setattr(profile, section, sections.get(section))
    profile.images = await _stored_images(ctx, images, profile.images)
    profile.version += 1
    profile.updated_at = ctx.now()
    profile.updated_by = ctx.principal.user_id
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="jurisdiction_profile.update",
        target_type="jurisdiction_profile",
        target_id=unit.id,
        unit_path=unit.path,
        before=before,
        after=_snapshot(profile),
    )
    return _profile(unit.id, profile)


async def _stored_images(
    ctx: Ctx, images: list[dict[str, Any]], current: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The images as stored. An uploaded one is the caller's finished image upload, taken
    for the profile here (once), or one the profile already shows; 422
    `profile_image_upload_invalid` naming each other one, and nothing changes."""
    kept = {image["upload_id"]: image for image in current if "upload_id" in image}
    wanted = {
        uuid.UUID(image["upload_id"]): f"images.{index}.upload_id"
        for index, image in enumerate(images)
        if "upload_id" in image and image["upload_id"] not in kept
    }
    uploads = await take_uploads(
        ctx, wanted, code="profile_image_upload_invalid", kinds=frozenset({Kind.PHOTO.value})
    )
    stored = []
    for image in images:
        if "upload_id" not in image:
            stored.append(image)
            continue
        source = kept.get(image["upload_id"]) or {
            "mime": uploads[uuid.UUID(image["upload_id"])].mime
        }
        stored.append(
            {"upload_id": image["upload_id"], "mime": source["mime"]}
            | ({"caption": image["caption"]} if image.get("caption") else {})
        )
    return stored


@dataclass(frozen=True)
class ProfileImage:
    mime: str
    storage_key: str


async def profile_image(ctx: Ctx, unit_id: uuid.UUID, upload_id: uuid.UUID) -> ProfileImage:
    """An uploaded image the unit's profile shows, when the unit is in jurisdiction."""
    unit = await unit_for_record(ctx, unit_id)
    profile = await ctx.session.get(JurisdictionProfile, unit.id)
    for image in profile.images if profile is not None else []:
        if image.get("upload_id") == str(upload_id):
            return ProfileImage(image["mime"], file_key(upload_id))
    raise NotFound("profile_image_not_found")


def _snapshot(profile: JurisdictionProfile) -> dict[str, Any]:
    return {
        **{section: getattr(profile, section) for section in SECTIONS},
        "images": profile.images,
        "version": profile.version,
    }


@dataclass(frozen=True)
class RosterFilter:
    category: TeamCategory | None = None
    include_subunits: bool = False
    q: str | None = None


def roster_query(ctx: Ctx, unit_id: uuid.UUID, f: RosterFilter) -> AnySelect:
    """Active members of the unit's active roster teams (or its whole subtree's)."""
    if f.category is not None and f.category not in ROSTER_CATEGORIES:
        allowed = "、".join(TEAM_CATEGORY_NAMES[c] for c in ROSTER_CATEGORIES)
        raise Invalid(
            "validation_failed",
            errors=[FieldError("category", "dictionary_value_invalid", {"allowed": allowed})],
        )
    categories = [f.category] if f.category else list(ROSTER_CATEGORIES)
    stmt = (
        select(
            TeamMember.id,
            TeamMember.path,
            TeamMember.name,
            TeamMember.phone,
            TeamMember.posts,
            TeamMember.person_id,
            TeamMember.joined_on,
            TeamMember.team_id,
            Team.name.label("team_name"),
            Team.category,
            Team.subcategory,
            holder_of(Team),
        )
        .join(Team, Team.id == TeamMember.team_id)
        .where(
            in_scope(TeamMember.path, ctx.principal),
            TeamMember.status == Status.ACTIVE.value,
            Team.status == Status.ACTIVE.value,
            Team.category.in_([c.value for c in categories]),
        )
    )
    if f.include_subunits:
        stmt = stmt.where(in_unit(Team.path, unit_id))
    else:
        stmt = stmt.where((Team.grid_id == unit_id) | (Team.unit_id == unit_id))
    if f.q:
        stmt = stmt.where(
            name_matches(TeamMember.name, f.q)
            | name_matches(Team.name, f.q)
            | holds(TeamMember.posts, f.q)
        )
    return stmt


async def list_roster(
    ctx: Ctx, unit_id: uuid.UUID, f: RosterFilter, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """The unit's roster (花名册), by member name; phones masked per R-JUR-3."""
    unit = await unit_for_record(ctx, unit_id)
    return await MEMBERS.page(ctx, roster_query(ctx, unit.id, f), limit=limit, cursor=cursor)
