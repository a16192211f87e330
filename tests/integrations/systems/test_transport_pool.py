"""Pooled HTTP sessions: reused by one connection's next client, never by another connection or other credentials."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from werkzeug.wrappers import Request, Response

from integrations.systems import transport
from integrations.systems.base import ApiClient, ForeignAnswerError

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                   "no_proxy")


class KeyedClient(ApiClient):
    """A client sending its key as a bearer token, as most vendors' clients do."""

    system = "testvendor"

    def authenticate(self, headers: dict[str, str]) -> None:
        headers["Authorization"] = f"Bearer {self.credentials['api_key']}"


def client(base_url: str, *, connection_id: int | None = 1, api_key: str = "key-one") -> KeyedClient:
    return KeyedClient(base_url=base_url, credentials={"api_key": api_key}, connection_id=connection_id,
                       max_attempts=1, sleep=lambda s: None)


@pytest.fixture(autouse=True)
def fresh_pool(monkeypatch):
    pool = transport.SessionPool()
    monkeypatch.setattr(transport, "sessions", pool)
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield pool
    pool.clear()


@pytest.fixture
def loopback():
    """A keep-alive HTTP/1.1 server on loopback that notes the client port of every request (one port = one TCP
    connection)."""
    ports: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            ports.append(self.client_address[1])
            body = json.dumps({"ok": True}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", ports
    finally:
        server.shutdown()
        server.server_close()


def test_the_next_event_of_a_connection_reuses_its_session_and_tcp_connection(loopback, fresh_pool):
    base_url, ports = loopback
    first = client(base_url)
    assert first.json("GET", "/customers") == {"ok": True}
    session = first.session
    first.close()  # the end of one event (SyncContext.close)

    second = client(base_url)
    assert second.json("GET", "/customers") == {"ok": True}
    assert second.session is session
    assert len(ports) == 2 and len(set(ports)) == 1  # two requests, one TCP connection
    assert (fresh_pool.built, fresh_pool.reused) == (1, 1)


def test_another_connection_never_gets_the_session(loopback, fresh_pool):
    base_url, ports = loopback
    first = client(base_url, connection_id=1)
    first.json("GET", "/customers")
    session = first.session
    first.close()

    other = client(base_url, connection_id=2)  # same address, same credentials, another connection
    other.json("GET", "/customers")
    assert other.session is not session
    assert len(set(ports)) == 2
    assert fresh_pool.idle_count(transport.SessionKey(("testvendor", 1), base_url,
                                                      transport.credentials_digest({"api_key": "key-one"}))) == 1


def test_changed_credentials_get_a_new_session_and_the_old_ones_are_closed(loopback, fresh_pool):
    base_url, _ports = loopback
    first = client(base_url, api_key="key-one")
    first.json("GET", "/customers")
    old_session = first.session
    first.close()
    old_key = transport.SessionKey(("testvendor", 1), base_url, transport.credentials_digest({"api_key": "key-one"}))
    assert fresh_pool.idle_count(old_key) == 1

    changed = client(base_url, api_key="key-two")
    changed.json("GET", "/customers")
    assert changed.session is not old_session
    assert fresh_pool.idle_count(old_key) == 0  # the connection's former session is gone, not kept aside


def test_a_session_whose_credentials_rotated_during_the_event_is_not_kept(loopback, fresh_pool):
    base_url, _ports = loopback
    rotating = client(base_url, api_key="refresh-one")
    rotating.json("GET", "/customers")
    rotating.update_credentials(api_key="refresh-two")
    rotating.close()
    assert fresh_pool.idle_count() == 0

    after = client(base_url, api_key="refresh-two")
    after.json("GET", "/customers")
    assert fresh_pool.built == 2 and fresh_pool.reused == 0


def test_a_returned_session_carries_no_cookies_or_session_auth(fresh_pool):
    key = transport.SessionKey(("testvendor", 1), "https://vendor.test", "digest")
    session = fresh_pool.take(key)
    session.cookies.set("ASP.NET_SessionId", "tenant-one")
    session.auth = ("user", "secret")
    session.headers["Authorization"] = "Bearer tenant-one"
    fresh_pool.give_back(key, session)

    again = fresh_pool.take(key)
    assert again is session
    assert len(again.cookies) == 0 and again.auth is None and "Authorization" not in again.headers


def test_a_session_built_under_other_sandbox_mounts_is_not_reused(fresh_pool):
    key = transport.SessionKey(("testvendor", 1), "https://vendor.test", "digest")
    session = fresh_pool.take(key)
    fresh_pool.give_back(key, session)
    with transport.mounted("https://vendor.test", lambda environ, start_response: []):
        assert fresh_pool.take(key) is not session


def test_an_idle_session_past_its_keep_alive_is_not_reused():
    now = [0.0]
    pool = transport.SessionPool(idle_seconds=30, clock=lambda: now[0])
    key = transport.SessionKey(("testvendor", 1), "https://vendor.test", "digest")
    session = pool.take(key)
    pool.give_back(key, session)
    now[0] = 31.0
    assert pool.take(key) is not session


def test_a_forked_worker_does_not_use_its_parents_sessions(monkeypatch, fresh_pool):
    key = transport.SessionKey(("testvendor", 1), "https://vendor.test", "digest")
    session = fresh_pool.take(key)
    fresh_pool.give_back(key, session)
    monkeypatch.setattr(transport.os, "getpid", lambda: -1)
    assert fresh_pool.take(key) is not session


def test_threads_never_share_a_session(fresh_pool):
    key = transport.SessionKey(("testvendor", 1), "https://vendor.test", "digest")
    in_use: set[int] = set()
    guard = threading.Lock()
    shared: list[int] = []

    def work():
        for _ in range(200):
            session = fresh_pool.take(key)
            with guard:
                if id(session) in in_use:
                    shared.append(id(session))
                in_use.add(id(session))
            with guard:
                in_use.discard(id(session))
            fresh_pool.give_back(key, session)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert shared == []
    assert fresh_pool.reused > 0
    assert fresh_pool.idle_count(key) <= fresh_pool.per_key


def test_the_environments_proxies_are_read_once_per_session_and_honoured(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "inside.example")
    reads: list[str] = []
    real = transport.get_environ_proxies

    def counted(url, no_proxy=None):
        reads.append(url)
        return real(url, no_proxy=no_proxy)

    monkeypatch.setattr(transport, "get_environ_proxies", counted)
    session = transport.build_session()
    for _ in range(5):
        settings = session.merge_environment_settings("https://api.vendor.example/customers?page=2", {}, None,
                                                      None, None)
        assert settings["proxies"]["https"] == "http://proxy.example:3128"
    assert session.merge_environment_settings("https://inside.example/x", {}, None, None, None)["proxies"] == {}
    assert len(reads) == 2  # one look-up per origin, not per request


def test_requests_through_a_pooled_session_read_the_environment_once(monkeypatch):
    reads: list[str] = []
    real = transport.get_environ_proxies
    monkeypatch.setattr(transport, "get_environ_proxies", lambda url, no_proxy=None: reads.append(url) or
                        real(url, no_proxy=no_proxy))

    def vendor(environ, start_response):
        return Response(json.dumps({"ok": True}), mimetype="application/json")(environ, start_response)

    with transport.mounted("https://vendor.test", vendor):
        for _ in range(3):
            one = client("https://vendor.test")
            one.json("GET", "/customers")
            one.json("GET", "/customers/1")
            one.close()
    assert len(reads) == 1


def test_no_credentials_file_is_added_to_a_vendor_request(monkeypatch, tmp_path):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine vendor.test login someone password from-the-disk\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    seen: list[str | None] = []

    def vendor(environ, start_response):
        seen.append(Request(environ).headers.get("Authorization"))
        return Response("{}", mimetype="application/json")(environ, start_response)

    with transport.mounted("https://vendor.test", vendor):
        transport.build_session().get("https://vendor.test/customers")
    assert seen == [None]


def test_a_redirect_to_another_host_never_carries_the_authorization_header():
    elsewhere: list[Request] = []

    def vendor(environ, start_response):
        return Response("", status=302, headers={"Location": "https://elsewhere.test/collect"})(environ,
                                                                                             start_response)

    def collector(environ, start_response):
        elsewhere.append(Request(environ))
        return Response("{}", mimetype="application/json")(environ, start_response)

    with transport.mounted("https://vendor.test", vendor), transport.mounted("https://elsewhere.test", collector):
        keyed = client("https://vendor.test")
        with pytest.raises(ForeignAnswerError):  # a client never follows a redirect
            keyed.json("GET", "/customers")
        assert elsewhere == []

        # Even a pooled session asked to follow one drops the header at the other host.
        session = keyed.session
        response = session.get("https://vendor.test/customers", headers={"Authorization": "Bearer key-one"})
        assert response.status_code == 200
        assert len(elsewhere) == 1 and "Authorization" not in elsewhere[0].headers
        keyed.close()


def test_a_session_given_by_the_caller_is_closed_not_pooled(fresh_pool):
    given = requests.Session()
    closed: list[bool] = []
    given.close = lambda: closed.append(True)  # type: ignore[method-assign]
    own = KeyedClient(base_url="https://vendor.test", credentials={"api_key": "k"}, session=given, connection_id=1)
    own.close()
    own.close()
    assert closed == [True]
    assert fresh_pool.idle_count() == 0
