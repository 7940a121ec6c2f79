"""Committed contracts: the OpenAPI document matches the app, and `domain/` stays pure."""

import ast
import json
from pathlib import Path

from cli.main import openapi_document

ROOT = Path(__file__).resolve().parent.parent
IO_LIBRARIES = {
    "sqlalchemy",
    "geoalchemy2",
    "asyncpg",
    "psycopg2",
    "fastapi",
    "starlette",
    "redis",
    "arq",
    "httpx",
    "requests",
    "aiohttp",
    "urllib3",
    "socket",
    "alembic",
    "uvicorn",
    "boto3",
}


def test_committed_openapi_matches_the_app() -> None:
    """`openapi/openapi.json` is regenerated with `make openapi` whenever the API changes."""
    committed = json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    assert committed == json.loads(openapi_document())


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_imports_no_io_library() -> None:
    """STYLE: `domain/` holds pure rules; I/O belongs to services/, api/ and workers/."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            _imported_roots(path) & (IO_LIBRARIES | {"api", "services", "workers"})
        )
        for path in (ROOT / "domain").rglob("*.py")
    }
    assert {name: libs for name, libs in offenders.items() if libs} == {}


def test_the_purity_check_catches_an_io_import(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import json\nfrom sqlalchemy import select\n", encoding="utf-8")
    assert "sqlalchemy" in _imported_roots(sample)
