"""Where outgoing webhooks may go: public addresses only, unless the operator allows private ones.

A callback URL is user input, so without a check any tenant could make the workers POST into the
deployment's own network (Redis admin ports, cloud metadata at 169.254.169.254, internal APIs): SSRF.
URLs are checked twice: when submitted (scheme, and a literal or well-known local host name), and at
each delivery after resolving the name, since DNS may point a public-looking name at a private address.
`LONGDOC_REPORTING__WEBHOOK_ALLOW_PRIVATE=true` turns the address checks off for internal receivers.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from service.errors import BadRequest

__all__ = ["ForbiddenDestination", "check_delivery", "check_submitted"]

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_HINT = "set LONGDOC_REPORTING__WEBHOOK_ALLOW_PRIVATE=true to allow private receivers"


class ForbiddenDestination(BadRequest):
    code = "webhook_destination_forbidden"


def _host(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ForbiddenDestination(f"webhook URL must be http(s)://host/...: {url[:200]!r}")
    return parts.hostname


def _refuse_address(host: str, address: str) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        shown = host if host == address else f"{host} ({address})"
        raise ForbiddenDestination(
            f"webhook destination {shown} is a private, loopback or reserved address; {_HINT}",
            details={"host": host, "address": str(ip)},
        )


def check_submitted(url: str, allow_private: bool) -> None:
    """Refuse a callback URL at submission: bad scheme, or (unless allowed) a local name or private IP.
    Names are not resolved here (the API may not see the workers' DNS); `check_delivery` does that."""
    host = _host(url)
    if allow_private:
        return
    if host.lower().rstrip(".") in _LOCAL_NAMES or host.lower().endswith(".localhost"):
        raise ForbiddenDestination(
            f"webhook destination {host} is this machine; {_HINT}", details={"host": host}
        )
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return  # a name: checked after resolution at delivery
    _refuse_address(host, host)


def check_delivery(url: str, allow_private: bool) -> None:
    """Before a delivery: every address the host resolves to must be public (unless allowed).
    Raises ForbiddenDestination, or OSError when the name does not resolve (worth a retry)."""
    check_submitted(url, allow_private)
    if allow_private:
        return
    host = _host(url)
    port = urlsplit(url).port or (443 if url.startswith("https") else 80)
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        _refuse_address(host, str(sockaddr[0]))
