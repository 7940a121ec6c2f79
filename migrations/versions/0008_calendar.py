"""Working-day calendar as data (R-SUP-3): the exceptions to the Monday–Friday week, shipped
from the maintained `chinese-calendar` package for the years it covers and editable by admins.

Revision ID: 0008
Revises: 0007
"""

from datetime import date

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE calendar_days (
    day date PRIMARY KEY,
    kind varchar(8) NOT NULL CHECK (kind IN ('off', 'work')),
    name varchar(64) NOT NULL DEFAULT '',
    source varchar(16) NOT NULL DEFAULT 'package' CHECK (source IN ('package', 'admin')),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by uuid
);
GRANT SELECT, INSERT, UPDATE, DELETE ON calendar_days TO grid_app;
"""


CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争胜利70周年纪念日",
}


def _shipped_rows() -> str:
    from chinese_calendar import constants

    def row(day: date, kind: str, name: str) -> str:
        return f"('{day.isoformat()}', '{kind}', '{name.replace(chr(39), chr(39) * 2)}')"

    # Weekend days inside a holiday are off anyway; only weekday holidays are exceptions.
    off = [
        row(day, "off", CHINESE_NAMES.get(name, name))
        for day, name in sorted(constants.holidays.items())
        if day.weekday() < 5
    ]
    work = [row(day, "work", "调休上班") for day in sorted(constants.workdays)]
    return "INSERT INTO calendar_days (day, kind, name) VALUES " + ", ".join(off + work) + ";"


def upgrade() -> None:
    op.execute(SCHEMA)
    op.execute(_shipped_rows())


def downgrade() -> None:
    op.execute("DROP TABLE calendar_days;")
