"""R-API-3 webhook rules, pure: forbidden addresses (IPv4, IPv6 and the forms that embed
IPv4), the operator's allowlist, signatures a receiver can verify, and filters."""

import hashlib
import hmac
import ipaddress

import pytest

from domain.errors import Invalid
from domain.webhooks import (
    SIGNATURE_TOLERANCE_SECONDS,
    allowed,
    check_filters,
    forbidden,
    parse_networks,
    sign,
    verify,
    wants,
)

FORBIDDEN = [
    "127.0.0.1",  # loopback
    "127.8.9.10",
    "10.1.2.3",  # private
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # link-local: cloud metadata
    "100.64.0.1",  # CGNAT
    "100.100.100.200",  # Alibaba Cloud metadata, inside CGNAT
    "224.0.0.1",  # multicast
    "0.0.0.0",
    "255.255.255.255",
    "192.0.0.170",
    "198.18.0.1",
    "240.0.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",  # AWS IPv6 metadata
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b:1::1",
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2001:4860:4860::8888", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", FORBIDDEN)
def test_r_api_3_internal_addresses_are_forbidden(address: str) -> None:
    assert forbidden(ipaddress.ip_address(address))
    assert not allowed(ipaddress.ip_address(address), ())


@pytest.mark.parametrize("address", PUBLIC)
def test_r_api_3_public_addresses_are_allowed(address: str) -> None:
    assert not forbidden(ipaddress.ip_address(address))


def test_r_api_3_the_operator_allowlist_opens_only_what_it_names() -> None:
    allowlist = parse_networks(" 127.0.0.1/32, 10.20.0.0/16 ,")
    assert allowed(ipaddress.ip_address("127.0.0.1"), allowlist)
    assert allowed(ipaddress.ip_address("10.20.3.4"), allowlist)
    assert not allowed(ipaddress.ip_address("127.0.0.2"), allowlist)
    assert not allowed(ipaddress.ip_address("169.254.169.254"), allowlist)
    assert parse_networks("") == ()
    with pytest.raises(ValueError):
        parse_networks("localhost")


def test_r_api_3_a_receiver_verifies_the_signature_independently() -> None:
    body = b'{"id":"1","type":"event.report"}'
    header = sign("whsec_test", 1_800_000_000, body)
    expected = hmac.new(b"whsec_test", b"1800000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1800000000,v1={expected}"
    assert verify("whsec_test", header, body, 1_800_000_000 + SIGNATURE_TOLERANCE_SECONDS)
    assert not verify("whsec_other", header, body, 1_800_000_000)
    assert not verify("whsec_test", header, body + b" ", 1_800_000_000)
    assert not verify("whsec_test", header, body, 1_800_000_001 + SIGNATURE_TOLERANCE_SECONDS)
    assert not verify("whsec_test", "garbage", body, 1_800_000_000)
    forged_time = header.replace("t=1800000000", "t=1800000100")
    assert not verify("whsec_test", forged_time, body, 1_800_000_100)


def test_r_api_3_filters_are_checked_and_applied() -> None:
    assert check_filters(["accept", "report", "accept"], None) == (["accept", "report"], None)
    assert check_filters([], []) == (None, None)
    with pytest.raises(Invalid) as caught:
        check_filters(["explode"], ["weather"])
    assert [e.field for e in caught.value.errors] == ["actions", "categories"]
    change = {"action": "report", "category": "dispute"}
    assert wants(None, None, change)
    assert wants(["report"], ["dispute"], change)
    assert not wants(["accept"], None, change)
    assert not wants(None, ["livelihood"], change)
