"""Contracts over the whole app, enumerated rather than sampled: the committed OpenAPI
document matches the app, `domain/` stays pure, every error code has its Chinese and English
message, every PATCH/DELETE honours If-Match, every list pages by keyset, and every request
body refuses unknown fields (API.md conventions)."""

import ast
import json
import re
import string
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from httpx import AsyncClient
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.routers import ROUTERS
from api.schemas.common import PageOut
from cli.main import openapi_document
from domain.errors import DomainError
from domain.messages import MESSAGES
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth
from tests.routes import collect, prepare

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


# ---- error codes: every one has its messages -------------------------------------------

SOURCE_PACKAGES = ("api", "services", "domain", "workers", "cli")


def _error_classes() -> set[str]:
    found, todo = {DomainError.__name__}, [DomainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub.__name__)
            todo.append(sub)
    return found


# A callable's argument that is a message code: its position (-1: keyword only) and name.
Argument = tuple[int, str]
Sites = dict[str, set[Argument]]
CODE_ARGUMENT: Sites = {
    **{name: {(0, "code")} for name in _error_classes()},
    "FieldError": {(1, "code")},
    "problem": {(2, "code")},
    "render": {(0, "code")},
}
# `exc.code` / `error.code`: a code re-raised, checked where the error was made.
CHECKED_ATTRIBUTE = "code"

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class _Module:
    name: str
    tree: ast.Module
    parents: dict[ast.AST, ast.AST]

    def enclosing_function(self, node: ast.AST) -> Function | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, Function):
                return node
        return None

    def assignments(self, scope: ast.AST, name: str) -> list[tuple[ast.expr, int | None]]:
        """The values assigned to `name` within a function (or a module's top level), each
        with the name's position when it is unpacked from a tuple."""
        nodes = ast.walk(scope) if isinstance(scope, Function) else iter(self.tree.body)
        found: list[tuple[ast.expr, int | None]] = []
        for node in nodes:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name) and target.id == name:
                        found.append((node.value, None))
                    elif isinstance(target, ast.Tuple):
                        names = [t.id if isinstance(t, ast.Name) else "" for t in target.elts]
                        if name in names:
                            found.append((node.value, names.index(name)))
        return found


def _parse(paths: list[Path]) -> list[_Module]:
    modules = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        modules.append(_Module(str(path.relative_to(path.parents[1])), tree, parents))
    return modules


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _helper_key(module: _Module, name: str) -> str:
    """Private helpers are told apart by module (several modules have an `_invalid`)."""
    return f"{module.name}::{name}" if name.startswith("_") else name


def _site_key(module: _Module, name: str, sites: Sites) -> str:
    private = f"{module.name}::{name}"
    return private if private in sites else name


def _returns_text(function: Function) -> bool:
    """Annotated `-> str` or `-> str | None`."""
    return function.returns is not None and ast.unparse(function.returns) in (
        "str",
        "str | None",
    )


class CodeFinder:
    """Every message code the source can raise or render, traced back from the call sites
    of CODE_ARGUMENT through literals, conditionals, module constants, lookup tables,
    attributes set by keyword, and the parameters of helpers that pass a code on (whose own
    call sites are traced in turn). What cannot be traced is reported, never skipped."""

    def __init__(self, paths: list[Path]) -> None:
        self.modules = _parse(paths)
        self.codes: dict[str, str] = {}
        self.untraced: list[str] = []
        self.traced: set[int] = set()
        # Where an attribute gets its value: keyword arguments and class-level assignments.
        self.attributes: dict[str, list[tuple[_Module, ast.AST, ast.expr]]] = {}
        # What a function returns (codes handed back by domain checks).
        self.returns: dict[str, list[tuple[_Module, ast.expr]]] = {}
        for module in self.modules:
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call):
                    for keyword in node.keywords:
                        if keyword.arg:
                            self.attributes.setdefault(keyword.arg, []).append(
                                (module, node, keyword.value)
                            )
                elif isinstance(node, ast.ClassDef):
                    for item in node.body:
                        if isinstance(item, ast.Assign) and isinstance(item.targets[0], ast.Name):
                            self.attributes.setdefault(item.targets[0].id, []).append(
                                (module, item, item.value)
                            )
                elif isinstance(node, Function) and _returns_text(node):
                    self.returns[node.name] = [
                        (module, r.value)
                        for r in ast.walk(node)
                        if isinstance(r, ast.Return)
                        and r.value is not None
                        and not (isinstance(r.value, ast.Constant) and r.value.value is None)
                    ]

    def run(self) -> "CodeFinder":
        sites: Sites = {name: set(arguments) for name, arguments in CODE_ARGUMENT.items()}
        done: set[tuple[int, str, Argument]] = set()
        while pending := [
            (module, node, key, argument)
            for module in self.modules
            for node in ast.walk(module.tree)
            if isinstance(node, ast.Call)
            and (key := _site_key(module, _callee(node) or "", sites)) in sites
            for argument in sites[key]
            if (id(node), key, argument) not in done
        ]:
            for module, node, key, (position, keyword) in pending:
                done.add((id(node), key, (position, keyword)))
                if 0 <= position < len(node.args) and not isinstance(
                    node.args[position], ast.Starred
                ):
                    arg: ast.expr | None = node.args[position]
                else:
                    arg = next((k.value for k in node.keywords if k.arg == keyword), None)
                if arg is not None:
                    found = self._trace(module, node, arg, f"{module.name}:{node.lineno}")
                    for helper, arguments in found.items():
                        sites.setdefault(helper, set()).update(arguments)
        return self

    def _trace(self, module: _Module, at: ast.AST, expr: ast.expr, where: str) -> Sites:
        """Record the codes `expr` can hold; return the helpers that pass a parameter on."""
        if id(expr) in self.traced:
            return {}
        self.traced.add(id(expr))
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            self.codes.setdefault(expr.value, where)
            return {}
        if isinstance(expr, ast.IfExp):
            return self._all(module, at, [expr.body, expr.orelse], where)
        if isinstance(expr, ast.Call) and _callee(expr) == "get" and len(expr.args) == 2:
            assert isinstance(expr.func, ast.Attribute)
            self._table(module, at, expr.func.value, None, where)
            return self._trace(module, at, expr.args[1], where)
        if isinstance(expr, ast.BoolOp):
            return self._all(module, at, expr.values, where)
        if isinstance(expr, ast.Call) and (returns := self.returns.get(_callee(expr) or "")):
            for owner, value in returns:
                self._trace(owner, value, value, where)
            return {}
        if isinstance(expr, ast.Attribute):
            if expr.attr == CHECKED_ATTRIBUTE:
                return {}
            values = self.attributes.get(expr.attr, [])
            if not values:
                self.untraced.append(f"{where}: {ast.unparse(expr)}")
            for owner, node, value in values:
                self._trace(owner, node, value, where)
            return {}
        if isinstance(expr, ast.Name):
            return self._name(module, at, expr.id, where)
        self.untraced.append(f"{where}: {ast.unparse(expr)}")
        return {}

    def _all(self, module: _Module, at: ast.AST, exprs: list[ast.expr], where: str) -> Sites:
        forwarded: Sites = {}
        for expr in exprs:
            for helper, arguments in self._trace(module, at, expr, where).items():
                forwarded.setdefault(helper, set()).update(arguments)
        return forwarded

    def _name(self, module: _Module, at: ast.AST, name: str, where: str) -> Sites:
        function = module.enclosing_function(at)
        for scope in (function, module.tree):
            if scope is None:
                continue
            assigned = module.assignments(scope, name)
            for value, index in assigned:
                if index is None:
                    self._trace(module, value, value, where)
                elif isinstance(value, ast.Tuple):
                    self._trace(module, value, value.elts[index], where)
                elif isinstance(value, ast.Subscript):
                    self._table(module, value, value.value, index, where)
                else:
                    self.untraced.append(f"{where}: {ast.unparse(value)}")
            if assigned:
                return {}
            if isinstance(scope, Function):
                parameters = [a.arg for a in scope.args.args]
                if name in parameters:
                    return {_helper_key(module, scope.name): {(parameters.index(name), name)}}
                if name in [a.arg for a in scope.args.kwonlyargs]:
                    return {_helper_key(module, scope.name): {(-1, name)}}
        self.untraced.append(f"{where}: {name}")
        return {}

    def _table(
        self, module: _Module, at: ast.AST, table: ast.expr, index: int | None, where: str
    ) -> None:
        """The values of a dict literal (or a named one): element `index` of tuple values."""
        if isinstance(table, ast.Name):
            assigned = module.assignments(module.tree, table.id)
            table = assigned[0][0] if assigned else table
        if not isinstance(table, ast.Dict):
            self.untraced.append(f"{where}: {ast.unparse(table)}")
            return
        for value in table.values:
            if index is not None and isinstance(value, ast.Tuple):
                value = value.elts[index]
            self._trace(module, at, value, where)


def _source_files() -> list[Path]:
    return [path for package in SOURCE_PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]


def test_every_error_code_has_a_chinese_and_an_english_message() -> None:
    """API.md: stable codes with Chinese and English messages. A code without an entry would
    silently render the generic "request failed" text."""
    finder = CodeFinder(_source_files()).run()
    assert finder.untraced == []
    assert len(finder.codes) > 100
    assert {code: where for code, where in finder.codes.items() if code not in MESSAGES} == {}
    # …and the catalogue holds no message nothing can raise.
    assert set(MESSAGES) - set(finder.codes) == set()


def test_the_code_finder_follows_helpers_tables_and_keywords(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    sample = tmp_path / "pkg" / "sample.py"
    sample.write_text(
        "TABLE = {'a': ('code_in_table', 'field')}\n"
        "DIRECT = 'code_in_constant'\n"
        "def _fail(field, code):\n"
        "    raise Invalid(code, errors=[FieldError(field, code)])\n"
        "def check(x, kind):\n"
        "    _fail('f', 'code_through_helper')\n"
        "    name, field = TABLE[x]\n"
        "    raise NotFound(name if x else DIRECT)\n"
        "def lookup(kind):\n"
        "    raise Conflict(kind.taken)\n"
        "def answer(request, code, *, title=None):\n"
        "    where, fallback = 'x', 'code_in_tuple'\n"
        "    return render(title or code or fallback)\n"
        "answer(None, 'code_positional', title='code_keyword_only')\n"
        "KIND = Kind(taken='code_by_keyword')\n"
        "def unknown(value):\n"
        "    raise Invalid(value.upper())\n",
        encoding="utf-8",
    )
    finder = CodeFinder([sample]).run()
    assert set(finder.codes) == {
        "code_in_table",
        "code_in_constant",
        "code_through_helper",
        "code_by_keyword",
        "code_in_tuple",
        "code_positional",
        "code_keyword_only",
    }
    assert finder.untraced == ["pkg/sample.py:17: value.upper()"]


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_each_message_reads_in_both_languages_with_the_same_parameters(code: str) -> None:
    zh, en = MESSAGES[code]
    assert re.search(r"[\u4e00-\u9fff]", zh), zh
    assert re.search(r"[A-Za-z]", en) and not re.search(r"[\u4e00-\u9fff]", en), en

    def parameters(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    assert parameters(zh) == parameters(en)


# ---- routes: If-Match, pagination, closed bodies ----------------------------------------


def _routes() -> list[tuple[str, APIRoute]]:
    return [
        (method, route)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods or ())
    ]


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _headers(route: APIRoute) -> set[str]:
    return {p.alias.lower() for d in _dependants(route.dependant) for p in d.header_params}


def _query(route: APIRoute) -> set[str]:
    return {p.alias for d in _dependants(route.dependant) for p in d.query_params}


def test_every_patch_and_delete_takes_if_match() -> None:
    writes = [(m, r.path) for m, r in _routes() if m in ("PATCH", "DELETE")]
    assert len(writes) > 20
    assert [
        (m, r.path)
        for m, r in _routes()
        if m in ("PATCH", "DELETE") and "if-match" not in _headers(r)
    ] == []


TABLE = collect()
SCOPED_WRITES = sorted(key for key in TABLE.scoped if key[0] in ("PATCH", "DELETE"))


@pytest.mark.parametrize(("method", "path"), SCOPED_WRITES, ids=str)
async def test_every_patch_and_delete_refuses_a_stale_if_match(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    method: str,
    path: str,
) -> None:
    """A write naming a version the record no longer has is 412 and changes nothing; the
    route table's request for each route is the one that succeeds without If-Match."""
    call = await prepare(TABLE.scoped[(method, path)], session, world, clock)
    headers = {**auth(world.admin_d, clock), **call.headers, "If-Match": '"987654"'}
    response = await client.request(
        method, call.path, json=call.json, params=call.params, headers=headers
    )
    assert_problem(response, 412, "precondition_failed")


# Plain-list GETs: catalogues of bounded size, one record's own history, and the cards of one
# event (API.md fixes that one as a bare array). Anything else that lists must page.
UNPAGED_LISTS = {
    "/api/v1/roles",
    "/api/v1/tag-kinds",
    "/api/v1/settings",
    "/api/v1/map/layers",
    "/api/v1/dictionaries/event_subtype",
    "/api/v1/calendar",  # one year of days
    "/api/v1/grids/{grid_id}/history",
    "/api/v1/addresses/{address_id}/history",
    "/api/v1/houses/{house_id}/history",
    "/api/v1/rentals/{rental_id}/history",
    "/api/v1/people/{person_id}/history",
    "/api/v1/tags/{tag_id}/history",
    "/api/v1/events/{event_id}/supervisions",
    "/api/v1/imports/templates",  # one per registry
}


# Feeds page by their own fixed parameter instead of an opaque cursor (API.md R-API-3).
FEEDS = {"/api/v1/changes": {"limit", "since"}}


def _is_page(model: object) -> bool:
    """A keyset page (PageOut or any model with `next_cursor`), or a union of them."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return issubclass(model, PageOut) or "next_cursor" in model.model_fields
    return any(_is_page(argument) for argument in typing.get_args(model))


def test_every_list_route_pages_by_limit_and_cursor() -> None:
    """API.md lists: `?limit=` and `?cursor=` → items, next_cursor, total."""
    gets = [r for m, r in _routes() if m == "GET"]
    pages = [r for r in gets if _is_page(r.response_model)]
    assert len(pages) > 20
    assert [r.path for r in pages if not FEEDS.get(r.path, {"limit", "cursor"}) <= _query(r)] == []
    plain = {r.path for r in gets if typing.get_origin(r.response_model) is list}
    assert plain == UNPAGED_LISTS


def _models(annotation: object, seen: set[type[BaseModel]]) -> set[type[BaseModel]]:
    """Every pydantic model reachable from an annotation (nested fields included)."""
    if (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and annotation not in seen
    ):
        seen.add(annotation)
        for field in annotation.model_fields.values():
            _models(field.annotation, seen)
    for argument in typing.get_args(annotation):
        _models(argument, seen)
    return seen


def test_every_request_body_refuses_unknown_fields() -> None:
    """`extra="forbid"` on every input model, nested ones too."""
    bodies = [
        (route.path, param.field_info.annotation)
        for _, route in _routes()
        for dependant in _dependants(route.dependant)
        for param in dependant.body_params
    ]
    assert len(bodies) > 50
    assert [path for path, annotation in bodies if not _models(annotation, set())] == []
    open_models = {
        model.__qualname__
        for _, annotation in bodies
        for model in _models(annotation, set())
        if model.model_config.get("extra") != "forbid"
    }
    assert open_models == set()
