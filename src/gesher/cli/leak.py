"""`gesher leak issue|trace`: leak tracing with per-recipient canaries (issue 6, Build 6).

`issue` mixes canary indicators into a collection, each marked so that only its recipient receives it, and
records the issuance in the ledger. `trace FILE` names the recipient(s) whose canaries a leaked file holds,
with the evidence chain from the ledger: the issuance entry and the disclosures that served the canaries.

Exit codes of `trace`: 0 the leak is attributed, 1 no canary found, 2 the file cannot be read, 3 the
exchange cannot trace (store or canary key unavailable, ledger unreadable)."""

from __future__ import annotations

from pathlib import Path

import typer

from gesher.cli.context import actor, err, fail, out, print_json, state
from gesher.errors import GesherError
from gesher.exchange.outbound import ADMINISTRATOR
from gesher.ledger.entries import format_at
from gesher.ledger_service import canaries
from gesher.ledger_service.canaries import (
    ID_MATCH,
    Disclosure,
    Finding,
    Issuance,
    Match,
    Trace,
    UnreadableLeak,
)

app = typer.Typer(
    help="Leak tracing: issue per-recipient canaries, trace a leaked file to its recipient(s).",
    no_args_is_help=True,
)

NO_CANARY, UNREADABLE, CANNOT_TRACE = 1, 2, 3


@app.command("issue")
def issue(
    ctx: typer.Context,
    collection: str = typer.Option(..., "--collection", "-c", help="Collection name or id."),
    period: str | None = typer.Option(None, help="Month the canaries are for, YYYY-MM (default: this one)."),
    recipients: str | None = typer.Option(
        None, help="Partners, comma-separated (default: every vetted partner that can read the collection)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report (with the canary values)."),
) -> None:
    """Issue canaries to each recipient in a collection: indicators only that recipient receives,
    ingested and recorded in the ledger in one transaction. Re-issuing changes nothing."""
    node = state(ctx).node()
    names = recipients.split(",") if recipients is not None else None
    with node.db.write() as conn:
        result = canaries.issue(conn, node, actor(), collection, period, names)
    if as_json:
        print_json(_issuance_json(result))
        return
    ledger_text = _recorded_text([i.entry for i in result.issued if i.entry is not None])
    out.print(
        f"canaries for {len(result.issued)} recipient(s) in {result.collection.name} for {result.period} "
        f"(zone {result.zone}): {result.stored} new object version(s); {ledger_text}",
        highlight=False,
    )
    for i in result.issued:
        entry = f"ledger entry {i.entry}" if i.entry is not None else "issued before"
        typer.echo(f"  {i.recipient}: {len(i.canaries)} canaries, {entry}")
    for name, why in result.skipped:
        err.print(f"not issued to {name}: {why}", highlight=False, markup=False)
    for i in result.issued:
        if not i.reaches:
            err.print(f"warning: {i.recipient} does not receive its canaries:", highlight=False, markup=False)
            for line in i.why_not:
                err.print(f"  {line}", highlight=False, markup=False)


def _recorded_text(entries: list[int]) -> str:
    if not entries:
        return "already issued: nothing new recorded"
    if len(entries) == 1:
        return f"recorded in ledger entry {entries[0]}"
    return f"recorded in ledger entries {min(entries)}-{max(entries)}"


def _issuance_json(result: Issuance) -> dict[str, object]:
    return {
        "collection": {"id": result.collection.id, "name": result.collection.name},
        "period": result.period,
        "zone": result.zone,
        "stored": result.stored,
        "issued": [
            {
                "recipient": i.recipient,
                "ledger_entry": i.entry,
                "marking": i.marking,
                "canaries": [
                    {"kind": c.kind.value, "value": c.value, "tag": c.tag, "object_id": o}
                    for c, o in zip(i.canaries, i.objects, strict=True)
                ],
                "reaches": i.reaches,
                "why_not": list(i.why_not),
            }
            for i in result.issued
        ],
        "skipped": [{"partner": name, "why": why} for name, why in result.skipped],
    }


@app.command("trace")
def trace(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The leak: a STIX bundle, TAXII envelope, JSON, or text."),
    as_json: bool = typer.Option(False, "--json", help="Print the attribution as JSON."),
) -> None:
    """Name the recipient(s) whose canaries FILE holds, with the ledger's evidence. Exit 0 attributed,
    1 no canary found, 2 unreadable file, 3 the exchange cannot trace."""
    try:
        data = file.read_bytes()
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror or error}", code=UNREADABLE)
    try:
        leak = canaries.read_leak(data)
    except UnreadableLeak as error:
        fail(f"cannot read {file}: {error.description}", code=UNREADABLE)
    try:
        node = state(ctx).node()
        with node.db.read() as conn:
            result = canaries.trace_leak(conn, node, leak)
    except GesherError as error:
        fail(f"cannot trace: {error.description}", code=CANNOT_TRACE)
    if as_json:
        print_json(trace_json(result))
    else:
        _print_trace(result, file)
    if not result.findings:
        raise typer.Exit(NO_CANARY)


def _print_trace(result: Trace, file: Path) -> None:
    if not result.findings:
        out.print(
            f"no canary found in {file}: none of its {result.values} values is a canary of the "
            f"{result.issued} issuance(s) the ledger records",
            highlight=False,
            markup=False,
        )
        return
    names = ", ".join(f.recipient for f in result.findings)
    typer.echo(f"{file} holds canaries of {len(result.findings)} recipient(s): {names}")
    for finding in result.findings:
        _print_finding(finding, result.collections)
    typer.echo("")
    typer.echo(f"served every canary found: {', '.join(result.served_all) or 'no single partner'}")
    for d in result.others:
        typer.echo(f"also served to {d.partner} (not a recipient's own disclosure): {_disclosure_line(d)}")


def _print_finding(finding: Finding, collections: dict[str, str]) -> None:
    typer.echo("")
    typer.echo(f"{finding.recipient}: {finding.canaries} canaries, {finding.confidence:.0%} of those found")
    by_tag: dict[str, list[Match]] = {}
    for m in finding.matches:
        by_tag.setdefault(m.tag, []).append(m)
    for found in by_tag.values():
        values = [m for m in found if m.kind != ID_MATCH] or found
        first = values[0]
        how = "its value" if first.kind != ID_MATCH else "its object id only (the value was removed)"
        if first.kind != ID_MATCH and len(values) < len(found):
            how = "its value and its object id"
        where = f"collection {collections.get(first.scope, first.scope)}, period {first.period}"
        typer.echo(f"  {first.kind:<9} {first.value}")
        typer.echo(f"            found: {how}; {where}; object {first.object_id}")
    for i in finding.issuances:
        typer.echo(f"  issued:  ledger entry {i.index}, {format_at(i.at)}, by {i.actor}")
    for d in finding.disclosures:
        typer.echo(f"  served:  {_disclosure_line(d)}")
    if not finding.disclosures:
        typer.echo("  served:  no disclosure of these canaries to this recipient is recorded")


def _disclosure_line(d: Disclosure) -> str:
    identical = f", {len(d.identical)} byte-identical to the leak" if d.identical else ""
    admin = " (an administrator's read)" if ADMINISTRATOR in d.rules else ""
    return (
        f"ledger entry {d.index}, {format_at(d.at)}, {d.endpoint}{admin} "
        f"({len(d.objects)} canary object(s){identical})"
    )


def _disclosure_json(d: Disclosure) -> dict[str, object]:
    return {
        "index": d.index,
        "at": format_at(d.at),
        "partner": d.partner,
        "endpoint": d.endpoint,
        "objects": [{"id": o, "sha256": h} for o, h in d.objects],
        "identical_to_leak": list(d.identical),
        "rules": list(d.rules),
    }


def trace_json(result: Trace) -> dict[str, object]:
    return {
        "values": result.values,
        "issuances": result.issued,
        "recipients": [
            {
                "recipient": f.recipient,
                "confidence": round(f.confidence, 4),
                "canaries": [
                    {
                        "kind": m.kind,
                        "value": m.value,
                        "collection": result.collections.get(m.scope),
                        "scope": m.scope,
                        "period": m.period,
                        "tag": m.tag,
                        "object_id": m.object_id,
                        "issuance": m.issuance,
                    }
                    for m in f.matches
                ],
                "issued": [{"index": i.index, "at": format_at(i.at), "actor": i.actor} for i in f.issuances],
                "disclosures": [_disclosure_json(d) for d in f.disclosures],
            }
            for f in result.findings
        ],
        "served_all": list(result.served_all),
        "others": [_disclosure_json(d) for d in result.others],
    }
