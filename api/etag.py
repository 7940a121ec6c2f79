"""ETags from row versions; `If-Match` parsed into the version a write expects."""

from fastapi import Response

from domain.errors import BadRequest
from domain.versioning import etag


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def expected_version(if_match: str | None) -> int | None:
    """The version named by `If-Match`, None when absent or `*`; a malformed header is 400."""
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip()
    if value.startswith("W/"):
        value = value[2:]
    try:
        return int(value.strip('"'))
    except ValueError as exc:
        raise BadRequest("if_match_invalid") from exc
