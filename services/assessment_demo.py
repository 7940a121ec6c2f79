"""The demo's assessment rules (issue 4 item 6): the district's rule sets for last year and
this year — last year's from the shipped defaults, this year's copied from it — enabled for
every assessed kind; `services.demo_events` accrues the year under them, so the ledger, the
monthly bulletins, the annual results and the rankings show real figures."""

import uuid

from domain.assessment import KIND_NAMES, Kind
from services import assessment_rules
from services.context import Ctx


async def enable_rule_sets(ctx: Ctx, district_id: uuid.UUID) -> None:
    """Last year's and this year's rule sets of the district, enabled, for every kind."""
    year = ctx.today().year
    for kind in Kind:
        name = f"{year - 1}年{KIND_NAMES[kind]}考核细则"
        last = await assessment_rules.create_rule_set(
            ctx, owner_unit_id=district_id, year=year - 1, kind=kind, name=name, items=None
        )
        this = await assessment_rules.copy_rule_set(ctx, last["id"], year=year)
        for rule_set in (last, this):
            await assessment_rules.set_state(ctx, rule_set["id"], "enabled", expected_version=None)
