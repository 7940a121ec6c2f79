"""Route table of the Open311 GeoReport v2 facade (R-API-2, R-JUR-1). The reads are public,
as the GeoReport v2 spec has them ("Requires API Key: No") and SPEC §11 wants standard
clients to track requests: they show only the published requests filed through Open311
(services/open311.py), never a person's data. Filing a request takes an agency's API key,
not a user's token, so it stands outside the user matrix: the key's scope bounds where it
files (tests/api/test_open311_post.py::test_r_api_2_post_location)."""

PREFIX = "/open311/v2"

PUBLIC = {
    ("GET", f"{PREFIX}/discovery.{{format}}"),
    ("GET", f"{PREFIX}/services.{{format}}"),
    ("GET", f"{PREFIX}/services/{{service_code}}.{{format}}"),
    ("GET", f"{PREFIX}/requests.{{format}}"),
    ("GET", f"{PREFIX}/requests/{{service_request_id}}.{{format}}"),
    ("GET", f"{PREFIX}/tokens/{{token}}.{{format}}"),
}

UNSCOPED = {("POST", f"{PREFIX}/requests.{{format}}")}
