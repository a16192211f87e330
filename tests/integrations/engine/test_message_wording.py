"""Messages built from parts read as English, with the systems named as they write themselves."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from integrations.engine import wording
from integrations.engine.intake import _notice
from integrations.engine.process import _failed_reason
from integrations.systems.base import WebhookEvent
from integrations.systems.catalog import Entity
from integrations.systems.registry import all_systems, get_system

SYSTEMS = [provider.key for provider in all_systems()]
ACTIONS = ["created", "updated", "deleted"]
NAMES = {"webcrm": "webCRM", "uniconta": "Uniconta", "fortnox": "Fortnox", "vismanet": "Visma.net",
         "customers1st": "Customers 1st"}


def _side(system: str, entity: str):
    provider = get_system(system)
    return SimpleNamespace(system=system, name=provider.name, spec=provider.catalog().entity(entity))


def _no_system_key(message: str) -> None:
    for key, name in NAMES.items():
        if key != name:
            assert not re.search(rf"\b{re.escape(key)}\b", message), message


def _article_fits(message: str) -> None:
    article, rest = message.split(" ", 1)
    assert article in ("A", "An"), message
    assert article.lower() == wording.indefinite_article(rest), message


def test_the_registry_names_the_systems_as_they_write_themselves():
    assert {key: wording.system_name(key) for key in SYSTEMS} == NAMES
    assert wording.system_name("sap") == "another system"


@pytest.mark.parametrize("system", SYSTEMS)
def test_every_failure_summary_has_the_right_article_and_the_systems_name(system):
    entities = [str(e) for e in Entity]
    for entity in entities:
        for action in ACTIONS:
            event = SimpleNamespace(system=system, entity=entity, action=action)
            other = "uniconta" if system != "uniconta" else "webcrm"
            for ctx in (None, SimpleNamespace(crm=_side(system, entity), erp=_side(other, entity))):
                message = _failed_reason(event, ctx)
                _article_fits(message)
                assert f" in {NAMES[system]} could not be synced." in message, message
                _no_system_key(message)


@pytest.mark.parametrize(("system", "entity", "action", "expected"), [
    ("uniconta", "organisation", "updated", "A debtor changed in Uniconta could not be synced."),
    ("webcrm", "organisation", "updated", "An organisation changed in webCRM could not be synced."),
    ("webcrm", "user", "created", "A user made in webCRM could not be synced."),
    ("customers1st", "pos_sale", "created", "A POS payment made in Customers 1st could not be synced."),
    ("vismanet", "item", "deleted", None),
    ("fortnox", "invoice", "updated", None),
])
def test_samples_read_exactly(system, entity, action, expected):
    other = "uniconta" if system != "uniconta" else "webcrm"
    ctx = SimpleNamespace(crm=_side(system, entity), erp=_side(other, entity))
    message = _failed_reason(SimpleNamespace(system=system, entity=entity, action=action), ctx)
    if expected is not None:
        assert message == expected
    else:
        _article_fits(message)
        assert message.endswith(f"in {NAMES[system]} could not be synced.")


def test_without_its_context_a_failure_still_names_the_system_and_not_its_key():
    event = SimpleNamespace(system="uniconta", entity="organisation", action="updated")
    assert _failed_reason(event, None) == "An organisation changed in Uniconta could not be synced."
    event = SimpleNamespace(system="customers1st", entity="pos_sale", action="created")
    assert _failed_reason(event, None) == "A POS sale made in Customers 1st could not be synced."


@pytest.mark.parametrize("entity", [str(e) for e in Entity])
def test_a_notice_without_an_id_is_named_with_the_right_article(entity):
    message = _notice(WebhookEvent(entity=entity, action="updated", external_id="", payload={}))
    _article_fits(message)
    assert "_" not in message


@pytest.mark.parametrize(("phrase", "article"), [
    ("organisation", "an"), ("updated organisation", "an"), ("item", "an"), ("invoice", "an"), ("order", "an"),
    ("user", "a"), ("Uniconta debtor", "a"), ("unit", "a"), ("debtor", "a"), ("customer", "a"),
    ("POS sale", "a"), ("SO", "an"), ("EAN", "an"), ("HR record", "an"), ("hour", "an"), ("webCRM person", "a"),
    ("8-digit number", "an"), ("11th", "an"), ("110", "a"), ("“Kunde” organisation", "a"), ("", "a"),
])
def test_indefinite_articles(phrase, article):
    assert wording.indefinite_article(phrase) == article


def test_with_article_capitalises_on_request():
    assert wording.with_article("organisation") == "an organisation"
    assert wording.with_article("user", capital=True) == "A user"


def test_the_screens_name_systems_and_entities_in_words():
    from support.templatetags.synkro_words import entity_label, system_name

    assert [system_name(key) for key in SYSTEMS] == [NAMES[key] for key in SYSTEMS]
    assert (entity_label("pos_sale"), entity_label("organisation"), entity_label("delivery_line")) == (
        "POS sales", "Organisations / debtors", "delivery line")


def test_a_refusal_of_a_client_names_the_record_with_its_article():
    from integrations.systems.errors import VendorValidationError
    from tests.harness import BASES, demo_credentials

    client = get_system("vismanet").client(base_url=BASES["vismanet"], credentials=demo_credentials("vismanet"))
    for entity in (Entity.INVOICE, Entity.USER):
        with pytest.raises(VendorValidationError) as refused:
            client.delete_record(entity, "1")
        record = str(refused.value).removeprefix("Visma.net ERP cannot delete ")
        article, rest = record.split(" ", 1)
        assert article == wording.indefinite_article(rest) and rest == rest.lower(), record
    assert wording.with_article("employee") == "an employee"
