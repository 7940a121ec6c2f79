"""Masking by the caller's permission (R-JUR-3), applied where records are serialised.

Holders of `pii:read` see full values, and each such read is audited; everyone else sees
masked values. `pii:reveal` unmasks one record on demand with a stated reason, audited too.
"""

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from domain.errors import FieldError, Invalid, PermissionDenied
from domain.masking import Mask, mask_value
from domain.permissions import Perm
from domain.principal import Principal
from services import audit
from services.context import Ctx

MaskSpec = Mapping[str, Mask]


def sees_pii(principal: Principal) -> bool:
    return principal.can(Perm.PII_READ)


def mask_record(record: dict[str, Any], spec: MaskSpec) -> dict[str, Any]:
    """A copy with every field named in `spec` masked (nested dicts: `details.field`)."""
    masked = dict(record)
    for key, kind in spec.items():
        head, _, rest = key.partition(".")
        if rest:
            inner = masked.get(head)
            if isinstance(inner, dict) and rest in inner:
                masked[head] = {**inner, rest: mask_value(kind, inner[rest])}
        elif head in masked:
            masked[head] = mask_value(kind, masked[head])
    return masked


async def present(
    ctx: Ctx,
    records: list[dict[str, Any]],
    spec: MaskSpec,
    *,
    target_type: str,
    unit_path: str | None = None,
) -> list[dict[str, Any]]:
    """Records as the caller may see them: masked, or full with an audit entry naming them."""
    if not records:
        return records
    if not sees_pii(ctx.principal):
        return [mask_record(r, spec) for r in records]
    await audit_unmasked(ctx, target_type, [r.get("id") for r in records], unit_path, None)
    return records


async def present_one(
    ctx: Ctx, record: dict[str, Any], spec: MaskSpec, *, target_type: str, unit_path: str | None
) -> dict[str, Any]:
    return (await present(ctx, [record], spec, target_type=target_type, unit_path=unit_path))[0]


async def reveal(
    ctx: Ctx,
    record: dict[str, Any],
    *,
    target_type: str,
    unit_path: str | None,
    reason: str,
) -> dict[str, Any]:
    """One record unmasked on demand by a holder of `pii:reveal` (or `pii:read`), with the
    reason written to the audit trail (R-JUR-3)."""
    if not (ctx.principal.can(Perm.PII_REVEAL) or sees_pii(ctx.principal)):
        raise PermissionDenied()
    if not reason.strip():
        raise Invalid("reason_required", errors=[FieldError("reason", "reason_required")])
    await audit_unmasked(ctx, target_type, [record.get("id")], unit_path, reason)
    return record


async def audit_unmasked(
    ctx: Ctx,
    target_type: str,
    ids: Iterable[Any],
    unit_path: str | None,
    reason: str | None,
) -> None:
    id_list = [str(i) for i in ids if i is not None]
    await audit.record(
        ctx,
        action="pii.reveal" if reason else "pii.read",
        target_type=target_type,
        target_id=id_list[0] if len(id_list) == 1 else None,
        unit_path=unit_path or (None if ctx.principal.sees_everything else ctx.principal.scope),
        after={"ids": id_list},
        reason=reason,
    )


async def export_view(
    ctx: Ctx,
    rows: AsyncIterator[dict[str, Any]],
    spec: MaskSpec,
    *,
    target_type: str,
    filters: dict[str, Any],
) -> AsyncIterator[dict[str, Any]]:
    """Exported rows follow the list's masking (R-EXP-1). An unmasked export is audited up
    front, in the request's transaction, naming its filters."""
    if sees_pii(ctx.principal):
        await audit.record(
            ctx,
            action="pii.export",
            target_type=target_type,
            target_id=None,
            unit_path=None if ctx.principal.sees_everything else ctx.principal.scope,
            after={"filters": {k: str(v) for k, v in filters.items() if v is not None}},
        )
        return rows
    return _masked(rows, spec)


async def _masked(
    rows: AsyncIterator[dict[str, Any]], spec: MaskSpec
) -> AsyncIterator[dict[str, Any]]:
    async for row in rows:
        yield mask_record(row, spec)
