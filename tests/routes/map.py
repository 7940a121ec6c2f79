"""Route table of the map: queries and tiles carry no record id; their jurisdiction is
tested in tests/api/test_map.py (a sibling's area comes back empty or 404 for a unit)."""

UNSCOPED = {
    ("GET", "/api/v1/map/layers"),
    ("POST", "/api/v1/map/query"),
    ("GET", "/api/v1/map/tiles/{layer}/{z}/{x}/{y}.mvt"),
}
