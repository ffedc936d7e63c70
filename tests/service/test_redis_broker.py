"""The Redis broker transport: one publishing client per channel, on the real Redis server."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis
from kombu import Connection

from graders.celery_app import celery_app
from service import queue, redis_broker
from service.config import Settings
from service.embedded_broker import TRANSPORT_PATH as EMBEDDED_TRANSPORT
from tests.integration.stack import free_port


@pytest.fixture
def redis_settings(settings: Settings, redis_url: str) -> Iterator[Settings]:
    """The shared Celery app pointed at the test Redis database (emptied by redis_url)."""
    configured = replace(settings, broker_url=redis_url, result_backend=redis_url)
    queue.configure(configured)
    yield configured
    queue.configure(settings)


@pytest.fixture
def sync_clients(monkeypatch) -> list[object]:
    """Every synchronous client a channel builds, in order (the consumer's are async)."""
    built: list[object] = []
    create = redis_broker.Channel._create_client

    def counting(channel, asynchronous: bool = False):  # type: ignore[no-untyped-def]
        client = create(channel, asynchronous=asynchronous)
        if not asynchronous:
            built.append(client)
        return client

    monkeypatch.setattr(redis_broker.Channel, "_create_client", counting)
    return built


def _queued(redis_url: str) -> list[dict]:
    """The task messages waiting in Celery's default queue, oldest first."""
    raw = redis.Redis.from_url(redis_url).lrange("celery", 0, -1)
    return [json.loads(m) for m in reversed(raw)]


def _submission_ids(messages: list[dict]) -> list[int]:
    """The submission id each grading message carries (Celery's body is [args, kwargs, embed])."""
    return [json.loads(base64.b64decode(m["body"]))[0][0] for m in messages]


def test_many_publishes_share_one_client_and_every_message_arrives(
    redis_settings, redis_url, sync_clients
):
    for submission_id in range(1, 201):
        assert queue.send_grading(submission_id) is True
    messages = _queued(redis_url)
    assert _submission_ids(messages) == list(range(1, 201))
    assert {m["headers"]["task"] for m in messages} == {"mixgrade.grade_submission"}
    assert len(sync_clients) == 1


def test_threads_publish_through_the_shared_client_without_losing_a_message(
    redis_settings, redis_url, sync_clients
):
    failures: list[int] = []

    def send(first: int) -> None:
        for submission_id in range(first, first + 50):
            if not queue.send_grading(submission_id):
                failures.append(submission_id)

    threads = [threading.Thread(target=send, args=(1 + 50 * n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(_submission_ids(_queued(redis_url))) == list(range(1, 401))
    # One client per channel, and each thread's producer may hold its own channel.
    assert 1 <= len(sync_clients) <= 8


def test_a_dropped_pool_gets_a_new_client(redis_settings, redis_url):
    with celery_app.connection_for_write() as connection:
        channel = connection.default_channel
        assert isinstance(channel, redis_broker.Channel)
        channel._put("celery", {"n": 1})
        first = channel._client_for_pool()
        channel._disconnect_pools()  # what kombu does after a fork and on close
        channel._put("celery", {"n": 2})
        second = channel._client_for_pool()
    assert second is not first and second.connection_pool is not first.connection_pool
    assert [m["n"] for m in _queued(redis_url)] == [1, 2]


def test_a_consumer_on_the_same_transport_receives_what_was_sent(redis_settings):
    assert queue.send_grading(7)
    with celery_app.connection_for_read() as connection:
        assert isinstance(connection.default_channel, redis_broker.Channel)
        with connection.SimpleQueue("celery", no_ack=True) as received:
            message = received.get(timeout=5)
    assert message.headers["task"] == "mixgrade.grade_submission"
    assert message.payload[0] == [7]


def test_reconfiguring_the_same_broker_keeps_publishing(redis_settings, redis_url):
    assert queue.send_grading(1)
    queue.configure(redis_settings)  # an app factory running again in the same process
    assert queue.send_grading(2)
    assert _submission_ids(_queued(redis_url)) == [1, 2]


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/3",
        "rediss://:secret@cache.example:6380/2",
        "rediss://cache.example:6380/2?ssl_cert_reqs=required",
    ],
)
def test_redis_urls_use_the_transport_with_the_tls_kombu_would_infer(settings, url):
    try:
        queue.configure(replace(settings, broker_url=url))
        ours = celery_app.connection_for_write()
        kombus = Connection(url)  # kombu choosing the transport from the URL itself
        assert ours.transport_cls == redis_broker.TRANSPORT_PATH
        assert ours.ssl == kombus.ssl
        assert (ours.hostname, ours.port, ours.password, ours.virtual_host) == (
            kombus.hostname,
            kombus.port,
            kombus.password,
            kombus.virtual_host,
        )
    finally:
        queue.configure(settings)


def test_other_brokers_keep_their_transport(settings):
    queue.configure(settings)  # the embedded default
    assert celery_app.connection_for_write().transport_cls == EMBEDDED_TRANSPORT
    try:
        queue.configure(replace(settings, broker_url="redis+socket:///run/redis.sock"))
        assert celery_app.connection_for_write().transport_cls == "redis"
    finally:
        queue.configure(settings)


def test_a_web_process_gives_up_on_a_dead_broker_at_once(settings):
    """A refused connection fails the publish in well under kombu's ~6 s of retries."""
    dead = replace(settings, broker_url=f"redis://127.0.0.1:{free_port()}/0")
    queue.configure(dead, in_requests=True)
    try:
        started = time.monotonic()
        assert queue.send_grading(1) is False
        assert queue.send_grading(2) is False
        assert time.monotonic() - started < 2
    finally:
        queue.configure(settings)
