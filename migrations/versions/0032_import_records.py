"""Imports of houses, rentals, places, teams, components and video points (R-IMP-1): the
upload's coordinate system, and pool identities as long as an address.

Revision ID: 0032
Revises: 0031
"""

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE imports ADD COLUMN crs varchar(8) NOT NULL DEFAULT 'wgs84';"
        "ALTER TABLE import_rows ALTER COLUMN name TYPE varchar(300),"
        " ALTER COLUMN id_number TYPE varchar(300);"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE import_rows ALTER COLUMN name TYPE varchar(200),"
        " ALTER COLUMN id_number TYPE varchar(32);"
        "ALTER TABLE imports DROP COLUMN crs;"
    )
