"""Who is acting: identity, home, jurisdiction and permissions (R-ORG-3, R-JUR-1)."""

import uuid
from dataclasses import dataclass

SYSTEM_SCOPE = "*"


def within(path: str, ancestor: str) -> bool:
    """`path` is `ancestor` or lies below it (ltree paths as text): the jurisdiction rule."""
    return path == ancestor or path.startswith(ancestor + ".")


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID | None
    username: str
    full_name: str
    unit_id: uuid.UUID | None
    department_id: uuid.UUID | None
    # An ltree path of unit ids, or SYSTEM_SCOPE for the whole tree.
    scope: str
    roles: tuple[str, ...]
    permissions: frozenset[str]
    is_superuser: bool = False
    # Set when an agency's API key acts (R-API-1): audit entries name the key as the actor.
    api_key_id: uuid.UUID | None = None

    def can(self, permission: str) -> bool:
        return self.is_superuser or permission in self.permissions

    @property
    def sees_everything(self) -> bool:
        return self.scope == SYSTEM_SCOPE


SYSTEM = Principal(
    user_id=None,
    username="system",
    full_name="系统",
    unit_id=None,
    department_id=None,
    scope=SYSTEM_SCOPE,
    roles=(),
    permissions=frozenset(),
    is_superuser=True,
)

# A citizen on the public form: the platform reports on their behalf, and that is all.
PUBLIC = Principal(
    user_id=None,
    username="public",
    full_name="群众",
    unit_id=None,
    department_id=None,
    scope=SYSTEM_SCOPE,
    roles=(),
    permissions=frozenset({"event:report"}),
)
