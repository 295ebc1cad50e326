"""One typed Settings object, read from GESHER_* environment variables and passed in, never global."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gesher.ledger.canary import ZONE_PATTERN


class Settings(BaseSettings):
    """Every setting of gesher, its default and its environment variable (GESHER_<NAME>)."""

    model_config = SettingsConfigDict(env_prefix="GESHER_", frozen=True, extra="ignore")

    data_dir: Path = Field(
        Path("./gesher-data"), description="Where the embedded SQLite store and keys live."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the store; unset means SQLite (WAL) at DATA_DIR/gesher.db. "
        "Use postgresql+psycopg://... at scale.",
    )
    api_root: str = Field("gesher", pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="TAXII API root name.")
    title: str = Field("gesher", description="Title shown in TAXII discovery.")
    contact: str | None = Field(None, description="Contact shown in TAXII discovery.")
    max_content_length: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest request body accepted, in bytes (TAXII 413 above)."
    )
    max_objects_per_request: int = Field(
        10_000, ge=1, description="Most objects one POST envelope may hold (bounds the status resource too)."
    )
    default_page_size: int = Field(1000, ge=1, description="Page size when a client sends no limit.")
    max_page_size: int = Field(1000, ge=1, description="Largest page served, whatever limit asks for.")
    cursor_ttl_seconds: int = Field(
        24 * 3600, ge=1, description="How long a TAXII `next` token stays valid, in seconds."
    )
    secret_key: str | None = Field(
        None,
        min_length=32,
        description="Key that signs paging cursors. Unset: a random key generated at init and kept in the "
        "store, so every worker and host sharing the database agrees on it.",
    )

    screen_match_threshold: float = Field(
        0.70, gt=0, le=1, description="Screening score at or above which a candidate is a match."
    )
    screen_review_threshold: float = Field(
        0.50,
        gt=0,
        le=1,
        description="Screening score at or above which a candidate needs an officer's review.",
    )
    revet_days: int = Field(365, ge=1, description="Days after which a partner's vetting is due again.")
    country_data_dir: Path | None = Field(
        None,
        description="Directory of operator-maintained country lists (e.g. cyber_export_tiers.csv) replacing "
        "the shipped files of the same name.",
    )

    ledger_key_dir: Path | None = Field(
        None,
        description="Where the ledger's signing key and canary key live (mode 0600). Unset: DATA_DIR/keys. "
        "Hosts sharing one PostgreSQL need the same key files.",
    )
    ledger_origin: str | None = Field(
        None,
        pattern=r"^[^\s+]{1,200}$",
        description="The ledger's name in its signed checkpoints (C2SP origin, e.g. cert.example/gesher). "
        "Unset: gesher/<this exchange's STIX identity>.",
    )
    ledger_checkpoint_seconds: int = Field(
        10,
        ge=0,
        description="A new signed checkpoint is made when the latest is older than this (or does not cover "
        "the entry a receipt is asked for).",
    )

    canary_zone: str = Field(
        "cdn-metrics.example.net",
        description="DNS zone under which leak-tracing canary domains are issued (`gesher leak issue`): a "
        "zone this operator controls and whose authoritative DNS logs every query, so a lookup of a canary "
        "is a detection. The default, under the reserved example.net, is a placeholder: replace it before "
        "issuing canaries for real. Tracing does not depend on it (a canary matches on its first label).",
    )

    sighting_rate_limit: int = Field(
        6000,
        ge=1,
        description="Most sightings one partner may report per minute (over it: 429 over TAXII, an error in "
        "the CLI); one partner repeating itself never raises an alert anyway.",
    )
    critical_sectors: list[str] = Field(
        ["energy", "water", "health", "telecommunications", "transport"],
        description="Partner sectors that mark a critical-infrastructure operator: the L3 alert rule's "
        "'any critical-infrastructure operator'. A JSON list in the environment.",
    )
    warninglists: list[Path] = Field(
        [],
        description="Files of values that raise no alert (MISP warninglist JSON, or one value per line); "
        "their sightings are still kept. A JSON list of paths in the environment.",
    )
    warning_decay: bool = Field(
        False,
        description="Suppress alerts on indicators that had decayed under MISP's polynomial model (off: "
        "most shipped indicators are years old, and their re-sighting must still warn).",
    )

    alert_rules: Path | None = Field(
        None,
        description="YAML or JSON file of alert rules replacing issue 7's defaults (levels, windows, partner "
        "and sector thresholds, the critical-infrastructure branch); `gesher alert-rules show` prints those "
        "in force, `gesher alert-rules check FILE` checks a file.",
    )
    alert_k: int = Field(
        3,
        ge=1,
        description="k-anonymity threshold: an alert publishes counts, sectors and countries only when at "
        "least this many distinct partners reported.",
    )
    escalation_level: int = Field(
        3,
        ge=1,
        le=3,
        description="Alerts at or above this level must be acknowledged by the partners who receive them; "
        "unacknowledged past the deadline, they escalate.",
    )
    acknowledgement_minutes: int = Field(
        60,
        ge=1,
        description="Minutes a partner has to acknowledge an alert at or above the escalation level.",
    )
    webhook_max_attempts: int = Field(
        8,
        ge=1,
        description="Attempts to deliver one alert to a webhook before the delivery is marked failed.",
    )
    webhook_retry_seconds: float = Field(
        30.0,
        gt=0,
        description="Delay before the first retry of a webhook delivery; it doubles after each attempt "
        "(with jitter), capped at one hour.",
    )
    webhook_timeout_seconds: float = Field(
        5.0,
        gt=0,
        description="Time allowed for a webhook endpoint to answer one delivery.",
    )

    @field_validator("canary_zone")
    @classmethod
    def _check_canary_zone(cls, zone: str) -> str:
        if not ZONE_PATTERN.fullmatch(zone):
            raise ValueError(f"{zone!r} is not a lowercase DNS zone (e.g. cdn-metrics.example.net)")
        return zone

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gesher.db').resolve()}"
