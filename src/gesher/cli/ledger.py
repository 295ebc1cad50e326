"""`gesher ledger ...`: the disclosure ledger for its operators and oversight (issue 6).

`verify` recomputes the whole ledger and names the first bad entry; `checkpoint` prints the signed head;
`verify-receipt` checks a partner's receipt with only the public key (no store needed); `keys`,
`rotate-key` and `show` manage and read it."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from gesher.cli.context import actor, fail, out, print_json, state
from gesher.ledger.checkpoint import b64decode, parse_vkey
from gesher.ledger.entries import decode, format_at
from gesher.ledger.errors import LedgerError
from gesher.ledger.receipt import verify_consistency, verify_receipt_document
from gesher.ledger_service.verify import verify
from gesher.store import ledger as store

app = typer.Typer(help="Verify and read the disclosure ledger; check receipts.", no_args_is_help=True)

_KEY = typer.Option(None, "--key", help="The ledger's public key (vkey), as `gesher ledger keys` prints it.")
_KEY_FILE = typer.Option(None, "--key-file", help="A file holding the public key (vkey).", exists=True)


@app.command("verify")
def verify_command(ctx: typer.Context) -> None:
    """Recompute every entry, checkpoint and the head; exit 1 naming the first bad entry."""
    node = state(ctx).node()
    with node.db.read() as conn:
        total = store.entry_count(conn)
        verifiers = node.ledger.verifiers(conn)
        with Progress(
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=out,
            transient=True,
        ) as bar:
            task = bar.add_task("verify", total=total)
            result = verify(conn, verifiers, node.ledger.origin, lambda n: bar.update(task, completed=n))
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(result.kinds.items())) or "no entries"
    if result.problem is not None:
        where = f"entry {result.problem.index}" if result.problem.index is not None else "ledger"
        fail(f"{where} is bad ({result.problem.reason}): {result.problem.message}")
    out.print(
        f"ledger verified: {result.size} entries ({kinds}), root {result.root.hex()}, "
        f"{result.checkpoints} signed checkpoints match",
        highlight=False,
    )


@app.command("checkpoint")
def checkpoint(ctx: typer.Context) -> None:
    """Print the ledger's current signed checkpoint (signing a new one if the latest is stale)."""
    signed = state(ctx).node().ledger.checkpoint()
    typer.echo(signed.note, nl=False)


@app.command("keys")
def public_keys(ctx: typer.Context) -> None:
    """The ledger's public keys (give the current one to partners and oversight)."""
    node = state(ctx).node()
    with node.db.read() as conn:
        for vkey, _, retired in store.keys(conn):
            typer.echo(f"{vkey}{'  (retired)' if retired else ''}")


@app.command("rotate-key")
def rotate_key(
    ctx: typer.Context, reason: str = typer.Option(..., help="Why (recorded in the ledger).")
) -> None:
    """Replace the signing key; the rotation is a ledger entry, co-signed by the old and the new key."""
    signed = state(ctx).node().ledger.rotate_key(actor(), reason)
    out.print(
        f"new signing key in force from size {signed.size}; checkpoint signed by both keys:", highlight=False
    )
    typer.echo(signed.note, nl=False)


@app.command("show")
def show(ctx: typer.Context, index: int = typer.Argument(..., min=0, help="Entry index.")) -> None:
    """Print one entry as recorded."""
    node = state(ctx).node()
    with node.db.read() as conn:
        body = store.body(conn, index)
    if body is None:
        fail(f"no ledger entry {index}")
    entry = decode(body)
    print_json(
        {
            "index": index,
            "kind": entry.kind.value,
            "at": format_at(entry.at),
            "actor": entry.actor,
            **entry.fields,
        }
    )


def _verifier_key(key: str | None, key_file: Path | None) -> str:
    if key_file is not None:
        key = key_file.read_text(encoding="utf-8").strip()
    if not key:
        fail("give the ledger's public key with --key or --key-file")
    try:
        parse_vkey(key)
    except LedgerError as error:
        fail(f"not a public key: {error.description}")
    return key


@app.command("verify-receipt")
def verify_receipt(
    receipt: Path = typer.Argument(..., exists=True, dir_okay=False, help="The receipt (JSON) to check."),
    key: str | None = _KEY,
    key_file: Path | None = _KEY_FILE,
    origin: str | None = typer.Option(None, help="Also require the checkpoint to be of this ledger."),
) -> None:
    """Check a receipt with only the public key: the entry is in the ledger whose head the key signed."""
    vkey = _verifier_key(key, key_file)
    try:
        checked = verify_receipt_document(receipt.read_bytes(), vkey, origin)
    except LedgerError as error:
        where = f"entry {error.index}: " if error.index is not None else ""
        fail(f"receipt invalid ({error.reason}): {where}{error.description}")
    entry = checked.entry
    what = (
        f"{len(entry.fields['objects'])} objects to {entry.fields['partner']}"
        if entry.kind.value == "disclosure"
        else entry.kind.value
    )
    out.print(
        f"receipt valid: entry {checked.index} ({what}, {format_at(entry.at)}) is in ledger "
        f"{checked.checkpoint.origin} at size {checked.checkpoint.size}",
        highlight=False,
    )


@app.command("verify-consistency")
def verify_consistency_command(
    old: Path = typer.Argument(..., exists=True, dir_okay=False, help="The older signed checkpoint."),
    new: Path = typer.Argument(..., exists=True, dir_okay=False, help="The newer signed checkpoint."),
    proof: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="The proof (JSON from /ledger/v1/consistency)."
    ),
    key: str | None = _KEY,
    key_file: Path | None = _KEY_FILE,
) -> None:
    """Check that the newer checkpoint extends the older one (the ledger was never rewritten)."""
    vkey = _verifier_key(key, key_file)
    try:
        document = orjson.loads(proof.read_bytes())
        hashes = [b64decode(h, "a proof hash") for h in document["proof"]]
        older, newer = verify_consistency(old.read_bytes(), new.read_bytes(), hashes, vkey)
    except (orjson.JSONDecodeError, KeyError, TypeError):
        fail('the proof is not a consistency proof document ({"proof": [base64, ...]})')
    except LedgerError as error:
        fail(f"not consistent ({error.reason}): {error.description}")
    out.print(f"consistent: size {newer.size} extends size {older.size} of {newer.origin}", highlight=False)
