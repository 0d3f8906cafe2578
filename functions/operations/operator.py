"""What an owner does to run partners, one method an action: the users (custom claims),
the partner records, limits and suspension, the API keys, the audit trail and the
inspection of a declared collection.

The command-line tool parses and prints around these methods; any other front end (a
console) calls the same ones. Each refuses with `Refused` or `UsageError` before it
changes anything, and says what holds afterwards on each door (`SUSPENDED_NOTE`,
`DIRECT_ACCESS_NOTE`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from functions.auth.callers import PARTNER_ID_CLAIM
from functions.core import config
from functions.core.api_keys import ApiKey
from functions.core.errors import ApiError
from functions.core.models import (
    EPOCH,
    AuditEntry,
    DayUsage,
    Delivery,
    PartnerRecord,
    UserAccess,
    WebhookEndpoint,
    is_document_id,
)
from functions.domain.webhooks import delivery
from functions.domain.webhooks import endpoints as webhooks
from functions.operations.clients import firestore_client, shared_firestore_client
from functions.operations.errors import Refused, UsageError
from functions.operations.keys import IssuedKey, KeyDirectory, operator_name
from functions.operations.records import PartnerRecords, limit_overrides
from functions.operations.users import (
    Change,
    PartnerDirectory,
    PartnerUser,
    merged_grant,
    merged_revoke,
    synced_access,
)
from functions.store import audit as audit_store
from functions.store import partner_users as access_store

if TYPE_CHECKING:
    from functions.operations.clients import Database
    from functions.operations.inspection import Inspection
    from functions.operations.proposal import Proposal

SUSPENDED_NOTE = (
    "the API: its users and keys get 403 partner_suspended on their next call. straight on "
    "Firestore: the rules refuse its users' reads and creates on their next request, in "
    "every collection whose direct_access allows them"
)
DIRECT_ACCESS_NOTE = (
    "note: both doors apply this on the user's next call; straight on Firestore, the rules "
    "refuse every token signed in before this change: the user signs in again"
)


class Operator:
    """One project's partners, run with the operator's credentials (or the emulators).

    Clients are made on first use, so an action refused on its own words connects to
    nothing. Every change is audited in the partner's trail, with `actor` (`cli:<login>`
    by default, `console:<email>` from the console) and `credential` (`cli`, `console`).
    """

    def __init__(
        self,
        project: str,
        credentials_file: str | None = None,
        *,
        actor: str | None = None,
        credential: str = "cli",
        request_id: str = "",
        database: Database | None = None,
        mode: str = "live",
    ) -> None:
        if mode not in config.MODES:
            raise Refused(f"mode {mode!r} is neither live nor test")
        self.project = project
        self.credentials_file = credentials_file
        self.mode = mode
        if database is not None:
            self.__dict__["database"] = database  # given: not made on first use
        self.actor = actor or f"cli:{operator_name()}"
        self.credential = credential
        self.request_id = request_id

    def _audit(
        self,
        partner_id: str,
        operation: str,
        resource: str,
        record_id: str,
        fields: Sequence[str] = (),
    ) -> None:
        """Record an owner's change in the partner's audit trail (after it was made)."""
        entry = AuditEntry(
            actor=self.actor,
            credential=self.credential,
            partner_id=partner_id,
            operation=operation,
            resource=resource,
            record_id=record_id,
            version_before=None,
            version_after=None,
            fields=tuple(fields),
            request_id=self.request_id,
        )
        audit_store.record(entry, self.data)

    @functools.cached_property
    def users(self) -> PartnerDirectory:
        return PartnerDirectory(self.project, self.credentials_file)

    @functools.cached_property
    def database(self) -> Database:
        return firestore_client(self.project, self.credentials_file)

    @functools.cached_property
    def data(self) -> Database:
        """The database of the operator's mode: the records, audit trail, usage, webhooks
        and deliveries it reads and changes (the live one, or test mode's)."""
        return self.database if self.mode == "live" else self.sandbox

    @functools.cached_property
    def sandbox(self) -> Database:
        """Test mode's database, where the directory's partner and access records are
        also copied for its rules (rules read only their own database). With the default
        credentials, one client per process (the console makes an operator a request)."""
        if self.credentials_file is None:
            return shared_firestore_client(self.project, config.TEST_DATABASE)
        return firestore_client(self.project, self.credentials_file, config.TEST_DATABASE)

    def _put_access(self, access: UserAccess) -> None:
        """A user's access record, in the directory and in its copy for test mode's rules."""
        access_store.put(access, self.database)
        access_store.put(access, self.sandbox)

    @functools.cached_property
    def partners(self) -> PartnerRecords:
        return PartnerRecords(self.database, mirror=self.sandbox)

    @functools.cached_property
    def keys(self) -> KeyDirectory:
        return KeyDirectory(self.project, self.database, self.actor)

    # Partner users.

    def grant(
        self,
        who: str,
        partner_id: str,
        scopes: Sequence[str] | None,
        *,
        move: bool = False,
        create_partner: bool = False,
    ) -> Change:
        """Make `who` a user of `partner_id` (with `scopes`, or those they hold).

        A grant that narrows (a move, fewer scopes) first writes the user's access record
        with a valid-after time of now: tokens signed in before it stop working on the
        direct door at once (the API reads the current claims on every call), and a
        failure after that write leaves the door closed, never open.
        """
        users = self.users
        self.partners.require(partner_id, create=create_partner)
        if self.mode == "test":  # its partner's record, as test mode's rules read it
            self.partners.copy(partner_id)
        current = users.show(who)
        claims = merged_grant(current.claims, partner_id, scopes, move=move, mode=self.mode)
        previous = access_store.get(current.uid, self.database)
        if Change(current.claims, replace(current, claims=claims)).narrows():
            valid_after = dt.datetime.now(dt.UTC)
            self._put_access(UserAccess(current.uid, partner_id, valid_after, current.disabled))
        else:
            valid_after = previous.valid_after if previous else EPOCH
        change = users.grant(who, partner_id, scopes, move=move, mode=self.mode)
        self._put_access(
            UserAccess(change.after.uid, partner_id, valid_after, change.after.disabled)
        )
        self._audit(partner_id, "owner.user.grant", "users", change.after.uid, scopes or ())
        return change

    def check_revoke(self, who: str) -> None:
        """Raises: Refused when `who` is unknown or not a partner user (before anyone is
        asked to confirm)."""
        merged_revoke(self.users.show(who).claims)

    def revoke(self, who: str) -> Change:
        """Close both doors to `who`: the access record first (the rules refuse their
        tokens from now on), then their partner claims and their sessions."""
        current = self.users.show(who)
        merged_revoke(current.claims)
        self._put_access(UserAccess(current.uid, None, dt.datetime.now(dt.UTC), current.disabled))
        change = self.users.revoke(who)
        partner_id = change.before.get(PARTNER_ID_CLAIM)
        if isinstance(partner_id, str):
            self._audit(partner_id, "owner.user.revoke", "users", change.after.uid)
        return change

    def set_disabled(self, who: str, disabled: bool) -> PartnerUser:
        """Disable (or enable) a user's account: Firebase refuses their sign-ins, the API
        their next call and, through the access record written first, the rules their next
        direct request."""
        current = self.users.show(who)
        previous = access_store.get(current.uid, self.database)
        partner_id = current.claims.get(PARTNER_ID_CLAIM)
        access = UserAccess(
            current.uid,
            partner_id if isinstance(partner_id, str) else None,
            previous.valid_after if previous else EPOCH,
            disabled,
        )
        if disabled:
            self._put_access(access)
        user = self.users.set_disabled(current.uid, disabled)
        if not disabled:
            self._put_access(access)
        if isinstance(partner_id, str):
            operation = "owner.user.disable" if disabled else "owner.user.enable"
            self._audit(partner_id, operation, "users", user.uid)
        return user

    def sync_access(self) -> list[UserAccess]:
        """Bring every access record in line with Firebase Auth, so that a user disabled,
        deleted, revoked or moved outside these tools (the Firebase console, firebase-admin)
        is shut out of the direct door too. Returns the records it changed."""
        users = {user.uid: user for user in self.users.users(every_user=True)}
        records = {access.uid: access for access in access_store.every(self.database)}
        changed: list[UserAccess] = []
        for uid in sorted(set(users) | set(records)):
            access = synced_access(uid, users.get(uid), records.get(uid))
            if access is not None and access != records.get(uid):
                self._put_access(access)
                changed.append(access)
        return changed

    def create_user(
        self,
        email: str,
        partner_id: str,
        scopes: Sequence[str] | None,
        *,
        create_partner: bool = False,
    ) -> tuple[PartnerUser, str]:
        """A new partner user and their generated password."""
        users = self.users
        self.partners.require(partner_id, create=create_partner)
        if self.mode == "test":  # its partner's record, as test mode's rules read it
            self.partners.copy(partner_id)
        user, password = users.create(email, partner_id, scopes, mode=self.mode)
        self._audit(partner_id, "owner.user.create", "users", user.uid, scopes or ())
        return user, password

    def partner_users(self, partner_id: str | None = None) -> list[PartnerUser]:
        return list(self.users.users(partner_id))

    def user(self, who: str) -> PartnerUser:
        return self.users.show(who)

    def emulator_token(self, who: str, emulator_host: str | None) -> str:
        """A fresh ID token of `who`: the Auth emulator only."""
        if not emulator_host:
            raise Refused(
                "`token` works only against the Auth emulator (FIREBASE_AUTH_EMULATOR_HOST)"
            )
        return self.users.emulator_token(who, emulator_host)

    # Partner records.

    def partner_records(self) -> list[tuple[PartnerRecord, Any]]:
        return list(self.partners.every())

    def partner(self, partner_id: str) -> tuple[PartnerRecord, Any]:
        return self.partners.get(partner_id)

    def add_partner(
        self, partner_id: str, name: str | None, overrides: Mapping[str, Any] | None = None
    ) -> PartnerRecord:
        record = self.partners.add(partner_id, name or partner_id, overrides or {})
        self._audit(partner_id, "owner.partner.add", "partners", partner_id)
        return record

    def check_suspend(self, partner_id: str) -> None:
        """Raises: Refused for a partner with no record (before anyone is asked)."""
        self.partners.recorded(partner_id)

    def suspend(self, partner_id: str) -> PartnerRecord:
        record = self.partners.change(partner_id, {"status": "suspended"})
        self._audit(partner_id, "owner.partner.suspend", "partners", partner_id, ["status"])
        return record

    def resume(self, partner_id: str) -> PartnerRecord:
        record = self.partners.change(partner_id, {"status": "active"})
        self._audit(partner_id, "owner.partner.resume", "partners", partner_id, ["status"])
        return record

    def set_limits(self, partner_id: str, overrides: Mapping[str, Any]) -> PartnerRecord:
        """Raises: Refused when no limit is given."""
        if not overrides:
            raise Refused("give at least one of --rate, --burst, --daily-creates")
        record = self.partners.set_limits(partner_id, overrides)
        self._audit(partner_id, "owner.partner.limits", "partners", partner_id, sorted(overrides))
        return record

    @staticmethod
    def limit_overrides(
        rate: float | None, burst: int | None, daily_creates: int | None
    ) -> dict[str, Any]:
        """The overrides the given limits make; refused out of range before any call."""
        return limit_overrides(rate, burst, daily_creates)

    # API keys.

    def key_list(self, partner_id: str | None = None) -> list[ApiKey]:
        return self.keys.list(partner_id)

    def key(self, key_id: str) -> ApiKey:
        return self.keys.find(key_id)

    def revoke_key(self, key_id: str) -> ApiKey:
        key = self.keys.revoke(key_id)
        self._audit(key.partner_id, "owner.key.revoke", "apiKeys", key.key_id)
        return key

    def create_key(
        self,
        partner_id: str,
        scopes: Sequence[str] | None,
        *,
        expires_in: str | None = None,
        label: str | None = None,
        create_partner: bool = False,
    ) -> IssuedKey:
        keys = self.keys
        self.partners.require(partner_id, create=create_partner)
        issued = keys.create(partner_id, scopes, expires_in=expires_in, label=label, mode=self.mode)
        self._audit(partner_id, "owner.key.create", "apiKeys", issued.record.key_id)
        return issued

    def roll_key(self, key_id: str, overlap: str) -> tuple[IssuedKey, ApiKey]:
        """The new key, and the old one as it now stands (working until the overlap ends)."""
        issued = self.keys.roll(key_id, overlap)
        old = self.keys.find(key_id)
        self._audit(old.partner_id, "owner.key.roll", "apiKeys", issued.record.key_id, [key_id])
        return issued, old

    # The audit trail.

    def audit(
        self, partner_id: str, since: str | None = None, record_id: str | None = None
    ) -> list[dict[str, Any]]:
        """A partner's audit records, oldest first, from the day `since` (UTC) on.

        Raises: UsageError (a malformed day), Refused (a partner with no record and no
        audit records).
        """
        start = None
        if since is not None:
            try:
                day = dt.date.fromisoformat(since)
            except ValueError as exc:
                raise UsageError(f"--since {since!r} is not a day such as 2026-11-01") from exc
            start = dt.datetime.combine(day, dt.time(), dt.UTC)
        records = self.partners
        found = records.audit(partner_id, start, record_id)
        unknown = not found and not records.get(partner_id)[0].exists
        if unknown and not records.audit(partner_id, None, None):
            raise Refused(f"no partner {partner_id!r}: no record and no audit records")
        return found

    def audit_page(
        self,
        partner_id: str,
        *,
        before: str | None = None,
        operation: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of a partner's audit records, newest first, and the id that asks for the
        next page (None: the last page)."""
        found, after = audit_store.page(
            self.data, partner_id, limit=limit, before=before, operation=operation
        )
        shown = [
            {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in entry.items()}
            for entry in found
        ]
        return shown, after

    # What partners would see of a collection.

    def inspect(
        self,
        resource_name: str,
        *,
        partner_id: str | None = None,
        sample: int,
        progress: Callable[[Iterator[Any]], Iterator[Any]] | None = None,
    ) -> Inspection:
        """Raises: Refused (a resource the declaration does not name, or a declaration
        that does not load)."""
        from functions.operations import inspection  # noqa: PLC0415
        from functions.resources import declaration  # noqa: PLC0415
        from functions.store import records as record_store  # noqa: PLC0415

        try:
            declared = declaration.current()
        except declaration.DeclarationError as exc:
            raise Refused(exc.message) from exc
        resource = declared.get(resource_name)
        if resource is None:
            names = ", ".join(r.name for r in declared.resources) or "none yet"
            raise Refused(
                f"{declared.source} declares no resource {resource_name!r} (it has {names})"
            )
        documents = record_store.scan(resource, self.data, partner_id=partner_id)
        if progress is not None:
            documents = progress(documents)
        return inspection.inspect(resource, documents, partner_id=partner_id, sample=sample)

    def propose(self, collection: str, *, sample: int) -> Proposal:
        """A declaration proposed from at most `sample` documents of `collection` (a
        top-level collection, or `<tenants>/*/<records>`), read only.

        Raises: Refused (a collection path of another form)."""
        from functions.operations import proposal  # noqa: PLC0415
        from functions.store import records as record_store  # noqa: PLC0415

        segments = collection.strip("/").split("/")
        top = len(segments) == 1 and is_document_id(segments[0])
        nested = len(segments) == 3 and segments[1] in ("*", "{tenant}")
        if not (top or nested) or not all(is_document_id(s) for s in segments):
            raise Refused(
                f"collection {collection!r}: name a collection (menus) or each tenant's "
                "subcollection (restaurants/*/orders)"
            )
        documents = record_store.sample(self.data, collection, limit=sample)
        return proposal.propose(collection, documents)

    # Owners: who may use the console.

    def owners(self) -> list[PartnerUser]:
        return list(self.users.owners())

    def add_owner(self, email: str, *, create: bool = False) -> tuple[PartnerUser, str | None]:
        return self.users.add_owner(email, create=create)

    def remove_owner(self, who: str) -> PartnerUser:
        return self.users.remove_owner(who)

    # Usage.

    def usage(self, partner_ids: Sequence[str], days: int) -> list[DayUsage]:
        """Each partner's calls per day over the last `days` days, oldest first.

        Raises: UsageError (days out of range)."""
        from functions.domain import usage  # noqa: PLC0415

        try:
            return usage.usage(partner_ids, days, self.data)
        except ValueError as exc:
            raise UsageError(f"--days: {exc}") from exc

    # Webhook endpoints: the same rules as the partners' own API.

    def add_webhook(
        self,
        partner_id: str,
        url: str,
        event_types: Sequence[str],
        description: str | None = None,
    ) -> tuple[WebhookEndpoint, str]:
        """A new endpoint for a partner with a record, and its secret (shown once)."""
        self.partners.recorded(partner_id)
        endpoint, secret = _refused_as_said(
            lambda: webhooks.create(
                partner_id,
                url,
                event_types,
                description=description,
                created_by=self.actor,
                database=self.data,
            )
        )
        self._audit(partner_id, "owner.webhook.add", "webhookEndpoints", endpoint.id)
        return endpoint, secret

    def webhook_list(self, partner_id: str | None) -> list[WebhookEndpoint]:
        return webhooks.endpoints(partner_id, self.data)

    def webhook(self, endpoint_id: str) -> WebhookEndpoint:
        return _refused_as_said(lambda: webhooks.endpoint(endpoint_id, database=self.data))

    def set_webhook_status(
        self, endpoint_id: str, status: str, reason: str | None = None
    ) -> WebhookEndpoint:
        endpoint = _refused_as_said(
            lambda: webhooks.update(endpoint_id, status=status, reason=reason, database=self.data)
        )
        operation = "owner.webhook." + ("disable" if status == "disabled" else "enable")
        self._audit(endpoint.partner_id, operation, "webhookEndpoints", endpoint.id, ["status"])
        return endpoint

    def rotate_webhook_secret(
        self, endpoint_id: str, overlap: dt.timedelta
    ) -> tuple[WebhookEndpoint, str]:
        endpoint, secret = _refused_as_said(
            lambda: webhooks.rotate_secret(endpoint_id, overlap=overlap, database=self.data)
        )
        self._audit(endpoint.partner_id, "owner.webhook.rotate", "webhookEndpoints", endpoint.id)
        return endpoint, secret

    def delete_webhook(self, endpoint_id: str) -> WebhookEndpoint:
        endpoint = _refused_as_said(lambda: webhooks.remove(endpoint_id, database=self.data))
        self._audit(endpoint.partner_id, "owner.webhook.delete", "webhookEndpoints", endpoint.id)
        return endpoint

    def webhook_deliveries(self, endpoint_id: str, limit: int = 100) -> list[Delivery]:
        """The endpoint's latest deliveries, newest first, every attempt in each."""
        return _refused_as_said(
            lambda: webhooks.deliveries(endpoint_id, limit=limit, database=self.data)
        )

    def webhook_delivery(self, delivery_id: str) -> Delivery:
        return _refused_as_said(lambda: webhooks.delivery(delivery_id, database=self.data))

    def send_webhook_test(self, endpoint_id: str) -> tuple[str, str]:
        """A signed test event about the first declared resource: (event id, delivery id)."""
        from functions.resources import declaration  # noqa: PLC0415

        resources = declaration.current().resources
        if not resources:
            raise Refused("no resource is declared, so there is nothing to send a test of")
        sent = _refused_as_said(
            lambda: delivery.send_test(endpoint_id, None, resources[0].name, database=self.data)
        )
        endpoint = self.webhook(endpoint_id)
        self._audit(endpoint.partner_id, "owner.webhook.test", "webhookEndpoints", endpoint_id)
        return sent

    def resend_delivery(self, delivery_id: str) -> str:
        """One more attempt of a delivery (its event again, in the same delivery)."""
        found = self.webhook_delivery(delivery_id)
        name = _refused_as_said(lambda: delivery.resend(delivery_id, None, database=self.data))
        self._audit(found.partner_id, "owner.webhook.resend", "webhookDeliveries", delivery_id)
        return name

    def replay_delivery(self, event_id: str, endpoint_id: str) -> str:
        return _refused_as_said(lambda: delivery.replay(event_id, endpoint_id, database=self.data))


T = TypeVar("T")


def _refused_as_said(action: Callable[[], T]) -> T:
    """The package's rules refuse with API errors; the tool says the same in one line."""
    try:
        return action()
    except ApiError as exc:
        said = "; ".join(f"{d['field']}: {d['message']}" for d in exc.details)
        raise Refused(said or exc.message) from exc
