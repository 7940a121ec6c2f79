"""Name and title searches use their trigram indexes under row-level security.

A query's own conditions may drive an index scan on a row-secured table only when their
operators are LEAKPROOF, since an index condition runs before the policy; LIKE and ILIKE are
not, so every substring search (people, tags, organisations, places, teams, events) scanned
the whole table and filtered it — 19 s for one name among 2,000,000 people. Their functions
raise an error only for a malformed pattern, and the platform's patterns are always the
caller's own input, never a row's value, so an error can tell nothing about rows the caller
may not see. Declaring them leakproof needs a superuser, which migrations run as.

Revision ID: 0037
Revises: 0032
"""

from alembic import op

revision = "0037"
down_revision = "0032"
branch_labels = None
depends_on = None

FUNCTIONS = ("texticlike(text, text)", "textlike(text, text)")


def upgrade() -> None:
    op.execute("".join(f"ALTER FUNCTION {f} LEAKPROOF;" for f in FUNCTIONS))


def downgrade() -> None:
    op.execute("".join(f"ALTER FUNCTION {f} NOT LEAKPROOF;" for f in FUNCTIONS))
