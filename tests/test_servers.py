"""The real test servers of tests/servers.py answer, and stop and start again (what the scale-out tests rely on)."""

from __future__ import annotations

import psycopg
import pytest
import redis


def test_redis_server_answers_and_comes_back_after_a_stop(redis_server):
    client = redis.Redis.from_url(redis_server.url, socket_timeout=5)
    client.set("greeting", "hello")
    assert client.get("greeting") == b"hello"
    redis_server.stop()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    redis_server.start()
    assert client.ping() and client.get("greeting") is None  # --save '': nothing kept across a restart


def test_each_postgres_url_is_a_fresh_database_on_the_session_server(postgres_server, postgres_url):
    assert postgres_url.startswith("postgresql+psycopg://") and "@127.0.0.1:" in postgres_url
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, connect_timeout=10) as connection:
        tables = connection.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert tables == (0,)
        assert connection.execute("SELECT current_setting('port')").fetchone() == (str(postgres_server.port),)
