"""Reports per item, vendor or country (issue 5 "Everything recorded"): what is licensed where (every licence
with its state today and its conditions), what was refused and why, and what is still open. Officers read
every vendor's; a vendor its own only, and a refusal's grounds without the officers' parts (the
recommendation's reason codes and who decided: see `visibility`).

Grouping by country puts a marketing licence under each of its target countries."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Connection

from gesher.licensing import licences as lic
from gesher.licensing.applications import OPEN, Application, ApplicationState
from gesher.licensing.history import Actor, Role
from gesher.licensing.licences import Licence
from gesher.licensing.recommend import Verdict
from gesher.licensing_service.applications import applications_of
from gesher.licensing_service.common import now
from gesher.licensing_service.licences import licences_of

T = TypeVar("T", Application, Licence)
U = TypeVar("U")
# the recommendation's reasons that explain a refusal (the codes an officer reads in the report)
REFUSING = frozenset({Verdict.DENY, Verdict.PRESUME_DENIAL})


class By(StrEnum):
    ITEM = "item"
    VENDOR = "vendor"
    COUNTRY = "country"


@dataclass(frozen=True)
class Licensed:
    licence: str
    kind: str
    item: str
    vendor: str
    countries: tuple[str, ...]
    end_user: str
    state: str  # as of today: a live licence past its validity reads "expired" before the sweep runs
    valid_from: date
    valid_until: date
    conditions: tuple[str, ...]


@dataclass(frozen=True)
class Refused:
    application: str
    kind: str
    item: str
    vendor: str
    countries: tuple[str, ...]
    end_user: str
    reason: str
    codes: tuple[str, ...] = ()  # officers only
    decided_by: tuple[str, ...] = ()  # officers only


@dataclass(frozen=True)
class Pending:
    application: str
    kind: str
    item: str
    vendor: str
    countries: tuple[str, ...]
    end_user: str
    state: str


@dataclass(frozen=True)
class Group:
    """Everything recorded under one item, vendor or country."""

    key: str
    licensed: tuple[Licensed, ...] = ()
    refused: tuple[Refused, ...] = ()
    pending: tuple[Pending, ...] = ()

    @property
    def in_force(self) -> int:
        return sum(1 for x in self.licensed if x.state == lic.LicenceState.ACTIVE.value)


def overview(conn: Connection, actor: Actor, by: By | str) -> tuple[Group, ...]:
    """The report the actor may read, one group per item, vendor or country, sorted by its key."""
    keys = _KEYS[By(by)]
    today = now().date()
    apps = applications_of(conn, actor)
    licensed = _grouped(licences_of(conn, actor), keys, lambda x: _licensed(x, today))
    refused = _grouped(
        [a for a in apps if a.state == ApplicationState.DENIED], keys, lambda a: _refused(a, actor)
    )
    pending = _grouped([a for a in apps if a.state in OPEN], keys, _pending)
    return tuple(
        Group(key, tuple(licensed.get(key, ())), tuple(refused.get(key, ())), tuple(pending.get(key, ())))
        for key in sorted({*licensed, *refused, *pending})
    )


_KEYS: dict[By, Callable[[Application | Licence], Iterable[str]]] = {
    By.ITEM: lambda x: (x.item,),
    By.VENDOR: lambda x: (x.vendor,),
    By.COUNTRY: lambda x: x.countries,
}


def _grouped(
    values: Iterable[T], keys: Callable[[Application | Licence], Iterable[str]], make: Callable[[T], U]
) -> dict[str, list[U]]:
    """Each value made into its entry, under every key it has (a marketing licence: each country)."""
    found: dict[str, list[U]] = {}
    for value in values:
        entry = make(value)
        for key in keys(value):
            found.setdefault(key, []).append(entry)
    return found


def _licensed(x: Licence, today: date) -> Licensed:
    state = lic.effective_state(x, today).value
    conditions = tuple(c.text for c in x.conditions)
    return Licensed(
        x.id, x.kind.value, x.item, x.vendor, x.countries, x.end_user, state, x.valid_from, x.valid_until,
        conditions,
    )  # fmt: skip


def _refused(a: Application, actor: Actor) -> Refused:
    facts = (a.id, a.kind.value, a.item, a.vendor, a.countries, a.end_user, a.decision_reason)
    if actor.role == Role.VENDOR:
        return Refused(*facts)
    reasons = a.recommendation.reasons if a.recommendation else ()
    codes = tuple(dict.fromkeys(r.code for r in reasons if r.verdict in REFUSING))
    return Refused(*facts, codes=codes, decided_by=a.decided_by)


def _pending(a: Application) -> Pending:
    return Pending(a.id, a.kind.value, a.item, a.vendor, a.countries, a.end_user, a.state.value)


def group_json(group: Group) -> dict[str, object]:
    """A group as JSON-ready data (dates stay dates: orjson writes them in ISO 8601)."""
    return {**dataclasses.asdict(group), "in_force": group.in_force}


# --- flat rows (CSV, tables) -----------------------------------------------------------------------------

COLUMNS = ("group", "record", "id", "kind", "item", "vendor", "countries", "end_user", "state",
           "valid_until", "reason", "codes", "decided_by")  # fmt: skip


def rows(groups: tuple[Group, ...]) -> list[dict[str, str]]:
    """One row per licence, refusal and open application, under its group (COLUMNS)."""
    found = []
    for g in groups:
        found += [_row(g.key, "licence", x.licence, x, x.state, str(x.valid_until)) for x in g.licensed]
        found += [_row(g.key, "refused", x.application, x, "denied", "", x.reason, x.codes, x.decided_by)
                  for x in g.refused]  # fmt: skip
        found += [_row(g.key, "open", x.application, x, x.state) for x in g.pending]
    return found


def _row(
    group: str,
    record: str,
    ident: str,
    x: Licensed | Refused | Pending,
    state: str,
    valid_until: str = "",
    reason: str = "",
    codes: tuple[str, ...] = (),
    decided_by: tuple[str, ...] = (),
) -> dict[str, str]:
    values = (group, record, ident, x.kind, x.item, x.vendor, " ".join(x.countries), x.end_user, state,
              valid_until, reason, " ".join(codes), " ".join(decided_by))  # fmt: skip
    return dict(zip(COLUMNS, values, strict=True))


def as_csv(groups: tuple[Group, ...]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(groups))
    return out.getvalue()
