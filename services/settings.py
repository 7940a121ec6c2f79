"""Configuration, only from environment variables, with working local defaults (API.md)."""

from functools import cache

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRID_", extra="ignore")

    # The application connects as `grid_app`: neither superuser nor table owner, so row-level
    # security applies to it. Migrations and database creation use the owner URL.
    database_url: str = "postgresql+asyncpg://grid_app@127.0.0.1:5432/grid"
    owner_database_url: str = ""
    # Connections each process keeps open, and how many more it may open at a peak. Opening
    # one costs the server a backend and the driver its type introspection — several times a
    # point read — so a steady load must be served by kept connections: a request beyond
    # them waits for one (up to `db_pool_timeout_seconds`) instead of opening and closing its
    # own, which under sixteen concurrent reads cost the API two thirds of its throughput.
    db_pool_size: int = 16
    db_max_overflow: int = 4
    db_pool_timeout_seconds: float = 30.0
    redis_url: str = "redis://127.0.0.1:6379/0"
    secret_key: str = "change-me-in-production-0123456789abcdef"
    storage_dir: str = "var/storage"
    # Attachments (R-EVT-1): `local` keeps them under `storage_dir`; `s3` in a bucket of any
    # S3-compatible store.
    storage_backend: str = "local"
    s3_endpoint_url: str = ""
    s3_bucket: str = "grid-attachments"
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    timezone: str = "Asia/Shanghai"
    access_token_minutes: int = 15
    refresh_token_days: int = 14
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    # `/readyz` gives each dependency this long to answer.
    ready_timeout_seconds: float = 2.0
    # SMS (R-WF-5): `log` writes messages to the log; `http` posts them to a gateway.
    sms_gateway: str = "log"
    sms_url: str = ""
    sms_token: str = ""
    # Webhooks (R-API-3) never reach private, loopback or reserved addresses; the operator may
    # open chosen ones (comma-separated addresses or CIDR blocks), e.g. an intranet receiver.
    webhook_allow_networks: str = ""

    @property
    def owner_url(self) -> str:
        """The owner's URL: explicit, or the app URL with the `postgres` superuser."""
        if self.owner_database_url:
            return self.owner_database_url
        return make_url(self.database_url).set(username="postgres").render_as_string(False)

    @property
    def database_name(self) -> str:
        return make_url(self.database_url).database or "grid"


@cache
def get_settings() -> Settings:
    return Settings()
