"""Route table of the foundation: org units, grids, departments, users, audit (R-JUR-1)."""

from typing import Any

from tests.factories import geojson, square
from tests.routes import Call, ListEntry, Setup

UNSCOPED = {
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/org-units"),
    ("GET", "/api/v1/grids"),
    ("GET", "/api/v1/departments"),
    ("GET", "/api/v1/users"),
    ("GET", "/api/v1/roles"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/audit/verify"),
    ("GET", "/api/v1/audit/export"),
    ("GET", "/api/v1/org-units/export"),
    ("GET", "/api/v1/grids/export"),
    ("GET", "/api/v1/departments/export"),
    ("GET", "/api/v1/users/export"),
}

LISTS: list[ListEntry] = [
    "/api/v1/org-units",
    "/api/v1/grids",
    "/api/v1/departments",
    "/api/v1/users",
    "/api/v1/audit",
]


def _line_through(lon: float) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [[lon, 39.39], [lon, 39.46]]}


# For each scoped route: a request touching a record inside street S1's subtree.
SCOPED: dict[tuple[str, str], Setup] = {
    ("POST", "/api/v1/org-units"): lambda w: Call(
        "/api/v1/org-units",
        {"code": "653101001003", "name": "新社区", "level": "community", "parent_id": str(w.s1.id)},
    ),
    ("GET", "/api/v1/org-units/{unit_id}"): lambda w: Call(f"/api/v1/org-units/{w.c1.id}"),
    ("PATCH", "/api/v1/org-units/{unit_id}"): lambda w: Call(
        f"/api/v1/org-units/{w.c1.id}", {"name": "改名社区"}
    ),
    ("DELETE", "/api/v1/org-units/{unit_id}"): lambda w: Call(f"/api/v1/org-units/{w.c2.id}"),
    ("GET", "/api/v1/org-units/{unit_id}/coverage"): lambda w: Call(
        f"/api/v1/org-units/{w.c1.id}/coverage"
    ),
    ("POST", "/api/v1/grids"): lambda w: Call(
        "/api/v1/grids",
        {
            "code": "653101001001003",
            "name": "新网格",
            "parent_id": str(w.c1.id),
            "geometry": geojson(square(75.90, 39.45, 75.95, 39.50)),
        },
    ),
    ("GET", "/api/v1/grids/locate"): lambda w: Call(
        "/api/v1/grids/locate", params={"lon": 75.92, "lat": 39.42}
    ),
    ("POST", "/api/v1/grids/merge"): lambda w: Call(
        "/api/v1/grids/merge", {"grid_ids": [str(w.g1.id), str(w.g2.id)]}
    ),
    ("GET", "/api/v1/grids/{grid_id}"): lambda w: Call(f"/api/v1/grids/{w.g1.id}"),
    ("PATCH", "/api/v1/grids/{grid_id}"): lambda w: Call(
        f"/api/v1/grids/{w.g1.id}", {"name": "改名网格"}
    ),
    ("DELETE", "/api/v1/grids/{grid_id}"): lambda w: Call(f"/api/v1/grids/{w.g2.id}"),
    ("GET", "/api/v1/grids/{grid_id}/history"): lambda w: Call(f"/api/v1/grids/{w.g1.id}/history"),
    ("POST", "/api/v1/grids/{grid_id}/split"): lambda w: Call(
        f"/api/v1/grids/{w.g2.id}/split",
        {"line": _line_through(75.975), "new_grids": [{"code": "653101001001009", "name": "拆分"}]},
    ),
    ("POST", "/api/v1/grids/{grid_id}/move-records"): lambda w: Call(
        f"/api/v1/grids/{w.g1.id}/move-records", {"target_grid_id": str(w.g2.id)}
    ),
    ("POST", "/api/v1/departments"): lambda w: Call(
        "/api/v1/departments", {"code": "MZ-S1", "name": "民政所", "unit_id": str(w.s1.id)}
    ),
    ("GET", "/api/v1/departments/{department_id}"): lambda w: Call(
        f"/api/v1/departments/{w.dept_s1.id}"
    ),
    ("PATCH", "/api/v1/departments/{department_id}"): lambda w: Call(
        f"/api/v1/departments/{w.dept_s1.id}", {"name": "改名派出所"}
    ),
    ("DELETE", "/api/v1/departments/{department_id}"): lambda w: Call(
        f"/api/v1/departments/{w.dept_s1.id}"
    ),
    ("POST", "/api/v1/users"): lambda w: Call(
        "/api/v1/users",
        {
            "username": "new_worker_c1",
            "password": "Passw0rd!",
            "full_name": "新网格员",
            "unit_id": str(w.c1.id),
            "roles": ["community_staff"],
        },
    ),
    ("GET", "/api/v1/users/{user_id}"): lambda w: Call(f"/api/v1/users/{w.worker_g1.id}"),
    ("PATCH", "/api/v1/users/{user_id}"): lambda w: Call(
        f"/api/v1/users/{w.worker_g1.id}", {"full_name": "改名"}
    ),
}

# The calendar is one national table, not territorial data.
UNSCOPED |= {("GET", "/api/v1/calendar"), ("PUT", "/api/v1/calendar/{day}")}
