"""Generated feeds served from several loopback addresses (127.0.0.2 … 127.0.0.K+1)
on one port, so that a poll cycle sees K different hosts: the feed server of
``tests.support.feed_server`` (304 to conditional requests), bound K times in one process.

``python -m benchmarks.feed_hosts --feeds N --hosts K`` prints the port first;
feed i is at http://127.0.0.<2 + i % K>:<port>/feeds/<i>.xml.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from datetime import UTC, datetime
from email.utils import format_datetime

from tests.support.feed_server import FeedServer
from tests.support.feeds import sample_feed


def address(index: int, hosts: int) -> str:
    return f"127.0.0.{2 + index % hosts}"


async def _serve(feeds: int, hosts: int) -> None:
    modified = format_datetime(datetime(2021, 12, 3, 7, 30, tzinfo=UTC), usegmt=True)
    servers: list[FeedServer] = []
    port = 0
    for k in range(hosts):
        server = FeedServer()
        for i in range(k, feeds, hosts):
            server.set(
                f"/feeds/{i}.xml", sample_feed(i), etag=f'"feed-{i}-v1"', last_modified=modified
            )
        await server.start(host=address(k, hosts), port=port)
        port = server.port
        servers.append(server)
    print(port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for server in servers:
            await server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=10)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.feeds, args.hosts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
