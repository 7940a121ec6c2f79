"""Alembic runs as the database owner (never the application role), synchronously."""

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

import services.models  # noqa: F401  (registers the tables)
from services.models.base import Base
from services.settings import get_settings


def _owner_url() -> str:
    url = context.config.attributes.get("url") or get_settings().owner_url
    return make_url(url).set(drivername="postgresql+psycopg2").render_as_string(False)


def run_migrations_online() -> None:
    engine = create_engine(_owner_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_object=alembic_helpers.include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
