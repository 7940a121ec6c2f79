"""Webhooks (R-API-3), pure: which changes a subscription wants, how a delivery is signed and
verified, and which network addresses a delivery may never reach.

Signature: `X-Grid-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
over the exact bytes of the body. A receiver recomputes it with the subscription's secret,
compares in constant time and refuses a timestamp older than a few minutes (replays).
"""

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from domain.errors import FieldError, Invalid
from domain.events import Category
from domain.workflow import Action

SIGNATURE_HEADER = "X-Grid-Signature"
DELIVERY_HEADER = "X-Grid-Delivery"
EVENT_HEADER = "X-Grid-Event"
SIGNATURE_TOLERANCE_SECONDS = 300

# What the workflow history records: reporting (or resolving on the spot) and every action.
ACTIONS = frozenset({"report", "resolve", *(a.value for a in Action)})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Ranges never reached whatever `is_global` says (and whatever a Python version thinks):
# CGNAT (also Alibaba Cloud's metadata 100.100.100.200), the IETF protocol block, benchmark
# nets, and the IPv6 unique-local block that holds AWS's fd00:ec2::254 metadata address.
_BLOCKED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "198.18.0.0/15",
        "240.0.0.0/4",
        "fc00::/7",
        "fec0::/10",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_COMPATIBLE = ipaddress.ip_network("::/96")


def new_secret() -> str:
    """The shared secret a subscription signs with (shown to the administrator once)."""
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: int) -> bool:
    """What a receiver does: the signature matches and was made recently."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def check_filters(
    actions: Iterable[str] | None, categories: Iterable[str] | None
) -> tuple[list[str] | None, list[str] | None]:
    """Known workflow actions and event categories, sorted; None means every one."""
    errors = [
        FieldError("actions", "webhook_action_unknown", {"action": a})
        for a in sorted(set(actions or ()))
        if a not in ACTIONS
    ]
    known_categories = {c.value for c in Category}
    errors += [
        FieldError("categories", "field_invalid", {"detail": c})
        for c in sorted(set(categories or ()))
        if c not in known_categories
    ]
    if errors:
        raise Invalid("webhook_invalid", errors=errors)
    return (
        sorted(set(actions)) if actions else None,
        sorted(set(categories)) if categories else None,
    )


def wants(
    actions: Iterable[str] | None, categories: Iterable[str] | None, change: Mapping[str, Any]
) -> bool:
    """Whether a subscription with these filters receives a change of the feed."""
    return (not actions or change["action"] in set(actions)) and (
        not categories or change["category"] in set(categories)
    )


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a 6to4, Teredo or NAT64 address leads to."""
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def forbidden(address: IPAddress) -> bool:
    """True for every address a delivery must not reach: loopback, private, link-local
    (cloud metadata 169.254.169.254), CGNAT, multicast, reserved and unspecified, in IPv4
    and IPv6, also when an IPv6 form (mapped, 6to4, Teredo, NAT64) leads to such an IPv4
    address. The deprecated IPv4-compatible block (::/96, with :: and ::1) is refused whole."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return forbidden(address.ipv4_mapped)
        if address in _COMPATIBLE or address in _NAT64_LOCAL:
            return True
        embedded = _embedded_ipv4(address)
        if embedded is not None and forbidden(embedded):
            return True
    return (
        not address.is_global
        or address.is_multicast
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_reserved
        or address.is_unspecified
        or any(address in network for network in _BLOCKED)
    )


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """The operator's allowlist (`GRID_WEBHOOK_ALLOW_NETWORKS`): comma-separated addresses
    or CIDR blocks. A malformed entry is a configuration error, raised at once."""
    return tuple(ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip())


def allowed(address: IPAddress, allowlist: Iterable[IPNetwork]) -> bool:
    """A delivery may reach `address`: it is public, or the operator allowlisted it."""
    return not forbidden(address) or any(address in network for network in allowlist)
