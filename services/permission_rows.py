"""SQL that ships permissions and their role grants (R-ORG-3) for the migrations: rows that
exist are kept, so a revision may name permissions an earlier one already loaded."""

from collections.abc import Iterable

from domain.permissions import PERMISSION_DESCRIPTIONS, ROLE_GRANTS, Perm


def quote(value: str) -> str:
    """A SQL string literal (the values are constants of the catalogue, never input)."""
    return "'" + value.replace("'", "''") + "'"


def grant_sql(perms: Iterable[Perm]) -> str:
    """INSERTs for the permissions and every shipped grant of them."""
    wanted = sorted(set(perms))
    grants = [(r, p) for r, held in ROLE_GRANTS.items() for p in sorted(held) if p in wanted]
    sql = (
        "INSERT INTO permissions (code, description) VALUES "
        + ", ".join(f"({quote(p.value)}, {quote(PERMISSION_DESCRIPTIONS[p])})" for p in wanted)
        + " ON CONFLICT DO NOTHING;\n"
    )
    if grants:
        sql += (
            "INSERT INTO role_permissions (role_code, permission_code) VALUES "
            + ", ".join(f"({quote(r.value)}, {quote(p.value)})" for r, p in grants)
            + " ON CONFLICT DO NOTHING;\n"
        )
    return sql


def revoke_sql(perms: Iterable[Perm]) -> str:
    """DELETEs undoing `grant_sql` for the permissions (the downgrade)."""
    codes = ", ".join(quote(p.value) for p in sorted(set(perms)))
    return (
        f"DELETE FROM role_permissions WHERE permission_code IN ({codes});\n"
        f"DELETE FROM permissions WHERE code IN ({codes});\n"
    )
