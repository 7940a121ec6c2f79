"""Domain errors: a stable machine code, message parameters and optional field errors.

They carry no HTTP status; `api/errors.py` maps each class to one and renders problem+json
with the message from `domain.messages` in the caller's language.
"""

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One offending input field; `code` names a message in `domain.messages`."""

    field: str
    code: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)


class DomainError(Exception):
    """Base of every expected failure. `extra` lands as extra members of the problem body."""

    default_code = "error"

    def __init__(
        self,
        code: str | None = None,
        *,
        params: dict[str, Any] | None = None,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
        keep_changes: bool = False,
    ) -> None:
        self.code = code or self.default_code
        self.params = params or {}
        self.errors = errors or []
        self.extra = extra or {}
        # The transaction commits despite the error: its side effect is the point (e.g.
        # revoking a leaked refresh-token family before answering 401).
        self.keep_changes = keep_changes
        super().__init__(self.code)


class BadRequest(DomainError):
    default_code = "bad_request"


class Unauthenticated(DomainError):
    default_code = "unauthenticated"


class PermissionDenied(DomainError):
    default_code = "permission_denied"


class NotFound(DomainError):
    """Unknown, or outside the caller's jurisdiction: the two are indistinguishable (R-JUR-1)."""

    default_code = "not_found"


class Conflict(DomainError):
    default_code = "conflict"


class PreconditionFailed(DomainError):
    default_code = "precondition_failed"


class TooLarge(DomainError):
    """A body or file over its size limit."""

    default_code = "too_large"


class Invalid(DomainError):
    """Input that is well-formed but breaks a rule."""

    default_code = "validation_failed"


class RateLimited(DomainError):
    default_code = "rate_limited"
