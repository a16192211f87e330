"""A demo sandbox kept in its SQLite file comes back after a restart exactly as it was left."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import pytest

from integrations.models import Connection
from integrations.systems import transport
from integrations.systems.catalog import Entity
from integrations.systems.registry import get_system
from integrations.systems.sandbox_state import SandboxState
from tests.factories import TenantFactory
from tests.harness import BASES, QUIET, demo_credentials

SYSTEMS = sorted(BASES)


def kept_sandbox(key: str, path: Path, *, seed: bool = True):
    """A sandbox built as the demo builds it with ``SANDBOX_STATE_DIR`` set: load the file, else seed it."""
    sandbox = get_system(key).sandbox(rate_limit=(0, 0), seed=11)
    sandbox.keep_state(SandboxState(path), sandbox.seed_demo if seed else None)
    return sandbox


def state_of(sandbox) -> tuple[dict, dict]:
    with sandbox.lock:
        return ({name: copy.deepcopy(dict(rows)) for name, rows in sandbox.persistent_collections().items()},
                copy.deepcopy(sandbox.persistent_meta()))


@pytest.mark.parametrize("key", SYSTEMS)
def test_a_restarted_sandbox_holds_what_it_held(key, tmp_path):
    first = kept_sandbox(key, tmp_path / f"{key}.sqlite3")
    before = state_of(first)
    assert sum(len(rows) for rows in before[0].values()) > 0, "the demo data was seeded"
    first.state.close()

    def refuse_seed():
        raise AssertionError("a kept sandbox is not seeded again")

    again = get_system(key).sandbox(rate_limit=(0, 0), seed=11)
    again.keep_state(SandboxState(tmp_path / f"{key}.sqlite3"), refuse_seed)
    assert state_of(again) == before


def test_only_what_changed_is_written(tmp_path):
    sandbox = kept_sandbox("webcrm", tmp_path / "webcrm.sqlite3")
    assert sandbox.state.save(sandbox) == 0
    with sandbox.lock:
        organisation = next(iter(sandbox.store.tables["Organisations"].rows.values()))
        organisation["OrganisationCity"] = "Skagen"
    assert sandbox.state.save(sandbox) == 1
    with sandbox.lock:
        del sandbox.store.tables["Organisations"].rows[str(organisation["OrganisationId"])]
    assert sandbox.state.save(sandbox) == 1
    sandbox.state.close()
    again = kept_sandbox("webcrm", tmp_path / "webcrm.sqlite3")
    assert str(organisation["OrganisationId"]) not in again.store.tables["Organisations"].rows


@pytest.mark.django_db
@pytest.mark.parametrize("key", SYSTEMS)
def test_records_written_through_the_api_survive_a_restart_and_ids_go_on(key, tmp_path):
    """What a client wrote before the restart is there after it, and the next record gets a new id (a reused id
    would make Synkro's links point at a stranger)."""
    path = tmp_path / f"{key}.sqlite3"
    tenant = TenantFactory()
    connection = Connection.objects.create(tenant=tenant, system=key, name=key, base_url=BASES[key],
                                           credentials=demo_credentials(key))
    provider = get_system(key)
    entity = next(e for e in (Entity.ORGANISATION, Entity.PERSON) if provider.catalog().entity(e) is not None)
    spec = provider.catalog().entity(entity)

    first = kept_sandbox(key, path)
    with transport.mounted(BASES[key], first):
        client = connection.client(**QUIET)
        existing = list(itertools.islice(client.list_records(entity), 5))
        assert existing, "the demo data has records to copy from"
        record_id = client.record_id(entity, existing[0])
        created = client.create_record(entity, _copy_of(existing[0], spec))
        created_id = client.record_id(entity, created)
    first.state.close()

    again = kept_sandbox(key, path)
    with transport.mounted(BASES[key], again):
        client = connection.client(**QUIET)
        assert client.record_id(entity, client.get_record(entity, record_id)) == record_id
        assert client.record_id(entity, client.get_record(entity, created_id)) == created_id
        second = client.create_record(entity, _copy_of(existing[0], spec))
        assert client.record_id(entity, second) not in (created_id, record_id)


def _copy_of(record: dict, spec) -> dict:
    """The writable values of a record, with its number and e-mail left out so no uniqueness rule refuses it."""
    skipped = {spec.id_field, spec.number_field, spec.modified_field, spec.created_field}
    writable = {f.name for f in spec.fields if not f.read_only} - skipped
    values = {name: value for name, value in record.items() if name in writable and value not in (None, "", [])}
    for role, name in spec.field_roles:
        if role in ("number", "email", "vat"):
            values.pop(name, None)
    return values
