"""Changes as events, without the emulators: ids that make each change one event, what a
partner may see of it (never a hidden field), which fields changed, and which writes
are no event at all."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from functions.domain import changes
from functions.resources import declaration
from tests.helpers import ROOT, more_declaration

NOW = dt.datetime(2026, 3, 31, 9, 15, 0, 123456, tzinfo=dt.UTC)


def entries() -> Any:
    resource = declaration.current().get("entries")
    assert resource is not None
    return resource


def stored(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "partnerId": "acme",
        "description": "Catering",
        "amount": "12.50",
        "currency": "EUR",
        "date": "2026-03-31",
        "createdAt": NOW,
        "updatedAt": NOW,
        "createdBy": "key:abc",
        "version": 1,
    }
    document.update(overrides)
    return {k: v for k, v in document.items() if v is not None}


class Nanoseconds(dt.datetime):
    """What Firestore's client reads a timestamp back as (a datetime subclass)."""


def test_the_api_and_the_trigger_derive_one_id_from_the_same_content() -> None:
    written = stored()
    read_back = {**written, "createdAt": Nanoseconds.fromisoformat(NOW.isoformat())}
    assert changes.api_event_id(entries(), "e1", written) == changes.api_event_id(
        entries(), "e1", read_back
    )
    others = {
        changes.api_event_id(entries(), "e2", written),
        changes.api_event_id(entries(), "e1", stored(amount="12.51")),
        changes.api_event_id(entries(), "e1", stored(version=2)),
        changes.api_event_id(entries(), "e1", stored(updatedAt=NOW + dt.timedelta(microseconds=1))),
        changes.api_event_id(entries(), "e1", {**written, "version": 1.0}),
    }
    assert changes.api_event_id(entries(), "e1", written) not in others
    assert len(others) == 5
    assert changes.api_event_id(entries(), "e1", written).startswith("evt_")
    assert len(changes.api_event_id(entries(), "e1", written)) == 36


def test_another_writers_event_id_is_its_change_and_commit_time() -> None:
    one = changes.write_event_id(entries(), "e1", "updated", NOW)
    assert one == changes.write_event_id(entries(), "e1", "updated", NOW.astimezone())
    assert one != changes.write_event_id(entries(), "e1", "deleted", NOW)
    assert one != changes.write_event_id(
        entries(), "e1", "updated", NOW + dt.timedelta(microseconds=1)
    )
    assert changes.same_instant(NOW, NOW.astimezone(dt.timezone(dt.timedelta(hours=2))))
    assert not changes.same_instant(NOW, NOW + dt.timedelta(microseconds=1))


def test_an_event_holds_the_record_as_the_api_gives_it_and_the_fields_that_changed() -> None:
    before = stored()
    after = stored(amount="13.00", category="food", version=2, updatedAt=NOW + dt.timedelta(1))
    event = changes.event_of(entries(), "e1", before, after, event_id="evt_x", at=NOW, writer="app")
    assert event is not None
    assert (event.type, event.partner_id, event.record_id, event.version) == (
        "entries.updated", "acme", "e1", 2,
    )  # fmt: skip
    assert event.changed == ("amount", "category", "updatedAt", "version")
    assert event.data == {
        "id": "e1", "partnerId": "acme", "description": "Catering", "amount": "13.00",
        "currency": "EUR", "date": "2026-03-31", "category": "food", "reference": None,
        "createdAt": "2026-03-31T09:15:00.123456Z", "updatedAt": "2026-04-01T09:15:00.123456Z",
        "createdBy": "key:abc", "version": 2,
    }  # fmt: skip
    assert event.request_id is None


def test_a_deletion_carries_the_record_as_it_was() -> None:
    event = changes.event_of(entries(), "e1", stored(), None, event_id="e", at=NOW, writer="app")
    assert event is not None
    assert event.type == "entries.deleted"
    assert event.data["amount"] == "12.50"
    assert "amount" in event.changed


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (stored(), stored()),  # nothing changed
        (None, stored(partnerId=None)),  # no tenant: nobody's record
        (None, stored(partnerId="")),
        (None, None),
    ],
)
def test_a_write_no_partner_sees_is_no_event(before: Any, after: Any) -> None:
    assert (
        changes.event_of(entries(), "e1", before, after, event_id="e", at=NOW, writer="app") is None
    )


def test_a_hidden_field_never_appears_nor_is_named() -> None:
    menus = more_declaration().get("menus")
    assert menus is not None
    hidden = [spec.name for spec in menus.fields if not spec.readable]
    assert hidden, "the fixture declares a hidden field"
    before = {"restaurantId": "acme", hidden[0]: "secret-1", "name": "Lunch"}
    after = {**before, hidden[0]: "secret-2"}
    assert changes.event_of(menus, "m1", before, after, event_id="e", at=NOW, writer="app") is None
    after = {**after, "name": "Dinner"}
    tenant = menus.tenant_field
    event = changes.event_of(
        menus, "m1", {**before, tenant: "acme"}, {**after, tenant: "acme"},
        event_id="e", at=NOW, writer="app",
    )  # fmt: skip
    assert event is not None
    assert hidden[0] not in event.data
    assert hidden[0] not in event.changed
    assert "secret" not in repr(event)
    assert event.changed == ("name",)


def test_one_trigger_per_declared_collection_named_after_its_resource(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.edge import triggers

    assert triggers.trigger_name("entries") == "entriesChanged"
    assert triggers.trigger_name("order-lines") == "orderLinesChanged"
    made = triggers.record_triggers()
    assert list(made) == ["entriesChanged", "entriesChangedSandbox"]  # test mode's twin
    for name, database in (("entriesChanged", "(default)"), ("entriesChangedSandbox", "sandbox")):
        endpoint = made[name].__firebase_endpoint__  # type: ignore[attr-defined]
        pattern = endpoint.eventTrigger["eventFilterPathPatterns"]
        assert pattern == {"document": "entries/{docId}"}
        assert endpoint.eventTrigger["eventType"] == "google.cloud.firestore.document.v1.written"
        assert endpoint.eventTrigger["eventFilters"]["database"] == database
    monkeypatch.setenv("ENTRIES_COLLECTION", "benchEntries")
    moved = triggers.record_triggers()["entriesChanged"].__firebase_endpoint__  # type: ignore[attr-defined]
    assert moved.eventTrigger["eventFilterPathPatterns"] == {"document": "benchEntries/{docId}"}


def test_an_unreadable_declaration_makes_no_trigger(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.edge import triggers

    broken = tmp_path / "resources.toml"
    broken.write_text("[entries\n")
    monkeypatch.setenv("PARTNER_RESOURCES", str(broken))
    declaration._load_cached.cache_clear()
    assert triggers.record_triggers() == {}


def test_stored_events_and_endpoints_edited_into_other_shapes_read_as_harmless() -> None:
    from functions.store import events as event_store
    from functions.store import webhooks as endpoint_store

    odd = event_store.event_from(
        "evt_x",
        {"at": "yesterday", "data": "{not json", "changed": "amount", "version": True,
         "requestId": 7, "partnerId": "acme"},
    )  # fmt: skip
    assert (odd.at, odd.data, odd.changed, odd.version, odd.request_id) == (
        event_store.EPOCH, {}, (), None, None,
    )  # fmt: skip
    endpoint = endpoint_store._endpoint(
        "we_x",
        {"partnerId": "acme", "status": "ENABLED!", "eventTypes": "*", "createdAt": None,
         "secrets": ["whsec_x", {"value": 3}, {"value": "whsec_ok", "expiresAt": "soon"}],
         "description": 5, "failingSince": "1970"},
    )  # fmt: skip
    assert endpoint.status == "disabled"
    assert endpoint.event_types == ()
    assert not endpoint.wants("entries.created")
    assert endpoint.created_at == endpoint_store.EPOCH
    assert [(s.value, s.expires_at) for s in endpoint.secrets] == [("whsec_ok", None)]
    assert (endpoint.description, endpoint.failing_since) == (None, None)


@pytest.mark.parametrize(
    ("variable", "value", "reads"),
    [
        ("EVENTS_RETENTION_DAYS", "36501", "events_retention_days"),
        ("AUDIT_RETENTION_DAYS", "99999999999999", "audit_retention_days"),
        ("IDEMPOTENCY_TTL_HOURS", "8785", "idempotency_ttl_hours"),
        ("MAX_BODY_BYTES", "33554433", "max_body_bytes"),
        ("EVENTS_RETENTION_DAYS", "0", "events_retention_days"),
    ],
)
def test_a_whole_number_setting_out_of_its_range_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, reads: str
) -> None:
    from functions.core import config
    from functions.core.errors import ConfigurationError

    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=f"{variable} must be 1"):
        getattr(config, reads)()
    monkeypatch.setenv(variable, "1024")
    assert getattr(config, reads)() == 1024


def test_the_cloud_tasks_emulator_variable_is_refused_in_a_deployed_function(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.core import config
    from functions.core.errors import ConfigurationError

    for name in config.LOCAL_ONLY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GCLOUD_PROJECT", "acme-accounting")
    monkeypatch.setenv("K_SERVICE", "deliverwebhook")
    config.check_local_only()
    monkeypatch.setenv("CLOUD_TASKS_EMULATOR_HOST", "127.0.0.1:9499")
    with pytest.raises(ConfigurationError, match="CLOUD_TASKS_EMULATOR_HOST is set"):
        config.check_local_only()


def test_the_firestore_triggers_deploy_with_retries_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The manifest the Firebase CLI deploys from (the SDK's own writer, as discovery
    serves it) says `retry: true` for every Firestore trigger, and nothing else changes."""
    import functions_framework
    import yaml
    from firebase_functions.private import serving

    from functions.edge import triggers

    # main.py registers its error handler on the app functions-framework built last
    # (a global it sets): here, as in discovery, there is none.
    none = functions_framework.DummyErrorHandler()  # type: ignore[no-untyped-call]
    monkeypatch.setattr(functions_framework, "errorhandler", none)
    monkeypatch.chdir(ROOT)
    found = serving.get_functions()  # type: ignore[no-untyped-call]
    manifest = yaml.safe_load(serving.functions_as_yaml(found))
    events = {
        name: endpoint["eventTrigger"]
        for name, endpoint in manifest["endpoints"].items()
        if "eventTrigger" in endpoint
    }
    twins = ["entriesChanged", "entriesChangedSandbox", "eventCreated", "eventCreatedSandbox"]
    assert sorted(events) == twins
    assert {name: trigger["retry"] for name, trigger in events.items()} == dict.fromkeys(
        twins, True
    )
    databases = {name: trigger["eventFilters"]["database"] for name, trigger in events.items()}
    assert databases == {
        "entriesChanged": "(default)",
        "entriesChangedSandbox": "sandbox",
        "eventCreated": "(default)",
        "eventCreatedSandbox": "sandbox",
    }
    assert events["entriesChanged"]["eventType"] == "google.cloud.firestore.document.v1.written"
    assert triggers.SDK_HAS_RETRY is False  # when it turns True, drop `retried`


def test_a_trigger_of_an_unexpected_shape_stops_discovery_with_a_reason() -> None:
    from functions.edge import triggers

    def bare() -> None:
        return None

    with pytest.raises(RuntimeError, match="no eventTrigger retry flag"):
        triggers.retried(bare)


@pytest.mark.parametrize(
    ("before", "after", "moved"),
    [
        ({"partnerId": "a"}, {"partnerId": "b"}, True),
        ({"partnerId": "a"}, {}, True),  # out of every tenant
        ({}, {"partnerId": "b"}, True),  # into one
        ({"partnerId": "a"}, {"partnerId": "a", "x": 1}, False),
        (None, {"partnerId": "b"}, False),  # a creation
        ({"partnerId": "a"}, None, False),  # a deletion
    ],
)
def test_a_move_between_tenants_is_told_from_other_changes(
    before: dict[str, Any] | None, after: dict[str, Any] | None, moved: bool
) -> None:
    assert changes.moved(entries(), before, after) is moved


def test_event_ids_are_the_documented_formula_so_every_version_derives_the_same() -> None:
    """An instance of the previous version and one of this may see the same write during
    a deploy (the API's commit, the trigger after it): each id is pinned to its formula,
    `evt_` and 32 hex of sha256 over newline-joined parts, and the content to one
    canonical JSON (times to the microsecond since the epoch, naive ones as UTC, bytes
    as hex, floats by repr, keys sorted, no spaces)."""
    import hashlib
    import json

    naive = dt.datetime(2026, 1, 1)
    document = stored(tags=[1.0, 1, b"\x01\xff", naive], version=2)
    canonical = changes.canonical(document)
    micros = (NOW - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    assert canonical["createdAt"] == {"$t": micros}
    assert canonical["tags"] == [
        {"$f": "1.0"},
        1,
        {"$b": "01ff"},
        {"$t": (naive.replace(tzinfo=dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
         // dt.timedelta(microseconds=1)},
    ]  # fmt: skip
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    assert changes.content_key(document) == hashlib.sha256(text.encode()).hexdigest()

    def evt(*parts: str) -> str:
        return "evt_" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]

    key = changes.content_key(document)
    assert changes.api_event_id(entries(), "e1", document) == evt("entries", "e1", "content", key)
    written = dt.datetime(2026, 3, 31, 9, 15, 1, 5, tzinfo=dt.UTC)
    assert changes.write_event_id(entries(), "e1", "updated", written) == evt(
        "entries", "e1", "updated", str(changes.canonical(written))
    )


def test_an_event_and_its_wire_shape_carry_every_field() -> None:
    before, after = stored(), stored(description="Dinner", version=2)
    event = changes.event_of(
        entries(), "e1", before, after, event_id="evt_1", at=NOW, writer="api", request_id="r1"
    )
    assert event is not None
    assert changes.event_json(event) == {
        "id": "evt_1",
        "type": "entries.updated",
        "partner_id": "acme",
        "resource": "entries",
        "record_id": "e1",
        "version": 2,
        "data": changes.visible(entries(), after, "e1"),
        "changed_fields": ["description", "version"],
        "occurred_at": "2026-03-31T09:15:00.123456Z",
        "writer": "api",
        "request_id": "r1",
    }
    created = changes.event_of(
        entries(), "e2", None, stored(version=True), event_id="evt_2", at=NOW, writer="app"
    )
    assert created is not None
    assert (created.type, created.version, created.request_id) == ("entries.created", None, None)
    assert changes.changed_fields(entries(), None, {"id": "x", **stored()}) == (
        "partnerId", "description", "amount", "currency", "date", "createdAt", "updatedAt",
        "createdBy", "version",
    )  # fmt: skip
