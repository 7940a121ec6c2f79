import uuid
from typing import Annotated

from pydantic import Field

from api.schemas.common import Input, Instant, Output
from services.exporting import Column

Phone = Annotated[str | None, Field(default=None, pattern=r"^[0-9+\-]{5,20}$")]


class UserCreate(Input):
    username: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,64}$")]
    password: Annotated[str, Field(min_length=8, max_length=128)]
    full_name: Annotated[str, Field(min_length=1, max_length=100)]
    phone: Phone = None
    unit_id: uuid.UUID | None = None
    department_id: uuid.UUID | None = None
    roles: Annotated[list[str], Field(max_length=10, default_factory=list)]


class UserUpdate(Input):
    full_name: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    phone: Phone = None
    is_active: bool | None = None
    password: Annotated[str | None, Field(min_length=8, max_length=128)] = None
    roles: Annotated[list[str] | None, Field(max_length=10)] = None


class UserOut(Output):
    id: uuid.UUID
    username: str
    full_name: str
    phone: str | None
    unit_id: uuid.UUID | None
    department_id: uuid.UUID | None
    is_superuser: bool
    is_active: bool
    roles: list[str]
    version: int
    created_at: Instant
    updated_at: Instant


class RoleOut(Output):
    code: str
    name: str
    permissions: list[str]


class AuditEntryOut(Output):
    id: int
    at: Instant
    actor_id: uuid.UUID | None
    actor_name: str | None
    action: str
    target_type: str
    target_id: str | None
    before: dict[str, object] | None
    after: dict[str, object] | None
    reason: str | None
    request_id: str | None
    hash: str


AUDIT_COLUMNS = [
    Column("id", "序号"),
    Column("at", "时间"),
    Column("actor_name", "操作人"),
    Column("action", "操作"),
    Column("target_type", "对象类型"),
    Column("target_id", "对象"),
    Column("reason", "理由"),
    Column("before", "变更前"),
    Column("after", "变更后"),
    Column("request_id", "请求编号"),
    Column("hash", "哈希"),
]


class ChainReportOut(Output):
    intact: bool
    entries: int
    first_broken_id: int | None
    tail_missing: bool
    head_id: int | None


USER_COLUMNS = [
    Column("username", "用户名"),
    Column("full_name", "姓名"),
    Column("phone", "电话"),
    Column("unit_id", "所属单位"),
    Column("department_id", "所属部门"),
    Column("is_active", "启用"),
    Column("created_at", "创建时间"),
]
