"""Outgoing HTTP that cannot be turned against our own network (R-API-3 webhooks).

A target URL is http(s) without credentials; its host is resolved and every address it
resolves to must be public (`domain.webhooks.forbidden`) unless the operator allowlisted it
(`GRID_WEBHOOK_ALLOW_NETWORKS`). The request then goes to the address that was checked — the
URL is pinned to it, with the original Host header and TLS server name — so a DNS answer that
changes between check and connect (rebinding) gains nothing. Redirects are never followed,
proxies from the environment are ignored, connect/read and total times are bounded, and the
answer is read up to a cap."""

import asyncio
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from domain.webhooks import IPAddress, IPNetwork, allowed, parse_networks
from services.settings import get_settings

# A resolver that does not answer in time makes the target unusable, not the caller wait.
RESOLVE_SECONDS = 5.0


class Refused(Exception):
    """The URL may not be called: not http(s), credentials in it, or no host."""


class Forbidden(Refused):
    """The host resolves to an address deliveries must not reach."""


class Unresolved(Refused):
    """The host does not resolve (in time)."""


class ResponseTooLarge(Exception):
    """The receiver answered with more than the cap; reading stopped."""


@dataclass(frozen=True)
class Limits:
    connect_seconds: float = 3.0
    read_seconds: float = 5.0
    total_seconds: float = 15.0
    max_response_bytes: int = 64 * 1024


@dataclass(frozen=True)
class Target:
    url: httpx.URL
    address: IPAddress


@dataclass(frozen=True)
class Reply:
    status_code: int
    # The start of the answer, for the delivery log.
    excerpt: bytes


def configured_allowlist() -> tuple[IPNetwork, ...]:
    return parse_networks(get_settings().webhook_allow_networks)


def parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise Refused(url) from exc
    if parsed.scheme not in {"http", "https"} or not parsed.host or parsed.userinfo:
        raise Refused(url)
    return parsed


async def _addresses(url: httpx.URL) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(url.host)]
    except ValueError:
        pass
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            infos = await asyncio.get_running_loop().getaddrinfo(
                url.host,
                url.port or (443 if url.scheme == "https" else 80),
                type=socket.SOCK_STREAM,
            )
    except (socket.gaierror, UnicodeError, TimeoutError) as exc:
        raise Unresolved(url.host) from exc
    # A scoped IPv6 literal comes back as "fe80::1%eth0": the zone is not part of the address.
    return list(
        dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
    )


async def resolve(url: str, allowlist: tuple[IPNetwork, ...]) -> Target:
    """The URL with the address to call; refused when any resolved address is forbidden (a
    host with one private and one public address is a classic rebinding trick)."""
    parsed = parse(url)
    addresses = await _addresses(parsed)
    if not addresses or not all(allowed(address, allowlist) for address in addresses):
        raise Forbidden(url)
    return Target(url=parsed, address=addresses[0])


async def post(
    target: Target, body: bytes, headers: Mapping[str, str], limits: Limits = Limits()
) -> Reply:
    """POST `body` to the checked address. Network failures raise `httpx.HTTPError` or
    `TimeoutError`; an answer over the cap raises `ResponseTooLarge`."""
    pinned = target.url.copy_with(host=str(target.address))
    extensions = {"sni_hostname": target.url.host} if target.url.scheme == "https" else {}
    timeout = httpx.Timeout(limits.read_seconds, connect=limits.connect_seconds)
    async with (
        asyncio.timeout(limits.total_seconds),
        httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client,
        client.stream(
            "POST",
            pinned,
            content=body,
            headers={**headers, "Host": target.url.netloc.decode()},
            extensions=extensions,
        ) as response,
    ):
        received = bytearray()
        async for chunk in response.aiter_raw():
            received.extend(chunk)
            if len(received) > limits.max_response_bytes:
                raise ResponseTooLarge(f"answer larger than {limits.max_response_bytes} bytes")
        return Reply(status_code=response.status_code, excerpt=bytes(received[:500]))
