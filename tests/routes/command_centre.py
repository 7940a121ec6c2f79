"""Route table of the command centre and the analysis (R-CMD-1, R-ANA-1): dashboards over
the caller's jurisdiction (tests/api/test_command_centre.py proves a sibling sees only its
own); a statistic about a named unit answers 404 outside it."""

from tests.routes import Call, Setup

UNSCOPED = {("GET", "/api/v1/command-centre/summary")}


def _about_s1(path: str) -> Setup:
    return lambda world: Call(path, params={"unit_id": str(world.s1.id)})


SCOPED: dict[tuple[str, str], Setup] = {
    ("GET", f"/api/v1/analysis/{{subject}}/{view}"): _about_s1(f"/api/v1/analysis/events/{view}")
    for view in ("by-region", "by-type", "trend")
}
