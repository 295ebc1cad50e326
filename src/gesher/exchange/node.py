"""A gesher node: its settings, its store and the key that signs paging cursors."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError, ProgrammingError

from gesher.errors import ConfigurationError
from gesher.exchange.clearance import Clearance
from gesher.exchange.collections import ensure_alerts, ensure_definitions
from gesher.ledger_service import keys as ledger_keys
from gesher.ledger_service import log as ledger_log
from gesher.ledger_service.ledger import Ledger
from gesher.partners.screening import Screeners
from gesher.screening import Thresholds
from gesher.settings import Settings
from gesher.store import ledger as ledger_store
from gesher.store import meta
from gesher.store.db import Database
from gesher.store.migrate import is_current, upgrade
from gesher.taxii.cursor import CursorCodec
from gesher.vetting.countries import CountryProfiles, load_country_profiles
from gesher.warning_service.config import WarningConfig
from gesher.warning_service.rules_file import load_ruleset
from gesher.warning_service.webhook_signing import signer as webhook_signer

_CURSOR_KEY = "cursor_key"
_IDENTITY = "exchange_identity"


class Node:
    def __init__(self, settings: Settings, db: Database, cursor_key: bytes, identity: str) -> None:
        self.settings = settings
        self.db = db
        self.cursors = CursorCodec(cursor_key, settings.cursor_ttl_seconds)
        self.identity = identity  # the STIX identity of this exchange (replaces protected originators)
        self.clearance = Clearance(identity)
        self._countries: CountryProfiles | None = None
        self.screeners = Screeners(
            Thresholds(match=settings.screen_match_threshold, review=settings.screen_review_threshold)
        )
        self.ledger = Ledger(settings, db, settings.ledger_origin or f"gesher/{identity}")
        self.warning_config = WarningConfig(  # early warning's parameters (issue 7)
            sighting_rate_limit=settings.sighting_rate_limit,
            critical_sectors=frozenset(s.strip().lower() for s in settings.critical_sectors),
            warninglists=tuple(settings.warninglists),
            decay=settings.warning_decay,
            ruleset=load_ruleset(settings.alert_rules, settings.alert_k),
            escalation_level=settings.escalation_level,
            acknowledgement=timedelta(minutes=settings.acknowledgement_minutes),
            webhook_max_attempts=settings.webhook_max_attempts,
            webhook_retry=timedelta(seconds=settings.webhook_retry_seconds),
            webhook_timeout=settings.webhook_timeout_seconds,
        )

    def countries(self) -> CountryProfiles:
        """Country profiles: the shipped data, with the operator's files from `country_data_dir`."""
        if self._countries is None:
            self._countries = load_country_profiles(self.settings.country_data_dir)
        return self._countries

    @classmethod
    def init(cls, settings: Settings) -> Node:
        """Create or upgrade the store and its cursor key (idempotent)."""
        db = Database(settings.resolved_database_url())
        try:
            upgrade(db)
            with db.write() as conn:
                meta.set_if_absent(conn, _CURSOR_KEY, secrets.token_hex(32))
                identity = meta.set_if_absent(conn, _IDENTITY, f"identity--{uuid.uuid4()}")
                ledger_log.ensure(conn)
                _ensure_ledger_key(conn, settings, settings.ledger_origin or f"gesher/{identity}")
                webhook_signer(conn, settings)  # webhook.skey, next to the ledger's keys (issue 7)
                ensure_definitions(conn)
                ensure_alerts(conn)
            return cls.open(settings, db)
        except BaseException:
            db.dispose()
            raise

    @classmethod
    def open(cls, settings: Settings, db: Database | None = None) -> Node:
        """Open an initialised store; refuse clearly when `gesher init` has not run or is out of date."""
        db = db or Database(settings.resolved_database_url())
        try:
            current = is_current(db)
            with db.read() as conn:
                stored_key = meta.get(conn, _CURSOR_KEY)
                identity = meta.get(conn, _IDENTITY)
        except (OperationalError, ProgrammingError) as exc:
            raise ConfigurationError(f"cannot open the store at {_safe(db.url)}: {exc.orig}") from None
        if not current or stored_key is None or identity is None:
            raise ConfigurationError(f"the store at {_safe(db.url)} is not initialised: run `gesher init`")
        key = settings.secret_key or stored_key
        return cls(settings, db, key.encode(), identity)


def _ensure_ledger_key(conn: Connection, settings: Settings, origin: str) -> None:
    """The ledger's signing key file, created on first init; its public key registered in the store. A key
    file the store does not know (another host's, or a lost one regenerated) is refused, not adopted."""
    vkey = ledger_keys.ensure_keys(settings, origin).verifier.vkey
    known = [k for k, _, retired in ledger_store.keys(conn) if retired is None]
    if not known:
        ledger_store.add_key(conn, vkey, ledger_log.micros(ledger_log.now()))
    elif vkey not in known:
        folder = ledger_keys.key_dir(settings)
        raise ConfigurationError(
            f"the ledger key in {folder} is not this ledger's ({known[0].split('+')[0]}): copy the key files "
            "from the host that initialised the store, or rotate with `gesher ledger rotate-key` there"
        )


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
