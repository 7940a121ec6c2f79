"""GeoReport v2 documents in XML and JSON (R-API-2). JSON follows the spec's programmatic
mapping of the XML (the Spark convention): an XML list container becomes a JSON array of its
children, an element a JSON member. Both are UTF-8; the XML carries its declaration, no
namespace. Datetimes are w3 (ISO 8601) with their offset, to the second."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import orjson
from starlette.responses import Response

from domain.masking import scrub_text
from domain.open311 import MEDIA_TYPES, Format

# Where the facade is served: everything under it answers in the spec's formats.
PATH_PREFIX = "/open311/"

# The element name of one member of each list container.
MEMBERS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _fill(element: Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _fill(SubElement(element, key), item)
    elif isinstance(value, list):
        for item in value:
            _fill(SubElement(element, MEMBERS[element.tag]), item)
    else:
        element.text = _text(value)


def body(fmt: Format, root: str, document: Any) -> bytes:
    """The document under `root` (a list container or an object) in the format."""
    plain = _plain(document)
    if fmt == Format.JSON:
        return orjson.dumps(plain)
    element = Element(root)
    _fill(element, plain)
    return _DECLARATION + tostring(element, encoding="unicode").encode()


def respond(fmt: Format, root: str, document: Any, *, status: int = 200) -> Response:
    return Response(
        body(fmt, root, document),
        status_code=status,
        media_type=f"{MEDIA_TYPES[fmt]}; charset=utf-8",
    )


def errors(fmt: Format, status: int, descriptions: list[str]) -> Response:
    """The spec's error document: an array of {code, description} with the HTTP status as
    the code ("In most cases, this should match the HTTP status code"). A full ID or phone
    number a description quotes (a request id asked for) goes out masked (R-JUR-3)."""
    return respond(
        fmt,
        "errors",
        [{"code": status, "description": scrub_text(text)} for text in descriptions],
        status=status,
    )


def format_of(path: str) -> Format:
    """The format a path's extension asks for; XML, the one every endpoint must offer,
    for any other."""
    try:
        return Format(path.rsplit(".", 1)[-1])
    except ValueError:
        return Format.XML
