"""The Redis broker: kombu's Redis transport, with one client per channel for publishing.

kombu's Redis channel builds a new ``redis.Redis`` client for every command it sends
outside its consumer loop, every publish included. The client is only a front for the
channel's connection pool, yet building one is about a third of the CPU of a publish,
on the hot path of every submission. A client over a ``ConnectionPool`` is
thread-safe and keeps no state of its own between commands, so one per pool serves
every publish of the channel. Consuming is unchanged: it uses the channel's own
asynchronous client, as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis

REDIS_SCHEMES = ("redis://", "rediss://")


class Channel(kombu_redis.Channel):
    """kombu's Redis channel, sending its commands through one client instead of one each."""

    _shared_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        yield client or self._client_for_pool()

    def _client_for_pool(self) -> Any:
        """The channel's one synchronous client, rebuilt when the pool was replaced.

        kombu drops the pool on close and after a fork (``_disconnect_pools``); a client
        bound to a dropped pool would reopen connections outside the channel's control.
        """
        pool = self.pool
        shared = self._shared_client
        if shared is None or shared.connection_pool is not pool:
            shared = self._shared_client = self._create_client()
        return shared


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with :class:`Channel`; named by ``broker_transport``."""

    Channel = Channel


TRANSPORT_PATH = f"{__name__}:Transport"
