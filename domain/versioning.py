"""Optimistic concurrency: every resource has a version; its ETag is derived from it."""

from domain.errors import PreconditionFailed


def etag(version: int) -> str:
    return f'"{version}"'


def check_version(expected: int | None, current: int) -> None:
    """A write naming a version (If-Match) that is no longer current is refused (412)."""
    if expected is not None and expected != current:
        raise PreconditionFailed(extra={"current_etag": etag(current)})
