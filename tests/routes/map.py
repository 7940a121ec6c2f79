"""Route table of the map: queries and tiles carry no record id; their jurisdiction is
tested in tests/api/test_map.py (a sibling's area comes back empty or 404 for a unit). A
position report is the caller's own (tests/api/test_positions.py)."""

UNSCOPED = {
    ("GET", "/api/v1/map/layers"),
    ("POST", "/api/v1/map/query"),
    ("GET", "/api/v1/map/tiles/{layer}/{z}/{x}/{y}.mvt"),
    ("PUT", "/api/v1/me/position"),
}
