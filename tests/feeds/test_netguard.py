"""The private-address guard: every spelling of this machine and every private
range is refused before a packet leaves; the only traffic these tests can
produce goes to 127.0.0.1, and only where a test expects none to arrive."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

import jobs.netguard as netguard
from bot import USER_AGENT
from jobs.fetch import fetch_feed, make_client
from jobs.fetch_errors import AddressNotAllowedError, FetchError
from jobs.netguard import check_url_allowed, is_forbidden_ip, parse_numeric_host
from tests.support.feed_server import FeedServer
from tests.support.feeds import sample_feed

PUBLIC = "93.184.216.34"  # only ever *reported* by fake resolvers, never dialled


class StrictResolver:
    """Knows a few names; any other lookup is recorded and fails the test."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.names = names
        self.calls: list[str] = []
        self.unexpected: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.names:
            self.unexpected.append(host)
            raise AssertionError(f"unexpected lookup of {host}")
        return self.names[host]


def refusing_transport(log: list[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        log.append(str(request.url))
        raise AssertionError(f"a connection was attempted to {request.url}")

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.255.254",
        "0.0.0.0",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "239.255.255.250",
        "255.255.255.255",
        "240.0.0.1",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::127.0.0.1",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    ],
)
def test_forbidden_addresses(address: str) -> None:
    assert is_forbidden_ip(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [PUBLIC, "8.8.8.8", "1.1.1.1", "2606:2800:220:1:248:1893:25c8:1946", "2002:5db8:d822::"],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_forbidden_ip(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("0", "0.0.0.0"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("10.0.0.1.", "10.0.0.1"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
        ("fe80::1%25eth0", "fe80::1"),
    ],
)
def test_numeric_shorthand_is_read_like_inet_aton(host: str, expected: str) -> None:
    assert parse_numeric_host(host) == ipaddress.ip_address(expected)


@pytest.mark.parametrize("host", ["example.org", "localhost", "1.example", "0x7f.example"])
def test_names_are_not_numbers(host: str) -> None:
    assert parse_numeric_host(host) is None


@pytest.mark.parametrize("host", ["256.1.1.1", "1.2.3.4.5", "08", "1.16777216"])
def test_invalid_numbers_never_reach_dns(host: str) -> None:
    with pytest.raises(ValueError):
        parse_numeric_host(host)


LOOPBACK_SPELLINGS = [
    "http://127.0.0.1:{port}/feed",
    "http://localhost:{port}/feed",
    "http://localhost.:{port}/feed",
    "http://LocalHost.:{port}/feed",
    "http://feeds.localhost:{port}/feed",
    "http://[::1]:{port}/feed",
    "http://0:{port}/feed",
    "http://0.0.0.0:{port}/feed",
    "http://2130706433:{port}/feed",
    "http://0x7f000001:{port}/feed",
    "http://127.1:{port}/feed",
    "http://[::ffff:127.0.0.1]:{port}/feed",
    "http://0177.0.0.1:{port}/feed",
    "http://user@127.0.0.1:{port}/feed",
    "http://loopback.example:{port}/feed",
    "http://loopback.example.:{port}/feed",
    "https://127.0.0.1:{port}/feed",
]


@pytest.mark.parametrize("spelling", LOOPBACK_SPELLINGS)
async def test_every_spelling_of_this_machine_is_refused(
    spelling: str, feed_server: FeedServer
) -> None:
    feed_server.set("/feed", sample_feed(1))
    url = spelling.format(port=feed_server.port)
    resolver = StrictResolver({"loopback.example": ["127.0.0.1"]})

    with pytest.raises(AddressNotAllowedError) as caught:
        await check_url_allowed(url, resolver=resolver)
    assert caught.value.message.startswith("refused: ")

    # The whole fetch, through a guarded client, with the server listening:
    # nothing may arrive.
    async with make_client(user_agent=USER_AGENT, allow_private=False, resolver=resolver) as client:
        with pytest.raises(AddressNotAllowedError):
            await fetch_feed(
                client,
                url,
                etag=None,
                last_modified=None,
                previous_hash=None,
                allow_private=False,
                resolver=resolver,
            )
    assert feed_server.requests == []
    assert resolver.unexpected == []


async def test_refusal_message_names_host_and_address() -> None:
    resolver = StrictResolver({"example.org": ["10.0.0.1"]})
    with pytest.raises(AddressNotAllowedError) as caught:
        await check_url_allowed("http://example.org/feed", resolver=resolver)
    assert caught.value.message == "refused: example.org resolves to a private address (10.0.0.1)"


PRIVATE = [
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.20.10.5",
    "192.168.0.10",
    "169.254.169.254",
    "100.64.1.1",
    "fc00::1",
    "fd00:ec2::254",
    "fe80::a:b",
]


def _literal_url(address: str) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}/feed"


@pytest.mark.parametrize("address", PRIVATE)
async def test_private_ranges_are_refused_before_any_connection(address: str) -> None:
    attempts: list[str] = []
    # The name also resolves to a public address: one private one is enough.
    resolver = StrictResolver({"intranet.example": [PUBLIC, address]})
    async with httpx.AsyncClient(transport=refusing_transport(attempts)) as client:
        for url in (_literal_url(address), "http://intranet.example/feed"):
            with pytest.raises(AddressNotAllowedError):
                await fetch_feed(
                    client,
                    url,
                    etag=None,
                    last_modified=None,
                    previous_hash=None,
                    allow_private=False,
                    resolver=resolver,
                )
    assert attempts == []
    assert resolver.unexpected == []


async def test_redirect_to_this_machine_is_refused(feed_server: FeedServer) -> None:
    feed_server.set("/secret", b"internal")
    target = feed_server.url("/secret")
    seen: list[str] = []

    def public_site(request: httpx.Request) -> httpx.Response:
        # Stands in for the public server: no real connection is made.
        seen.append(str(request.url))
        assert request.url.host == "feeds.example", "only the public hop may be sent"
        return httpx.Response(302, headers={"Location": target})

    resolver = StrictResolver({"feeds.example": [PUBLIC]})
    async with httpx.AsyncClient(transport=httpx.MockTransport(public_site)) as client:
        with pytest.raises(AddressNotAllowedError):
            await fetch_feed(
                client,
                "http://feeds.example/feed",
                etag=None,
                last_modified=None,
                previous_hash=None,
                allow_private=False,
                resolver=resolver,
            )
    assert seen == ["http://feeds.example/feed"]
    assert feed_server.requests == []


async def test_guarded_client_checks_again_when_connecting(feed_server: FeedServer) -> None:
    """Even if the caller skips the pre-check (or DNS changed since), the
    connection itself is refused: the guard sits in the transport."""
    feed_server.set("/feed", sample_feed(1))
    resolver = StrictResolver({"rebind.example": ["127.0.0.1"]})
    async with make_client(user_agent=USER_AGENT, allow_private=False, resolver=resolver) as client:
        with pytest.raises(AddressNotAllowedError):
            await fetch_feed(
                client,
                f"http://rebind.example:{feed_server.port}/feed",
                etag=None,
                last_modified=None,
                previous_hash=None,
                allow_private=True,  # skip the pre-check on purpose
            )
    assert resolver.calls == ["rebind.example"]
    assert feed_server.requests == []


async def test_guarded_client_dials_the_address_it_checked(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the address check relaxed, a name only our resolver knows still
    reaches the server: the connection goes to the resolved, checked address
    (no second lookup by the system resolver), and TLS/Host keep the name."""
    monkeypatch.setattr(netguard, "is_forbidden_ip", lambda ip: False)
    feed_server.set("/feed", sample_feed(1))
    resolver = StrictResolver({"pinned.example": ["127.0.0.1"]})
    async with make_client(user_agent=USER_AGENT, allow_private=False, resolver=resolver) as client:
        result = await fetch_feed(
            client,
            f"http://pinned.example:{feed_server.port}/feed",
            etag=None,
            last_modified=None,
            previous_hash=None,
            allow_private=False,
            resolver=resolver,
        )
    assert result.content == sample_feed(1)
    (request,) = feed_server.requests
    assert request.headers["Host"] == f"pinned.example:{feed_server.port}"


async def test_unresolvable_name_is_a_readable_error() -> None:
    async def nxdomain(host: str, port: int) -> list[str]:
        raise OSError(-2, "Name or service not known")

    with pytest.raises(FetchError, match=r"cannot resolve nowhere\.example"):
        await check_url_allowed("http://nowhere.example/", resolver=nxdomain)


@pytest.mark.parametrize("url", ["ftp://example.org/", "file:///etc/passwd", "javascript:x"])
async def test_check_refuses_other_schemes(url: str) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        await check_url_allowed(url, resolver=StrictResolver({}))


async def test_public_name_passes() -> None:
    resolver = StrictResolver({"feeds.example": [PUBLIC]})
    await check_url_allowed("https://feeds.example/rss", resolver=resolver)
    assert resolver.calls == ["feeds.example"]
