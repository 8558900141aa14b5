"""Keep feed fetching off this machine and private networks (SSRF guard).

Unless ``ALLOW_PRIVATE_FEEDS`` is set, a feed URL may only reach public
addresses. Two layers enforce that:

* :func:`check_url_allowed` refuses a URL before any request is sent; ``/addfeed``
  and every redirect hop go through it, so an admin gets a clear reason.
* :class:`GuardedTransport` repeats the check at the moment a TCP connection is
  opened and then connects to the very address it checked. A name that resolves
  to a public address for the first check and to ``127.0.0.1`` a moment later
  (DNS rebinding) is therefore still refused: there is no window between the
  check and the connection.

Hosts are classified the way ``inet_aton`` and browsers read them, so numeric
shorthand (``0``, ``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``) is
recognised as an address before anything is resolved.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx

from jobs.fetch_errors import AddressNotAllowedError, FetchError

__all__ = [
    "GuardedTransport",
    "IPAddress",
    "Resolver",
    "check_url_allowed",
    "default_resolver",
    "is_forbidden_ip",
    "parse_numeric_host",
    "resolve_allowed",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> IP strings``; injected in tests so nothing is really resolved."""

ALLOWED_SCHEMES = frozenset({"http", "https"})


# Checked on top of ``not is_global``: these embed an IPv4 address that a
# gateway would forward to, so the embedded address decides.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Carrier-grade NAT is not global, but say so explicitly: older Pythons differ.
_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")


def is_forbidden_ip(ip: IPAddress) -> bool:
    """True for any address that is not plainly a public unicast address.

    Loopback, private, link-local, multicast, unspecified, reserved,
    unique-local (fc00::/7), carrier-grade NAT (100.64/10), documentation
    ranges, and IPv6 forms that wrap a forbidden IPv4 address (mapped,
    compatible, 6to4, Teredo, NAT64).
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and is_forbidden_ip(embedded):
            return True
    elif ip in _SHARED_ADDRESS_SPACE:
        return True
    # ``is_global`` already excludes every special-purpose range in the IANA
    # registries; the explicit flags keep multicast (some of which is "global")
    # and anything a future registry change might reclassify out.
    return (
        not ip.is_global
        or ip.is_multicast
        or ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_reserved
    )


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    packed = ip.packed
    # IPv4-compatible (::a.b.c.d, deprecated but still routed by some stacks).
    if packed[:12] == bytes(12) and int(ip) > 0xFFFF:
        return ipaddress.IPv4Address(packed[12:])
    return None


_NUMERIC_PART = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)$")


class _InvalidNumericHost(ValueError):
    pass


def parse_numeric_host(host: str) -> IPAddress | None:
    """Read ``host`` as an IP address the way ``inet_aton`` and browsers do.

    Returns ``None`` for a host name. Raises ``ValueError`` for something that
    is numeric but no valid address (``999.1.1.1``, ``08``): such a host must
    not fall through to DNS, where a resolver might interpret it differently.
    """
    h = host.strip()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    if ":" in h:
        # Zone ids ("%25eth0" in a URL) don't change which machine it is.
        return ipaddress.IPv6Address(urllib.parse.unquote(h).split("%", 1)[0])
    h = h.rstrip(".")
    parts = h.split(".")
    if not h or not all(_NUMERIC_PART.match(p) for p in parts):
        return None
    if len(parts) > 4:
        raise _InvalidNumericHost(f"invalid address {host}")
    values: list[int] = []
    for part in parts:
        if part[:2].lower() == "0x":
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if any(c in "89" for c in part):
                raise _InvalidNumericHost(f"invalid address {host}")
            values.append(int(part, 8))
        else:
            values.append(int(part))
    # The last part fills all the bytes the earlier ones left: 127.1 is 127.0.0.1.
    *head, last = values
    if any(v > 0xFF for v in head) or last >= 1 << (8 * (4 - len(head))):
        raise _InvalidNumericHost(f"invalid address {host}")
    number = last
    for i, v in enumerate(head):
        number |= v << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


async def default_resolver(host: str, port: int) -> list[str]:
    """Resolve with the system resolver (``getaddrinfo`` in a worker thread)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _is_localhost_name(host: str) -> bool:
    # RFC 6761: "localhost" and every name under it is this machine, whatever
    # DNS says; refuse without asking a resolver.
    return host == "localhost" or host.endswith(".localhost")


async def resolve_allowed(host: str, port: int, *, resolver: Resolver | None = None) -> list[str]:
    """Return the addresses of ``host``, or raise if any of them is forbidden.

    Refusing when *any* address is private (not only the first) stops a name
    that mixes a public and a private address from being a way in.
    """
    try:
        literal = parse_numeric_host(host)
    except ValueError as exc:
        raise FetchError(f"invalid host {host!r}") from exc
    if literal is not None:
        if is_forbidden_ip(literal):
            raise AddressNotAllowedError(f"refused: {host} is a private address ({literal})")
        return [str(literal)]
    name = host.strip().rstrip(".").lower()
    if not name:
        raise FetchError("invalid URL: no host")
    if _is_localhost_name(name):
        raise AddressNotAllowedError(f"refused: {host} is this machine")
    try:
        addresses = await (resolver or default_resolver)(name, port)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from exc
    if not addresses:
        raise FetchError(f"cannot resolve {host}: no addresses")
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError as exc:
            raise FetchError(f"cannot resolve {host}: bad address {address!r}") from exc
        if is_forbidden_ip(ip):
            raise AddressNotAllowedError(f"refused: {host} resolves to a private address ({ip})")
    return addresses


def _fallback_host(url: str) -> str | None:
    # httpx rejects some spellings (octal 0177.0.0.1) that other parsers and
    # inet_aton accept; read the host anyway so the refusal names the reason.
    try:
        return urllib.parse.urlsplit(url).hostname
    except ValueError:
        return None


async def check_url_allowed(url: str, *, resolver: Resolver | None = None) -> None:
    """Raise unless ``url`` is http(s) and its host is a public address.

    Raises :class:`AddressNotAllowedError` for this machine or a private
    network, :class:`FetchError` for an invalid URL or a name that does not
    resolve.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        host = _fallback_host(url)
        if host is not None:
            try:
                ip = parse_numeric_host(host)
            except ValueError:
                ip = None
            if ip is not None and is_forbidden_ip(ip):
                raise AddressNotAllowedError(
                    f"refused: {host} is a private address ({ip})"
                ) from exc
        raise FetchError(f"invalid URL {url!r}: {exc}") from exc
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise FetchError(f"refused: only http and https URLs are allowed, not {parsed.scheme!r}")
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    await resolve_allowed(host, port, resolver=resolver)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks at connect time, then dials the checked address."""

    def __init__(self, resolver: Resolver | None) -> None:
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_allowed(host, port, resolver=self._resolver)
        last_error: Exception | None = None
        for address in addresses:
            try:
                # TLS is started later by httpcore with the original host name
                # as server_hostname, so certificates are still checked
                # against the name, not the address.
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                last_error = exc
        assert last_error is not None  # addresses is never empty
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressNotAllowedError("refused: unix sockets are local")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport whose every new connection goes through the guard.

    httpx does not expose httpcore's ``network_backend``; the connection pool
    is rebuilt with the guarded backend. If a future httpx stops keeping its
    pool in ``_pool`` this fails at construction, never open.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(limits=limits, trust_env=False)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("httpx internals changed: cannot install the address guard")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=_GuardedBackend(resolver),
        )
