"""Unique constraints are the final word on duplicates (they see rows that row-level security
hides from the caller and they win races); their violations become domain conflicts here."""

import re
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict, FieldError

# constraint name → (error code, field, message parameter)
UNIQUE_CONSTRAINTS: dict[str, tuple[str, str, str]] = {
    "uq_users_username": ("username_taken", "username", "username"),
    "uq_org_units_code_live": ("code_taken", "code", "code"),
    "uq_departments_code_live": ("code_taken", "code", "code"),
    # standard addresses, houses, rentals
    "uq_addresses_full_text_active": ("address_taken", "full_text", "full_text"),
    "uq_houses_house_no_active": ("house_no_taken", "house_no", "house_no"),
    "uq_rentals_house_active": ("duplicate_active_record", "house_id", "house_id"),
    "uq_person_tags_grid_kind_id_followed": ("duplicate_active_record", "id_number", "id_number"),
    # organisations, places, teams, components
    "uq_organisations_licence_active": ("duplicate_active_record", "licence_no", "licence_no"),
    "place_kinds_pkey": ("place_kind_exists", "kind", "kind"),
    "uq_team_members_person_active": ("member_already_in_team", "person_id", "person_id"),
    "uq_components_code_active": ("component_code_taken", "code", "code"),
    # actual population, households, families
    "uq_people_grid_id_number_active": ("duplicate_active_record", "id_number", "id_number"),
    "uq_households_no_active": ("household_no_taken", "household_no", "household_no"),
    "uq_families_no_active": ("family_no_taken", "family_no", "family_no"),
    "uq_household_members_person": ("already_in_household", "person_id", "person_id"),
    "uq_family_members_person": ("already_in_family", "person_id", "person_id"),
}

_KEY_VALUE = re.compile(r"Key \((?:[^)]*)\)=\((?P<value>.*)\) already exists")


async def flush_unique(session: AsyncSession, **values: str) -> None:
    """Flush pending rows inside a savepoint; a known unique violation becomes a 409.

    `values` name the offending input (e.g. `code=...`): PostgreSQL leaves the key out of the
    error detail on tables with row-level security, so the message takes it from here.
    """
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise _conflict(exc, values) or exc from exc


def _conflict(exc: IntegrityError, values: dict[str, str]) -> Conflict | None:
    cause: Any = exc.orig.__cause__ if exc.orig is not None else None
    name = getattr(cause, "constraint_name", None)
    if name not in UNIQUE_CONSTRAINTS:
        return None
    code, field, param = UNIQUE_CONSTRAINTS[name]
    match = _KEY_VALUE.search(getattr(cause, "detail", "") or "")
    value = values.get(param) or (match.group("value") if match else "")
    return Conflict(code, params={param: value}, errors=[FieldError(field, code, {param: value})])
