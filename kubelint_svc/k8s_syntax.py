"""The API server's syntax rules for names, labels, ports and addresses (apimachinery's
validation helpers), as predicates that say what is wrong or None when the value is fine."""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import TypeGuard

PROTOCOLS = ("TCP", "UDP", "SCTP")


def is_int(value: object) -> TypeGuard[int]:
    """An integer as YAML and JSON mean it: True and False are not numbers here."""
    return isinstance(value, int) and not isinstance(value, bool)


_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_IANA_SVC_NAME = re.compile(r"^[-a-z0-9]+$")


def dns1123_label(value: str) -> str | None:
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _DNS1123_LABEL.match(value):
        return (
            "must be a DNS-1123 label: lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return None


def dns1035_label(value: str) -> str | None:
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _DNS1035_LABEL.match(value):
        return (
            "must be a DNS-1035 label: lowercase letters, digits and '-', "
            "starting with a letter and ending with a letter or digit"
        )
    return None


def dns1123_subdomain(value: str) -> str | None:
    if len(value) > 253:
        return "must be no more than 253 characters"
    if not value or not all(_DNS1123_LABEL.match(part) for part in value.split(".")):
        return (
            "must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', "
            "each part starting and ending with a letter or digit"
        )
    return None


def qualified_name(value: str) -> str | None:
    """`[prefix/]name`: the syntax of label keys, annotation keys and appProtocol."""
    if value.count("/") > 1:
        return "a qualified name may contain at most one '/'"
    prefix, slash, name = value.rpartition("/")
    if slash and not prefix:
        return "prefix part must be non-empty"
    if prefix:
        problem = dns1123_subdomain(prefix)
        if problem:
            return f"prefix part {problem}"
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not _QUALIFIED_NAME_PART.match(name):
        return (
            "name part must consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return None


@functools.lru_cache(maxsize=4096)  # a run's objects carry the same few label keys and values again and again
def valid_label_key(key: str) -> bool:
    return qualified_name(key) is None


@functools.lru_cache(maxsize=4096)
def valid_label_value(value: str) -> bool:
    return label_value(value) is None


def label_value(value: str) -> str | None:
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _LABEL_VALUE.match(value):
        return (
            "must be empty or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return None


def iana_svc_name(value: str) -> str | None:
    """Container port names and named targetPorts: at most 15 characters, at least one letter."""
    if not 1 <= len(value) <= 15:
        return "must be no more than 15 characters"
    if not _IANA_SVC_NAME.match(value):
        return "must contain only lowercase letters, digits and '-'"
    if not re.search(r"[a-z]", value):
        return "must contain at least one letter (a quoted number is a name, not a port number)"
    if "--" in value:
        return "must not contain consecutive hyphens"
    if value.startswith("-") or value.endswith("-"):
        return "must not begin or end with a hyphen"
    return None


def port_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP as the API server parses it (leading zeros in IPv4 tolerated, as the legacy parser does)."""
    text = value
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", text):
        text = ".".join(str(int(part)) for part in text.split("."))
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def parse_cidr(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if "/" not in value:
        return None
    address, _, bits = value.partition("/")
    ip = parse_ip(address)
    if ip is None or not bits.isdigit():
        return None
    try:
        return ipaddress.ip_network(f"{ip}/{bits}", strict=False)
    except ValueError:
        return None


def ip_family(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return "IPv4" if ip.version == 4 else "IPv6"
