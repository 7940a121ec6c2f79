"""Who decides an appeal against a verification (R-WF-2). Pure.

The appellant (the unit or department whose step was judged) and the evaluator (the unit that
verified) are parties; the decision belongs to the nearest level above both of them: the
lowest unit whose jurisdiction holds both paths, or the one above it when that unit is itself
a party (a community appealing against its own grid worker's verification goes to the
street)."""

from domain.permissions import Role
from domain.principal import Principal, within
from domain.workflow import Actor


def deciding_path(evaluator_path: str, appellant_path: str) -> str:
    """The path of the unit that decides (ltree paths of unit ids, as text)."""
    evaluator, appellant = evaluator_path.split("."), appellant_path.split(".")
    common: list[str] = []
    for left, right in zip(evaluator, appellant, strict=False):
        if left != right:
            break
        common.append(left)
    if common in (evaluator, appellant) and len(common) > 1:
        common.pop()
    return ".".join(common)


def deciders(
    principal: Principal, *, evaluator_path: str, appellant_path: str, party: bool
) -> frozenset[Actor]:
    """How the caller stands to the decision: a manager whose jurisdiction holds the deciding
    unit, who is not a party (`party`: acts for the appellant or the evaluator), as superior
    and, holding the role, as leader."""
    if party or principal.department_id is not None:
        return frozenset()
    if not principal.sees_everything and not within(
        deciding_path(evaluator_path, appellant_path), principal.scope
    ):
        return frozenset()
    found = {Actor.SUPERIOR}
    if principal.sees_everything or Role.LEADER.value in principal.roles:
        found.add(Actor.LEADER)
    return frozenset(found)
