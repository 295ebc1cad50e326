"""`gesher item ...` and `gesher project ...` (issue 5: the capability catalog and development supervision),
and what every licensing command shares: who acts, and how states and histories are printed. The licence and
misuse commands are in `licensing_licences` and `licensing_misuse`. Each command is one write transaction
over `gesher.licensing_service`: a refusal prints its reason, exits 1 and changes nothing."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
import typer
import yaml
from rich.markup import escape
from rich.table import Table

from gesher.cli.context import actor, out, print_json, state
from gesher.errors import InvalidRequest
from gesher.licensing.catalog import Capability
from gesher.licensing.gates import GATED, Project, gate_passed, pending_gate
from gesher.licensing.history import Actor, Role
from gesher.licensing_service import catalog, projects
from gesher.licensing_service.common import require
from gesher.licensing_service.roles import NATIONAL_AUTHORITY
from gesher.stix.timestamps import format_micros
from gesher.store.licensing import PROJECT, StoredEvent, StoredItem
from gesher.store.licensing_codec import decode, encode

ACTOR_HELP = (
    "Who acts: the CLI is the operator's console. --as officer (default), senior-officer or vendor; "
    "--org ORG is the vendor's organisation (required with --as vendor) or the officer's own agency (default "
    f"{NATIONAL_AUTHORITY}). The actor id is cli:<login user>, or cli:NAME with --actor NAME (an offensive "
    "item needs two distinct approving officers). State changes take --reason where the history records one."
)


class ActingAs(StrEnum):
    OFFICER = "officer"
    SENIOR_OFFICER = "senior-officer"
    VENDOR = "vendor"


AS_ROLE: Any = typer.Option(ActingAs.OFFICER, "--as", help="Act as officer, senior-officer or vendor.")
ORG: Any = typer.Option(None, "--org", help="The acting organisation (required for a vendor).")
ACTOR: Any = typer.Option(None, "--actor", help="Act as cli:NAME instead of cli:<login user>.")
JSON: Any = typer.Option(False, "--json", help="Print JSON.")


def acting(as_: ActingAs, org: str | None, name: str | None) -> Actor:
    """The Actor behind a command, from --as, --org and --actor."""
    role = Role(ActingAs(as_).value)
    if role == Role.VENDOR and not (org or "").strip():
        raise InvalidRequest("--as vendor needs --org, the vendor's organisation")
    ident = f"cli:{name.strip()}" if name and name.strip() else actor()
    return Actor(ident, role, (org or "").strip() or NATIONAL_AUTHORITY)


def encoded(value: object) -> Any:
    """A core state as JSON-ready data (the store's codec: enums by value, dates in ISO 8601)."""
    return encode(value)


def event_json(e: StoredEvent) -> dict[str, object]:
    return {
        "at": format_micros(e.at), "subject": e.subject, "action": e.action, "actor": e.actor,
        "role": e.role, "from": e.from_state, "to": e.to_state, "reason": e.reason,
        "details": [list(d) for d in e.details],
    }  # fmt: skip


def print_events(events: list[StoredEvent], as_json: bool) -> None:
    rows = [event_json(e) for e in events]
    if as_json:
        print_json(rows)
        return
    table = Table("at", "subject", "action", "actor", "from", "to", "reason")
    for r in rows:
        table.add_row(
            *(escape(str(r[k])) for k in ("at", "subject", "action", "actor", "from", "to", "reason"))
        )
    out.print(table)


def say(text: str) -> None:
    out.print(escape(text), highlight=False)


# --- items ---------------------------------------------------------------------------------------------

item_app = typer.Typer(
    help="The capability catalog: items and their explained classification.\n\n" + ACTOR_HELP,
    no_args_is_help=True,
)


@item_app.command("add")
def item_add(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="Item name (or `name` in --from-file)."),
    from_file: Path | None = typer.Option(
        None, "--from-file", help="JSON or YAML object of the declared Capability properties."
    ),
    vendor: str | None = typer.Option(None, help="Vendor organisation (default: --org of a vendor)."),
    category: str | None = typer.Option(None, help="e.g. exploit, intrusion-platform, defensive-tool."),
    description: str | None = typer.Option(None, help="What it is."),
    form: list[str] | None = typer.Option(None, help="system, software, technology; repeat."),
    purpose: list[str] | None = typer.Option(None, help="generate, operate, deliver, communicate; repeat."),
    carve_out: list[str] | None = typer.Option(
        None, help="vulnerability-disclosure, incident-response, basic-updates; repeat."
    ),
    declared: list[str] | None = typer.Option(
        None, "--declared", help="A declared true property, e.g. avoids_monitoring; repeat."
    ),
    reason: str = typer.Option("registered", help="Why (recorded)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """Register an item; print its classification (tier, controls, carve-outs) with every reason."""
    who = acting(as_, org, actor_name)
    data = _file_data(from_file) if from_file else {}
    given = {"name": name, "vendor": vendor, "category": category, "description": description,
             "forms": form, "purposes": purpose, "carve_outs": carve_out}  # fmt: skip
    data.update({k: v for k, v in given.items() if v})
    data.update({flag.replace("-", "_"): True for flag in declared or ()})
    if who.role == Role.VENDOR:
        data.setdefault("vendor", who.organisation)
    data.setdefault("description", "")
    capability = _capability(data)
    node = state(ctx).node()
    with node.db.write() as conn:
        stored = catalog.register_item(node, conn, who, capability, reason)
    _print_item(stored, as_json)


def _file_data(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InvalidRequest(f"{path}: no such file")
    text = path.read_text(encoding="utf-8")
    try:
        data = orjson.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (orjson.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidRequest(f"{path}: not valid JSON or YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise InvalidRequest(f"{path}: expected an object of declared properties")
    return data


CAPABILITY_FIELDS = frozenset(Capability.__dataclass_fields__)


def _capability(data: dict[str, Any]) -> Capability:
    unknown = sorted(set(data) - CAPABILITY_FIELDS)
    if unknown:
        raise InvalidRequest(
            f"unknown properties {', '.join(unknown)}; known: {', '.join(sorted(CAPABILITY_FIELDS))}"
        )
    for key in ("forms", "purposes", "carve_outs"):
        if isinstance(data.get(key), str):
            data[key] = [data[key]]
    try:
        return decode(Capability, data)  # type: ignore[return-value]
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"the declared properties are incomplete or invalid: {exc}") from None


def item_json(stored: StoredItem) -> dict[str, object]:
    return {
        "name": stored.name, "vendor": stored.vendor, "registered_by": stored.actor,
        "tier": stored.classification.tier.value, "controlled": stored.classification.controlled,
        "capability": encoded(stored.capability), "classification": encoded(stored.classification),
    }  # fmt: skip


def _print_item(stored: StoredItem, as_json: bool) -> None:
    if as_json:
        print_json(item_json(stored))
        return
    c = stored.classification
    out.print(f"[bold]{escape(stored.name)}[/] ({escape(stored.vendor)}): [bold]{c.tier.value}[/]")
    for control in c.controls:
        reasons = f" [{', '.join(control.reasons)}]" if control.reasons else ""
        say(f"  control {control.regime.value} {control.code}: {control.title}{reasons}")
    for carved in c.carve_outs:
        say(f"  carve-out applied: {carved.value}")
    for r in c.rationale:
        say(f"  - [{r.code}] {r.text}" + (f" ({r.rule})" if r.rule else ""))


@item_app.command("show")
def item_show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Item name."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """An item with its classification and the reasons for it."""
    who = acting(as_, org, actor_name)
    with state(ctx).node().db.read() as conn:
        stored = catalog.require_item(conn, who, name)
    _print_item(stored, as_json)


@item_app.command("list")
def item_list(
    ctx: typer.Context,
    vendor: str | None = typer.Option(None, help="Only this vendor's items."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """The items the actor may see (a vendor sees its own only)."""
    who = acting(as_, org, actor_name)
    with state(ctx).node().db.read() as conn:
        found = [i for i in catalog.items_of(conn, who) if vendor is None or i.vendor == vendor]
    if as_json:
        print_json([item_json(i) for i in found])
        return
    table = Table("name", "vendor", "tier", "controls")
    for i in found:
        codes = ", ".join(c.code for c in i.classification.controls)
        table.add_row(escape(i.name), escape(i.vendor), i.classification.tier.value, codes)
    out.print(table)


# --- projects ------------------------------------------------------------------------------------------

project_app = typer.Typer(
    help="Development supervision: stage gates CONCEPT -> DEVELOPMENT -> TESTING -> MARKETING -> EXPORT -> "
    "SUSTAINMENT, no skipping; a gate passes once every required change is confirmed.\n\n" + ACTOR_HELP,
    no_args_is_help=True,
)


def project_json(p: Project) -> dict[str, object]:
    pending = pending_gate(p)
    return {
        **encoded(p),
        "state": p.state,
        "pending_gate": pending.value if pending else None,
        "gates_passed": [g.value for g in GATED if gate_passed(p, g)],
        "open_changes": [{"id": c.id, "text": c.text, "gate": r.gate.value}
                         for r in p.reviews for c in r.open_changes],
    }  # fmt: skip


def print_project(p: Project, as_json: bool) -> None:
    data = project_json(p)
    if as_json:
        print_json(data)
        return
    out.print(f"[bold]{p.id}[/] {escape(p.item)} ({escape(p.vendor)}, {p.tier.value}): stage {p.state}")
    say(f"  gates passed: {', '.join(data['gates_passed']) or 'none'}")  # type: ignore[arg-type]
    say(f"  gate under review: {data['pending_gate'] or 'none (it may advance)'}")
    for r in p.reviews:
        say(f"  review of {r.gate.value} by {r.reviewer}")
        for f in r.findings:
            say(f"    finding: {f}")
        for c in r.required_changes:
            done = f"confirmed by {c.confirmed_by}" if c.confirmed_by else "PENDING"
            say(f"    required change {c.id}: {c.text} ({done})")
        for text in r.conditions:
            say(f"    condition: {text}")


@project_app.command("register")
def project_register(
    ctx: typer.Context,
    item: str = typer.Argument(..., help="The catalogued item."),
    reason: str = typer.Option("registered at the concept stage", help="Why (recorded)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """Register a supervised project for an item, at the CONCEPT stage."""
    who = acting(as_, org, actor_name)
    node = state(ctx).node()
    with node.db.write() as conn:
        project = projects.register_project(node, conn, who, item, reason)
    print_project(project, as_json)


@project_app.command("review")
def project_review(
    ctx: typer.Context,
    project_id: str = typer.Argument(..., metavar="ID"),
    gate: str = typer.Option(..., help="The gate reviewed (the one under review)."),
    finding: list[str] | None = typer.Option(None, help="A finding; repeat."),
    require_change: list[str] | None = typer.Option(None, help="A required change; repeat."),
    condition: list[str] | None = typer.Option(None, help="A condition; repeat."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """An officer's review of the gate under review: findings, required changes (each gets an id, RC-n),
    conditions. The findings are the review's reasons."""
    who = acting(as_, org, actor_name)
    node = state(ctx).node()
    with node.db.write() as conn:
        project = projects.review_gate(
            node, conn, who, project_id, gate, tuple(finding or ()), tuple(require_change or ()),
            tuple(condition or ()),
        )  # fmt: skip
    print_project(project, as_json)


@project_app.command("confirm")
def project_confirm(
    ctx: typer.Context,
    project_id: str = typer.Argument(..., metavar="ID"),
    change_id: str = typer.Argument(..., metavar="CHANGE_ID"),
    reason: str = typer.Option("change confirmed", help="What was verified (recorded)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """An independent officer confirms a required change was made."""
    who = acting(as_, org, actor_name)
    node = state(ctx).node()
    with node.db.write() as conn:
        project = projects.confirm_change(node, conn, who, project_id, change_id, reason)
    print_project(project, as_json)


@project_app.command("advance")
def project_advance(
    ctx: typer.Context,
    project_id: str = typer.Argument(..., metavar="ID"),
    reason: str = typer.Option("gate passed", help="Why (recorded)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """Move the project one stage on, once every gate up to it has passed."""
    who = acting(as_, org, actor_name)
    node = state(ctx).node()
    with node.db.write() as conn:
        project = projects.advance(node, conn, who, project_id, reason)
    print_project(project, as_json)


def _suspend_or_resume(
    ctx: typer.Context, resume: bool, project_id: str, reason: str, who: Actor, as_json: bool
) -> None:
    node = state(ctx).node()
    call = projects.resume if resume else projects.suspend
    with node.db.write() as conn:
        project = call(node, conn, who, project_id, reason)
    print_project(project, as_json)


@project_app.command("suspend")
def project_suspend(
    ctx: typer.Context,
    project_id: str = typer.Argument(..., metavar="ID"),
    reason: str = typer.Option(..., help="Why (recorded)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """Suspend a project (it cannot advance until resumed)."""
    _suspend_or_resume(ctx, False, project_id, reason, acting(as_, org, actor_name), as_json)


@project_app.command("resume")
def project_resume(
    ctx: typer.Context,
    project_id: str = typer.Argument(..., metavar="ID"),
    reason: str = typer.Option(..., help="Why (recorded)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """Resume a suspended project."""
    _suspend_or_resume(ctx, True, project_id, reason, acting(as_, org, actor_name), as_json)


@project_app.command("show")
def project_show(
    ctx: typer.Context,
    project_id: str = typer.Argument(..., metavar="ID"),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """A project: its stage, the gates passed, the gate under review, reviews and pending changes."""
    who = acting(as_, org, actor_name)
    with state(ctx).node().db.read() as conn:
        project = require(conn, PROJECT, project_id, who)
    print_project(project, as_json)
