"""Licence applications through the service: a vendor drafts and submits; screening runs at once and
automatically (the end user's and intermediaries' names through the screener, the destination's facts from
the country profiles, the government end user from what the vendor declared); an officer confirms the
classification; people decide; an approval that decides the application issues its licence in the same
transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import Connection

from gesher.errors import InvalidRequest
from gesher.licensing import applications as apps
from gesher.licensing import licences as lic
from gesher.licensing.applications import Application, ApplicationState
from gesher.licensing.catalog import Classification
from gesher.licensing.conditions import Condition, LicenceKind
from gesher.licensing.history import Actor, Role
from gesher.licensing.licences import Licence
from gesher.licensing.misuse import COUNTRY_TIER_ORDER
from gesher.licensing.recommend import (
    CountryFacts,
    MarketingLicenceFacts,
    MisuseRecord,
    PartyFacts,
    Recommendation,
    RecommendationInputs,
    recommend,
)
from gesher.licensing_service import misuse_records
from gesher.licensing_service.catalog import classification_of, require_item
from gesher.licensing_service.common import check_version, created, new_id, now, require, saved
from gesher.licensing_service.projects import project_of_item
from gesher.partners.screening import NamesScreening, record, screen_names
from gesher.store import licensing as store
from gesher.store.licensing import APPLICATION, LICENCE
from gesher.vetting.countries import ExportTier
from gesher.vetting.model import ScreeningOutcome

if TYPE_CHECKING:
    from gesher.exchange.node import Node

# Validity of a licence issued on approval, unless the approver says otherwise (the reference leaves it open).
DEFAULT_VALIDITY_DAYS = {LicenceKind.MARKETING: 730, LicenceKind.EXPORT: 365}
COUNTRY_TIER_LOWERED = "lower-country-tier"  # the history action a misuse report's country downgrade records


def draft(
    node: Node,
    conn: Connection,
    actor: Actor,
    kind: LicenceKind | str,
    item: str,
    countries: tuple[str, ...],
    *,
    end_user: str = "",
    end_use: str = "",
    intermediaries: tuple[str, ...] = (),
    declaration_signed: bool = False,
    marketing_licence: str | None = None,
    end_user_government: bool | None = None,
    application_id: str | None = None,
) -> Application:
    """A vendor drafts an application for its own catalogued item. `end_user_government`: whether the end
    user is a government end user, as declared (None: not declared; screening then refers it)."""
    found = require_item(conn, actor, item)
    kind = LicenceKind(kind)
    codes = tuple(node.countries().get(c).alpha2 for c in countries)
    prefix = "MA" if kind == LicenceKind.MARKETING else "EA"
    application = Application(
        application_id or new_id(prefix),
        kind,
        found.vendor,
        actor.id,
        item,
        found.classification.tier,
        codes,
        end_user=end_user,
        end_use=end_use,
        intermediaries=tuple(intermediaries),
        declaration_signed=declaration_signed,
        marketing_licence=marketing_licence,
    )
    declared = orjson.dumps({"end_user_government": end_user_government}).decode()
    return created(conn, APPLICATION, apps.draft(application, actor, now()), declared=declared)


def submit(
    node: Node, conn: Connection, actor: Actor, application_id: str, expected_version: int | None = None
) -> Application:
    """The vendor submits its draft; screening runs at once (as the system) and records its recommendation:
    a hard denial denies the application there and then, a potential list match parks it in SCREENING."""
    app = require(conn, APPLICATION, application_id, actor)
    check_version(APPLICATION, app, expected_version)
    app = saved(conn, APPLICATION, app, apps.submit(app, actor, now()))
    return screen(node, conn, SYSTEM_SCREENER, app)


SYSTEM_SCREENER = Actor("system", Role.SYSTEM)


def screen(node: Node, conn: Connection, actor: Actor, app: Application) -> Application:
    """Screen an open application against the facts as they are now (also re-screening)."""
    recommendation = recommendation_for(node, conn, actor, app, app.classification)
    return saved(conn, APPLICATION, app, apps.screen(app, recommendation, actor, now()))


def rescreen(node: Node, conn: Connection, actor: Actor, application_id: str) -> Application:
    """An officer screens an open application again (a resolved match, a list update, a new country tier)."""
    return screen(node, conn, actor, require(conn, APPLICATION, application_id, actor))


def rescreen_open(node: Node, conn: Connection, why: str) -> tuple[Application, ...]:
    """Screen every open application again, as the system, against the lists and facts in force (a watchlist
    update: a newly listed end user or intermediary denies or parks its application at once). Every name is
    screened and the screening recorded; an application's history gains an entry only when its
    recommendation changed (with `why`). Returns the applications that changed."""
    changed = []
    misuse = misuse_records.substantiated(conn)
    for app in store.find(conn, APPLICATION, state=[s.value for s in apps.OPEN]):
        recommendation = recommendation_for(node, conn, SYSTEM_SCREENER, app, app.classification, misuse)
        if recommendation != app.recommendation:
            result = apps.screen(app, recommendation, SYSTEM_SCREENER, now(), why)
            changed.append(saved(conn, APPLICATION, app, result))
    return tuple(changed)


def confirm_classification(
    node: Node, conn: Connection, actor: Actor, application_id: str, expected_version: int | None = None
) -> Application:
    """An officer confirms the catalogued item's classification; the recommendation is made again with it."""
    app = require(conn, APPLICATION, application_id, actor)
    check_version(APPLICATION, app, expected_version)
    classification = classification_of(conn, app.item)
    recommendation = recommendation_for(node, conn, actor, app, classification)
    result = apps.confirm_classification(app, classification, recommendation, actor, now())
    return saved(conn, APPLICATION, app, result)


@dataclass(frozen=True)
class Decision:
    application: Application
    licence: Licence | None = None  # issued when the approval decided the application


def approve(
    node: Node,
    conn: Connection,
    actor: Actor,
    application_id: str,
    reason: str,
    conditions: tuple[Condition, ...] = (),
    expected_version: int | None = None,
    validity_days: int | None = None,
) -> Decision:
    """An officer approves; the approval that decides the application (the second of two distinct officers
    for an offensive item) issues the licence, valid from today, in the same transaction."""
    if validity_days is not None and validity_days < 1:
        raise InvalidRequest("a licence is valid for at least one day")
    app = require(conn, APPLICATION, application_id, actor)
    check_version(APPLICATION, app, expected_version)
    at = now()
    app = saved(conn, APPLICATION, app, apps.approve(app, actor, at, reason, conditions))
    if app.state not in apps.GRANTED:
        return Decision(app)
    days = validity_days or DEFAULT_VALIDITY_DAYS[app.kind]
    start = at.date()
    prefix = "ML" if app.kind == LicenceKind.MARKETING else "EL"
    result = lic.issue(app, new_id(prefix), start, start + timedelta(days=days - 1), actor, at)
    return Decision(app, created(conn, LICENCE, result))


def deny(
    node: Node,
    conn: Connection,
    actor: Actor,
    application_id: str,
    reason: str,
    expected_version: int | None = None,
) -> Application:
    """An officer denies an open application, with a reason."""
    app = require(conn, APPLICATION, application_id, actor)
    check_version(APPLICATION, app, expected_version)
    return saved(conn, APPLICATION, app, apps.deny(app, actor, now(), reason))


def withdraw(node: Node, conn: Connection, actor: Actor, application_id: str, reason: str) -> Application:
    app = require(conn, APPLICATION, application_id, actor)
    return saved(conn, APPLICATION, app, apps.withdraw(app, actor, now(), reason))


def application_of(conn: Connection, actor: Actor, application_id: str) -> Application:
    """One application, if the actor may see it (a vendor sees its own organisation's only)."""
    return require(conn, APPLICATION, application_id, actor)


def applications_of(
    conn: Connection, actor: Actor, state: ApplicationState | None = None
) -> list[Application]:
    where: dict[str, object] = {} if state is None else {"state": ApplicationState(state).value}
    if actor.role == Role.VENDOR:
        where["vendor"] = actor.organisation
    return store.find(conn, APPLICATION, **where)


# --- the facts a recommendation rests on ---------------------------------------------------------------


def recommendation_for(
    node: Node,
    conn: Connection,
    actor: Actor,
    app: Application,
    classification: Classification | None,
    misuse: tuple[MisuseRecord, ...] | None = None,
) -> Recommendation:
    """Gather the facts now (screening every party, with the screenings recorded) and recommend. `misuse`:
    the substantiated misuse reports, when the caller read them once for many applications."""
    classification = classification or classification_of(conn, app.item)
    today = now().date()
    end_user, intermediaries = _parties(node, conn, actor, app)
    inputs = RecommendationInputs(
        app.kind,
        classification,
        tuple(country_facts(node, conn, c) for c in app.countries),
        today,
        project_of_item(conn, app.item),
        end_user=end_user,
        intermediaries=intermediaries,
        marketing_licence=_marketing_facts(conn, app, today),
        declaration_signed=app.declaration_signed,
        vendor=app.vendor,
        misuse_reports=misuse_records.substantiated(conn) if misuse is None else misuse,
    )
    return recommend(inputs)


def _parties(
    node: Node, conn: Connection, actor: Actor, app: Application
) -> tuple[PartyFacts | None, tuple[PartyFacts, ...]]:
    if app.kind != LicenceKind.EXPORT:
        return None, ()
    screener = node.screeners.current(conn)
    country = app.destination
    subject = f"application:{app.id}"
    user = screen_names(screener, subject, [app.end_user], country, None)
    middle = [screen_names(screener, subject, [name], None, None) for name in app.intermediaries]
    record(conn, actor.id, [user, *middle])
    government = store.declared(conn, app.id).get("end_user_government")
    end_user = PartyFacts(app.end_user, _outcome(user), government=_bool(government))
    return end_user, tuple(
        PartyFacts(name, _outcome(s), role="intermediary")
        for name, s in zip(app.intermediaries, middle, strict=True)
    )


def _outcome(screening: NamesScreening) -> ScreeningOutcome:
    return ScreeningOutcome(screening.outcome)


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def country_facts(node: Node, conn: Connection, code: str) -> CountryFacts:
    """The destination as vetting sees it, with any tier lowering a misuse report recorded since (the worse
    of the operator's file and the recorded lowering applies, until the operator changes the file)."""
    profile = node.countries().get(code)
    tier = profile.cyber_export_tier
    lowered = lowered_country_tier(conn, profile.alpha2)
    if lowered is not None and COUNTRY_TIER_ORDER.index(lowered[0]) > COUNTRY_TIER_ORDER.index(tier):
        tier = lowered[0]
    return CountryFacts(profile.alpha2, tier, profile.name, downgraded_after_misuse=lowered is not None)


def lowered_country_tier(conn: Connection, code: str) -> tuple[ExportTier | None] | None:
    """The tier the latest misuse action lowered a country to, as a 1-tuple (None: never lowered)."""
    found = [e for e in store.events(conn, "country", code) if e.action == COUNTRY_TIER_LOWERED]
    if not found:
        return None
    to = found[-1].to_state
    return (ExportTier(to) if to else None,)


def _marketing_facts(conn: Connection, app: Application, today: date) -> MarketingLicenceFacts | None:
    if app.kind != LicenceKind.EXPORT or not app.marketing_licence:
        return None
    licence = store.load(conn, LICENCE, app.marketing_licence)
    if licence is None or licence.kind != LicenceKind.MARKETING or licence.vendor != app.vendor:
        return MarketingLicenceFacts(app.marketing_licence, False, False, False)
    return lic.marketing_licence_facts(licence, app.item, app.destination, today)
