"""R-WF-2: an appeal is decided at the nearest level above both parties, never by a party."""

import uuid

from domain.appeals import deciders, deciding_path
from domain.principal import Principal
from domain.workflow import Actor

D, S1, S2, C1, G1 = "d", "d.s1", "d.s2", "d.s1.c1", "d.s1.c1.g1"


def manager(scope: str, *roles: str, department: bool = False) -> Principal:
    return Principal(
        user_id=uuid.uuid4(),
        username="m",
        full_name="m",
        unit_id=None if department else uuid.uuid4(),
        department_id=uuid.uuid4() if department else None,
        scope=scope,
        roles=roles or ("street_operator",),
        permissions=frozenset(),
    )


def test_the_deciding_level_is_above_both_parties() -> None:
    # A community against its own grid worker's verdict: the street decides.
    assert deciding_path(G1, C1) == S1
    # A department of the street against the community's verdict: the street decides.
    assert deciding_path(C1, S1) == D
    # Parties in two streets: the district above both.
    assert deciding_path("d.s1.c1", "d.s2.c3") == D
    # Two grids of one community: the community.
    assert deciding_path("d.s1.c1.g1", "d.s1.c1.g2") == C1
    # Nothing above the root: the root decides.
    assert deciding_path("d", "d.s1") == D


def test_deciders_stand_above_the_deciding_level_and_are_not_parties() -> None:
    paths = {"evaluator_path": G1, "appellant_path": C1}
    assert deciders(manager(S1), **paths, party=False) == {Actor.SUPERIOR}
    assert deciders(manager(D, "leader"), **paths, party=False) == {Actor.SUPERIOR, Actor.LEADER}
    assert deciders(manager(S2), **paths, party=False) == frozenset()
    assert deciders(manager(C1, "leader"), **paths, party=False) == frozenset()
    assert deciders(manager(S1), **paths, party=True) == frozenset()
    assert deciders(manager(S1, department=True), **paths, party=False) == frozenset()
