"""SQLAlchemy Core tables. Timestamps are integers (microseconds since the epoch): exact, strictly
ordered and identical on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# A naming convention gives every constraint a stable name, which Alembic needs for SQLite batch moves.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

meta = Table(
    "gesher_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

collections = Table(
    "collections",
    metadata,
    # `key` is internal and compact (it is repeated in every stored version and its indexes); `id` is the
    # public TAXII collection id.
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("description", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    # The last date_added handed out in this collection. Writers lock this row (PostgreSQL) or hold the
    # database write lock (SQLite), so date_added is strictly increasing in commit order and keyset paging
    # never skips an object committed while a client pages.
    Column("last_date_added", BigInteger, nullable=False, default=0),
)

partners = Table(
    "partners",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("country", String(2), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("suspended", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    # Trust tier 1 (closest allies) .. 4 (restricted); NULL: not vetted (TLP:CLEAR public material only).
    Column("trust_tier", Integer, nullable=True),
    Column("sectors", Text, nullable=False, default=""),  # comma-separated, sorted
    # Admiralty source reliability A-F of what this partner reports (issue 7); F: cannot be judged.
    Column("reliability", String(1), nullable=False, default="F", server_default="F"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner_id", Integer, ForeignKey("partners.id"), nullable=False, index=True),
    # SHA-256 of the token: tokens are 256-bit random, so a fast hash is enough (no password stretching).
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
)

grants = Table(
    "collection_grants",
    metadata,
    Column("partner_id", Integer, ForeignKey("partners.id"), nullable=False),
    Column("collection_id", String(36), ForeignKey("collections.id"), nullable=False),
    Column("can_read", Boolean, nullable=False),
    Column("can_write", Boolean, nullable=False),
    PrimaryKeyConstraint("partner_id", "collection_id"),
)

objects = Table(
    "stix_objects",
    metadata,
    Column("collection_key", Integer, ForeignKey("collections.key"), nullable=False),
    Column("date_added", BigInteger, nullable=False),
    Column("object_id", String(300), nullable=False),
    Column("type", String(250), nullable=False),
    # `version` is the fixed-width key (stix.timestamps.version_key); `version_text` the object's own string.
    Column("version", String(30), nullable=False),
    Column("version_text", Text, nullable=False),  # STIX allows any number of fractional digits
    Column("spec_version", String(10), nullable=False),
    Column("is_latest", Boolean, nullable=False),
    Column("is_first", Boolean, nullable=False),
    # Every version of this object in this collection carries the same label (exchange/versioning.py).
    Column("uniform", Boolean, nullable=False, default=True),
    Column("added_by", Integer, ForeignKey("partners.id"), nullable=True),
    # The version's access label (computed at ingest from its markings); NULL is never served to partners.
    Column("label_id", Integer, ForeignKey("access_labels.id"), nullable=True),
    # A second analyst approved this version's release (only consulted for labels that need it).
    Column("released", Boolean, nullable=False, default=False),
    # What serving this version may need, found once at ingest (bits in store.objects.SERVE_HINTS); NULL,
    # for versions stored before the column existed, means "look at the body".
    Column("serve_hints", SmallInteger, nullable=True),
    # SHA-256 of `body`, taken at ingest: what the ledger records for a version served as stored (NULL for
    # versions stored before the column existed: hashed when served).
    Column("sha256", LargeBinary, nullable=True),
    Column("body", LargeBinary, nullable=False),
    PrimaryKeyConstraint("collection_key", "date_added"),
    UniqueConstraint("collection_key", "object_id", "version"),
    Index(None, "collection_key", "type", "date_added"),
)

# Distinct access labels (DESIGN.md): few rows, append-only, read whole into each process's cache.
access_labels = Table(
    "access_labels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("label", Text, nullable=False),  # JSON, with the reasons that explain it
)

# Every policy ever loaded (append-only); the newest row is in force from the next request.
policies = Table(
    "policies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", Integer, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("loaded_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
)

# The release gate's history (append-only): requests and approvals of one object version.
release_events = Table(
    "release_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("collection_key", Integer, ForeignKey("collections.key"), nullable=False),
    Column("object_id", String(300), nullable=False),
    Column("version", String(30), nullable=False),
    Column("action", String(16), nullable=False),  # request | approve | revoke
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
    Index(None, "collection_key", "object_id", "version"),
)

statuses = Table(
    "taxii_statuses",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("collection_id", String(36), ForeignKey("collections.id"), nullable=False),
    Column("partner_id", Integer, ForeignKey("partners.id"), nullable=True),
    Column("request_timestamp", BigInteger, nullable=False),
    Column("total_count", Integer, nullable=False),
    Column("success_count", Integer, nullable=False),
    Column("failure_count", Integer, nullable=False),
    Column("pending_count", Integer, nullable=False),
    Column("details", LargeBinary, nullable=False),
)

# Append-only record of management actions (who, what, why). The disclosure ledger builds on it later.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("details", Text, nullable=False),
)

# --- vetting and screening (issue 4) ----------------------------------------------------------------

# An organisation record: the legal person behind a partner, or an owner of one (owners need not be partners).
organisations = Table(
    "organisations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner_id", Integer, ForeignKey("partners.id"), nullable=True, unique=True),
    Column("legal_name", String(300), nullable=False),
    Column("aliases", Text, nullable=False, default="[]"),  # JSON list of strings
    Column("country", String(2), nullable=True),
    Column("kind", String(20), nullable=True),
    Column("government_share", Float, nullable=False, default=0.0),  # 0..1
    Column("sectors", Text, nullable=False, default=""),  # comma-separated, sorted
    Column("updated_at", BigInteger, nullable=False),
)

# Who owns whom, with the share when known (a partner owned by a listed entity inherits the hit).
ownership = Table(
    "ownership_links",
    metadata,
    Column("owned_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("owner_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("share", Float, nullable=True),
    PrimaryKeyConstraint("owned_id", "owner_id"),
)

# Every watchlist file ever loaded, kept whole so any process rebuilds the same screener from the store.
watchlist_files = Table(
    "watchlist_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("filename", String(300), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("arguments", Text, nullable=False),  # JSON: the name, version and published date given
    Column("loaded_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
)

# The lists a file held; per name, the newest row is the version in force. A version is loaded once.
watchlists = Table(
    "watchlists",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_id", Integer, ForeignKey("watchlist_files.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("version", String(100), nullable=False),
    Column("published", String(10), nullable=False),
    Column("confidential", Boolean, nullable=False),
    Column("entries", Integer, nullable=False),
    UniqueConstraint("name", "version"),
)

# Every screening (append-only), with the list versions it used.
screenings = Table(
    "screenings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("subject", String(300), nullable=False),  # partner:NAME, organisation:ID or query
    Column("query", String(300), nullable=False),
    Column("country", String(2), nullable=True),
    Column("outcome", String(10), nullable=False),
    Column("lists", Text, nullable=False),  # JSON {list name: version}
    Column("result", Text, nullable=False),  # JSON, as ScreeningResult.as_json()
    Index(None, "subject", "id"),
)

# A partner's vetting history (append-only): assessments, approvals, overrides, listings, reviews.
vetting_events = Table(
    "vetting_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner_id", Integer, ForeignKey("partners.id"), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(32), nullable=False),
    Column("proposed_tier", Integer, nullable=True),
    Column("tier", Integer, nullable=True),
    Column("risk", String(12), nullable=True),
    Column("reason", Text, nullable=False),
    Column("details", Text, nullable=False),  # JSON
    Index(None, "partner_id", "id"),
)

# --- export licensing (issue 5) ---------------------------------------------------------------------------
# Each state is the pure core's frozen dataclass serialised whole (`body`, JSON: store/licensing_codec.py),
# plus the columns queries filter on. Updates compare-and-set on `version` (the core's), so two concurrent
# decisions on one row cannot both win. The history is one append-only table for every kind of subject.

# The capability catalog: what the vendor declared and how the rules classified it.
licensing_items = Table(
    "licensing_items",
    metadata,
    Column("name", String(300), primary_key=True),  # the pure core refers to items by name
    Column("vendor", String(300), nullable=False),
    Column("tier", String(16), nullable=False),
    Column("capability", Text, nullable=False),  # JSON: the declared properties and carve-out flags
    Column("classification", Text, nullable=False),  # JSON: tier, controls, rationale, predicates
    Column("created_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Index(None, "vendor"),
)

# Development supervision: one project per supervised item.
licensing_projects = Table(
    "licensing_projects",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("item", String(300), ForeignKey("licensing_items.name"), nullable=False, unique=True),
    Column("vendor", String(300), nullable=False),
    Column("state", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index(None, "vendor"),
)

# Marketing and export licence applications. `declared`: facts the vendor declared that the pure application
# does not hold (whether the end user is a government end user), JSON.
licensing_applications = Table(
    "licensing_applications",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("item", String(300), ForeignKey("licensing_items.name"), nullable=False),
    Column("vendor", String(300), nullable=False),
    Column("country", String(200), nullable=False),  # the destination, or the target countries comma-joined
    Column("end_user", String(300), nullable=False),
    Column("state", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("declared", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index(None, "vendor"),
    Index(None, "state"),
)

# Licences, one per approved application at most.
licences = Table(
    "licences",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("application", String(64), ForeignKey("licensing_applications.id"), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("item", String(300), nullable=False),
    Column("vendor", String(300), nullable=False),
    Column("country", String(200), nullable=False),
    Column("end_user", String(300), nullable=False),
    Column("state", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index(None, "vendor"),
    Index(None, "state"),
)

misuse_reports = Table(
    "misuse_reports",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("country", String(2), nullable=False),
    Column("end_user", String(300), nullable=False),
    Column("state", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# The licensing history (append-only): every Event the pure core returned, and the service's own records
# (a party denied, a country tier lowered). `version`: the subject's version after the transition.
licensing_events = Table(
    "licensing_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(300), nullable=False),
    Column("action", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("from_state", String(32), nullable=False),
    Column("to_state", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("details", Text, nullable=False),  # JSON list of [name, value]
    Index(None, "subject_kind", "subject_id", "id"),
)

# --- the disclosure ledger (issue 6) ------------------------------------------------------------------

# One row per Merkle leaf, append-only: `idx` is the leaf index (0-based, dense), `body` the entry's canonical
# bytes (RFC 8785), `leaf_hash` SHA-256(0x00 || body). `kind`, `at` and `partner` repeat what the body says
# so reports can filter without decoding every entry; `gesher ledger verify` checks they agree. One index
# only: every TAXII response appends a row, and each index is another page to write per commit.
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("partner", String(200), nullable=True),
    Column("body", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary, nullable=False),
    Index(None, "kind", "at"),
)

# The log's head, one row (id 1): its size, root and right edge (the roots of the perfect subtrees making up
# the size, concatenated). Every append locks and updates it, which is what keeps leaf indices dense.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary, nullable=False),
    Column("frontier", LargeBinary, nullable=False),
)

# Signed checkpoints (C2SP signed notes), kept so later proofs and verification can refer to them.
ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", BigInteger, nullable=False),
)

# The ledger's public keys (C2SP vkeys), oldest first; the private key lives in a file with mode 0600.
ledger_keys = Table(
    "ledger_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("vkey", Text, nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("retired_at", BigInteger, nullable=True),
)

# --- export licensing over REST (issue 5 "Surfaces") --------------------------------------------------

# Who a partner account is in export licensing, set by an operator (default-deny: an account without a row
# here, or whose newest row is role "none", reaches no licensing route). Append-only: the newest row of a
# partner is in force, the older ones are its history.
licensing_roles = Table(
    "licensing_roles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner_id", Integer, ForeignKey("partners.id"), nullable=False),
    Column("role", String(20), nullable=False),  # vendor, officer, senior-officer or none
    Column("organisation", String(300), nullable=False),
    Column("set_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Index(None, "partner_id", "id"),
)

# --- early warning (issue 7) ----------------------------------------------------------------------------

# The values each stored indicator matches by equality (`gesher.warning.indicators.match_keys`), as tokens
# `type:value` -> indicator id. Built off ingest's hot path (`warning_service.indicator_keys.catch_up`, from
# the per-collection cursors below), so ingest pays nothing for it; lookups add the few indicators stored
# since the cursor by reading them directly, so a match never waits for the index.
indicator_keys = Table(
    "indicator_keys",
    metadata,
    Column("token", String(600), nullable=False),
    Column("indicator_id", String(300), nullable=False),
    PrimaryKeyConstraint("token", "indicator_id"),
)

# How far the indicator index (`indicator_keys` and `indicator_patterns`) has read each collection: every
# indicator version with a greater date_added is not indexed yet. Within a collection date_added is
# assigned under its lock, so versions commit in date_added order and a cursor never skips one.
indicator_key_cursors = Table(
    "indicator_key_cursors",
    metadata,
    Column("collection_key", Integer, ForeignKey("collections.key"), primary_key=True, autoincrement=False),
    Column("date_added", BigInteger, nullable=False),
)

# The stored indicators' patterns that are not equalities (LIKE, MATCHES, ISSUBSET, comparisons...): the
# few a reported value is evaluated against (`warning_service.pattern_index`), so a worker starting cold
# reads these rows, not every indicator. Built with `indicator_keys` from the same cursors. One row per
# indicator and distinct pattern (versions may differ). Appended under one builder lock, so `seq` order is
# commit order and workers follow it with a cursor.
indicator_patterns = Table(
    "indicator_patterns",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("indicator_id", String(300), nullable=False),
    Column("pattern", Text, nullable=False),
    Column("digest", String(64), nullable=False),  # SHA-256 of the pattern (patterns may be long)
    UniqueConstraint("indicator_id", "digest"),
)

# Sightings reported by partners, append-only, attributed at report time (sector, country and critical
# infrastructure as the registry said then). One row per token the sighting counts for.
sightings = Table(
    "sightings",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("received_at", BigInteger, nullable=False),
    Column("seen_at", BigInteger, nullable=False),
    Column("partner_id", Integer, ForeignKey("partners.id"), nullable=False),
    Column("sector", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("critical", Boolean, nullable=False),
    Column("type", SmallInteger, nullable=False),  # MISP: 0 sighting, 1 false positive, 2 expiration
    Column("count", Integer, nullable=False),
    Column("token", String(600), nullable=False),
    Column("source", String(20), nullable=False),  # taxii, cli or file
    Column("stix_id", String(300), nullable=True),  # the STIX sighting it came from, if any
    # True on one row per report: what the partner's rate limit counts. A value naming several
    # indicators stores a row for each, and that number must not show through the limit.
    Column("counted", Boolean, nullable=False),
    Index(None, "token", "seen_at"),
    Index(None, "partner_id", "received_at"),
)

# Alerts raised, one row per (token, level) in a spell of activity. `organisations` is the true count of
# distinct reporters (for the ledger and analysts); what partners receive is the STIX report.
alerts = Table(
    "alerts",
    metadata,
    Column("id", String(300), primary_key=True),  # the STIX report id of the alert
    Column("token", String(600), nullable=False),
    Column("level", SmallInteger, nullable=False),
    Column("rule", Text, nullable=False),
    Column("raised_at", BigInteger, nullable=False),
    Column("organisations", Integer, nullable=False),
    Column("published", Text, nullable=False),  # JSON: the k-anonymous alert (no reporter identities)
    Index(None, "token", "raised_at"),
)


# --- alerts out: webhooks, acknowledgements, escalation; the national incident board (issue 7) ----------

# A partner's webhook: alerts it may read are POSTed there, signed with the node's webhook key.
# Removal keeps the row (deliveries refer to it); `removed_at` set means inactive.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner_id", Integer, ForeignKey("partners.id"), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("min_level", SmallInteger, nullable=False),  # alerts below this level are not sent
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("removed_at", BigInteger, nullable=True),
)

# The outbox: one row per (webhook, alert, event, stage), written in the transaction that raised the alert
# or the escalation (stage 1 or 2; 0 for the alert itself), delivered after commit with retries and
# back-off. `ledger_index` is the disclosure entry of the payload (recorded before the first attempt).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("webhook_id", Integer, ForeignKey("webhooks.id"), nullable=False),
    Column("alert_id", String(300), ForeignKey("alerts.id"), nullable=False),
    Column("event", String(20), nullable=False),  # alert | escalation
    Column("stage", Integer, nullable=False, server_default="0"),
    Column("state", String(20), nullable=False),  # pending | delivered | failed | withheld
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("ledger_index", BigInteger, nullable=True),
    UniqueConstraint("webhook_id", "alert_id", "event", "stage"),
    Index(None, "state", "next_attempt_at"),
)

# A partner's acknowledgement of an alert it received (one per partner and alert; the first one counts).
alert_acknowledgements = Table(
    "alert_acknowledgements",
    metadata,
    Column("alert_id", String(300), ForeignKey("alerts.id"), nullable=False),
    Column("partner_id", Integer, ForeignKey("partners.id"), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("note", Text, nullable=False),
    PrimaryKeyConstraint("alert_id", "partner_id"),
)

# An alert escalated because partners had not acknowledged it by the deadline (once per alert and stage).
alert_escalations = Table(
    "alert_escalations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", String(300), ForeignKey("alerts.id"), nullable=False),
    Column("stage", SmallInteger, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("pending", Text, nullable=False),  # JSON list of the partner ids that had not acknowledged
    UniqueConstraint("alert_id", "stage"),
)

# National-level incidents (open, contained, closed). The row holds the current state; every change is an
# append-only `incident_events` row with its actor and reason.
incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", Text, nullable=False),
    Column("state", String(20), nullable=False),
    Column("level", SmallInteger, nullable=False),  # the highest alert level linked
    Column("opened_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),  # compare-and-set for concurrent changes
    Index(None, "state", "opened_at"),
)

incident_events = Table(
    "incident_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(30), nullable=False),  # open, contain, close, reopen, link, escalate
    Column("state", String(20), nullable=False),  # the state after the action
    Column("reason", Text, nullable=False),
    Column("alert_id", String(300), nullable=True),
    Index(None, "incident_id", "id"),
)

incident_alerts = Table(
    "incident_alerts",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("alert_id", String(300), ForeignKey("alerts.id"), nullable=False),
    Column("linked_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("incident_id", "alert_id"),
    Index(None, "alert_id"),
)
