"""The drill knobs every sandbox shares: answers lost after a write, late answers, doubled and delayed notices."""

from __future__ import annotations

import json
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from integrations.systems import sandbox as sandbox_module
from integrations.systems import sandboxes, transport
from integrations.systems.catalog import Entity
from integrations.systems.errors import TransientError
from integrations.systems.registry import get_system

ORG = Entity.ORGANISATION
WEBCRM, UNICONTA = "https://webcrm.knobs.test", "https://uniconta.knobs.test"


def client_of(system: str, base: str):
    provider = get_system(system)
    return provider.client_class(base_url=base, credentials=provider.demo_credentials, sleep=lambda s: None,
                                 max_attempts=1)


@pytest.fixture
def webcrm():
    app = get_system("webcrm").sandbox(rate_limit=(0, 0), seed=3)
    with transport.mounted(WEBCRM, app):
        yield app, client_of("webcrm", WEBCRM)


@pytest.fixture
def uniconta():
    app = get_system("uniconta").sandbox(rate_limit=(0, 0), seed=3)
    with transport.mounted(UNICONTA, app):
        yield app, client_of("uniconta", UNICONTA)


def test_a_lost_answer_makes_the_webcrm_organisation_and_then_answers_500(webcrm):
    app, client = webcrm
    app.knobs.lost_answer_rate = 1.0
    with pytest.raises(TransientError) as raised:
        client.create_record(ORG, {"OrganisationName": "Tabt Svar ApS", "OrganisationType": "Kunde"})
    assert raised.value.status == 500
    app.knobs.lost_answer_rate = 0.0
    assert [o["OrganisationName"] for o in client.list_records(ORG)] == ["Tabt Svar ApS"]


def test_a_lost_answer_applies_the_uniconta_update(uniconta):
    app, client = uniconta
    debtor = client.create_record(ORG, {"Name": "Vestkyst Bolig A/S", "City": "Esbjerg"})
    app.knobs.lost_answer_rate = 1.0
    with pytest.raises(TransientError):
        client.update_record(ORG, debtor["Account"], {"City": "Ribe"})
    app.knobs.lost_answer_rate = 0.0
    assert client.get_record(ORG, debtor["Account"])["City"] == "Ribe"


def test_reads_and_refused_writes_keep_their_own_answers(webcrm):
    app, client = webcrm
    made = client.create_record(ORG, {"OrganisationName": "Læsbar ApS", "OrganisationType": "Kunde"})
    app.knobs.lost_answer_rate = 1.0
    assert client.get_record(ORG, str(made["OrganisationId"]))["OrganisationName"] == "Læsbar ApS"
    refused = client.session.post(f"{WEBCRM}/Organisations", data=b"not json",
                                  headers={"Authorization": "Bearer wrong", "Content-Type": "application/json"})
    assert refused.status_code == 401  # a write the vendor refused did nothing: its own answer stands


def test_a_late_answer_is_applied_and_comes_after_the_clients_timeout():
    app = get_system("webcrm").sandbox(rate_limit=(0, 0), seed=3)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = client_of("webcrm", f"http://127.0.0.1:{server.server_port}")
        client.timeout = (5.0, 0.2)
        app.knobs.late_answer_rate, app.knobs.late_answer_ms = 1.0, 1500
        with pytest.raises(TransientError, match="did not answer in time"):
            client.create_record(ORG, {"OrganisationName": "Sent Svar ApS", "OrganisationType": "Kunde"})
        app.knobs.late_answer_rate = 0.0
        client.timeout = (5.0, 30.0)
        assert [o["OrganisationName"] for o in client.list_records(ORG)] == ["Sent Svar ApS"]
    finally:
        server.shutdown()
        thread.join()


class Subscriber:
    """A webhook receiver that keeps every body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.threads: set[int] = set()
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self.lock:
            self.bodies.append(request.get_data())
            self.threads.add(threading.get_ident())
        return Response("ok")(environ, start_response)


@pytest.fixture
def subscriber():
    receiver = Subscriber()
    with transport.mounted("https://hooks.knobs.test", receiver):
        yield receiver


def test_a_duplicated_notice_is_sent_twice_and_counted_as_duplicated(subscriber):
    app = get_system("webcrm").sandbox(rate_limit=(0, 0), seed=3)
    app.knobs.webhook_duplicate_rate = 1.0
    first = app.deliver_webhook("https://hooks.knobs.test/h", {"EntityId": 7})
    assert subscriber.bodies == [b'{"EntityId": 7}', b'{"EntityId": 7}']
    assert first.status == 200 and not first.duplicate
    assert sandboxes.sandbox_knobs_state(app)["webhooks"] == {"sent": 1, "duplicated": 1}


def test_delayed_notices_wait_a_random_while_each_off_the_vendors_thread(subscriber, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(sandbox_module.time, "sleep", waits.append)
    app = get_system("webcrm").sandbox(rate_limit=(0, 0), seed=3)
    app.knobs.webhook_delay_ms = 2000
    before = set(threading.enumerate())
    for n in range(6):
        app.deliver_webhook("https://hooks.knobs.test/h", {"EntityId": n})
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=10)
    assert sorted(json.loads(b)["EntityId"] for b in subscriber.bodies) == list(range(6))
    assert threading.get_ident() not in subscriber.threads
    assert len(waits) == 6 and all(0 <= w <= 2.0 for w in waits) and len(set(waits)) == 6


def test_the_knobs_panel_sets_the_new_knobs_and_refuses_unknown_ones(monkeypatch):
    monkeypatch.setenv("SANDBOX_DEMO_DATA", "false")
    monkeypatch.delenv("SANDBOX_STATE_DIR", raising=False)
    monkeypatch.setattr(sandboxes, "_instances", {})
    panel = Client(sandboxes.sandbox_knobs_app)
    changes = {"webhook_duplicate_rate": 0.1, "webhook_delay_ms": 800, "lost_answer_rate": 0.05,
               "late_answer_rate": 0.02, "late_answer_ms": 31000}
    answer = panel.post("/uniconta", data=json.dumps(changes), content_type="application/json")
    assert answer.status_code == 200
    assert {k: answer.json["knobs"][k] for k in changes} == changes
    refused = panel.post("/uniconta", data=json.dumps({"lose_everything": 1}), content_type="application/json")
    assert refused.status_code == 400 and "lose_everything" in refused.json["error"]
