import uuid

from pydantic import Field

from api.schemas.common import Input, Output


class TokenRequest(Input):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(Input):
    refresh_token: str = Field(min_length=10, max_length=256)


class TokenOut(Output):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str


class UnitRef(Output):
    id: uuid.UUID
    code: str
    name: str
    level: str


class DepartmentRef(Output):
    id: uuid.UUID
    code: str
    name: str
    unit_id: uuid.UUID


class MeOut(Output):
    id: uuid.UUID
    username: str
    full_name: str
    is_superuser: bool
    unit: UnitRef | None
    department: DepartmentRef | None
    roles: list[str]
    permissions: list[str]
