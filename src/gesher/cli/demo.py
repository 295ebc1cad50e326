"""`gesher demo`: a ready-to-try exchange on real public data (Amnesty spyware indicators, MITRE ATT&CK
ICS and Mobile), two partners with fresh tokens, and copy-paste examples; then serve on 127.0.0.1."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import typer
from rich.panel import Panel

from gesher.cli.context import actor, out, state
from gesher.cli.ingest import ingest
from gesher.cli.serve import serve
from gesher.exchange import policies, release
from gesher.exchange.collections import create_collection
from gesher.exchange.node import Node
from gesher.partners import organisations, service, vetting, watchlists
from gesher.screening.loaders import SHIPPED, shipped_file
from gesher.store import collections as collection_store
from gesher.store import policies as policy_store
from gesher.store import watchlists as watchlist_store

COLLECTIONS = {
    "spyware-indicators": (
        "Commercial spyware indicators (Amnesty International Security Lab, CC-BY)",
        "amnesty_",
    ),
    "mitre-attack": ("MITRE ATT&CK for ICS and Mobile (see LICENSE-MITRE-ATTACK.txt)", "mitre_"),
    "national-alerts": ("National CERT alerts with mixed markings (gesher demo data)", "gesher_demo_"),
    "partner-contributions": ("Intelligence contributed by partners", None),
}
# name, country, kind, trust tier, {collection: (read, write)}
PARTNERS = {
    "allied-cert": (
        "GB",
        "government",
        1,
        {
            "spyware-indicators": (True, False),
            "mitre-attack": (True, False),
            "national-alerts": (True, False),
            "partner-contributions": (True, True),
        },
    ),
    "finance-isac": (
        "NL",
        "isac",
        2,
        {
            "spyware-indicators": (True, False),
            "national-alerts": (True, False),
            "partner-contributions": (False, True),
        },
    ),
    "research-lab": (  # not vetted: receives only TLP:CLEAR public material
        "IL",
        "academia",
        None,
        {"national-alerts": (True, False), "spyware-indicators": (True, False)},
    ),
}
# The organisation records behind the demo partners (fictitious), screened and vetted at set-up.
LEGAL_NAMES = {
    "allied-cert": "Allied National Cyber Emergency Response Team",
    "finance-isac": "Financial Sector Information Sharing and Analysis Centre",
    "research-lab": "Institute for Applied Security Research",
}
OFFICER = "officer:ruth"

# The demo's two analysts release one offensive item (the release gate needs two of them) and leave a
# sensitive report pending, so `gesher policy preview` shows both states.
RELEASED = "malware--f70bec24-12a6-4757-b724-02925501c723"
PENDING = "report--f005ed3b-3ad3-4930-821a-01cbb14c9a73"


def demo_files(prefix: str) -> list[Path]:
    folder = resources.files("gesher") / "demo_data"
    return sorted(
        Path(str(f))
        for f in folder.iterdir()
        if f.name.startswith(prefix) and f.name.endswith((".json", ".json.gz"))
    )


def demo(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Listen address."),
    port: int = typer.Option(8000, help="Listen port."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Set up and print, but do not start the server."),
) -> None:
    """Set up a demo exchange (idempotent; tokens are re-issued on every run) and serve it."""
    cli = state(ctx)
    node = cli.use(Node.init(cli.settings()))
    ids = _collections(node)
    for name, (_, prefix) in COLLECTIONS.items():
        if prefix:
            ingest(ctx, demo_files(prefix), collection=name, as_json=False)
    tokens = _partners(node, ids)
    _vet(node)
    _release(node)
    _explain(tokens, ids, host, port)
    if not no_serve:
        serve(
            ctx,
            host=host,
            port=port,
            workers=1,
            ssl_certfile=None,
            ssl_keyfile=None,
            allow_insecure_http=False,
            access_log=False,
        )


def _collections(node: Node) -> dict[str, str]:
    ids = {}
    with node.db.write() as conn:
        for name, (description, _) in COLLECTIONS.items():
            found = collection_store.by_name_or_id(conn, name) or create_collection(
                conn, actor(), name, description
            )
            ids[name] = found.id
    return ids


def _partners(node: Node, ids: dict[str, str]) -> dict[str, str]:
    tokens = {}
    with node.db.write() as conn:
        for name, (country, kind, tier, grants) in PARTNERS.items():
            partner = service.store.by_name(conn, name)
            if partner is None:
                partner, tokens[name] = service.create_partner(conn, actor(), name, country, kind)
            else:
                service.revoke_tokens(conn, actor(), partner, "demo re-run: fresh token")
                tokens[name] = service.issue_token(conn, actor(), partner)
            service.set_standing(conn, actor(), partner, "demo partner", trust_tier=tier)
            for collection, (read, write) in grants.items():
                target = service.require_collection(conn, ids[collection])
                service.grant(conn, actor(), partner, target, read, write)
        demo_policy = resources.files("gesher") / "demo_data" / "policy.yaml"
        current = policy_store.history(conn)
        text = demo_policy.read_text(encoding="utf-8")
        if not current or current[-1].text != text:
            policies.load(conn, actor(), text, "demo policy.yaml", "demo set-up")
    return tokens


def _vet(node: Node) -> None:
    """Load the shipped spyware watchlist (once), screen and vet the demo partners, and have the demo's
    officer decide their tiers: the tiers above, approved or overridden with a reason."""
    with node.db.write() as conn:
        if not watchlist_store.in_force(conn):
            shipped = shipped_file()
            watchlists.load(conn, OFFICER, shipped, SHIPPED, "demo: the shipped spyware watchlist")
        for name, (_, _, tier, _) in PARTNERS.items():
            partner = service.require_partner(conn, name)
            if partner.suspended:
                continue  # cut off by the operator since the last run: the demo never reinstates
            organisations.set_record(conn, OFFICER, partner, LEGAL_NAMES[name])
            vetting.vet(node, conn, OFFICER, partner)
            why = "demo: the exchange's standing arrangement with this partner"
            vetting.approve_tier(conn, OFFICER, partner, tier, why if tier else "demo: not vetted yet")


def _release(node: Node) -> None:
    with node.db.write() as conn:
        if not release.is_released(conn, RELEASED):
            release.request(conn, "analyst:dana", RELEASED, "demo: needed by the closest ally's CERT")
            release.approve(conn, "analyst:yossi", RELEASED, "demo: second analyst agrees")
        if not release.was_requested(conn, PENDING):
            release.request(conn, "analyst:dana", PENDING, "demo: waiting for a second analyst")


def _explain(tokens: dict[str, str], ids: dict[str, str], host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    token = tokens["allied-cert"]
    spyware = ids["spyware-indicators"]
    out.print(
        Panel.fit(
            "\n".join(f"{name}: [bold]{tok}[/]" for name, tok in tokens.items()),
            title="demo partners and their tokens (shown once)",
        )
    )
    # Plain text: these are commands to paste, and `match[type]` must not be read as Rich markup.
    out.print(
        "curl (first 2 spyware indicators as allied-cert):\n"
        f"  curl -s -u allied-cert:{token} -H 'Accept: application/taxii+json;version=2.1' \\\n"
        f"    '{base}/taxii2/gesher/collections/{spyware}/objects/?limit=2&match[type]=indicator'\n\n"
        "taxii2-client (pip install taxii2-client):\n"
        "  from taxii2client.v21 import Server, as_pages\n"
        f"  server = Server('{base}/taxii2/', user='allied-cert', password='{token}')\n"
        "  for collection in server.api_roots[0].collections:\n"
        "      for page in as_pages(collection.get_objects, per_request=1000):\n"
        "          print(collection.title, len(page.get('objects', [])))\n\n"
        f"OpenAPI docs: {base}/docs\n\n"
        "vetting (another terminal, same GESHER_DATA_DIR): a vetting explained, then a listed owner\n"
        "cuts a partner off:\n"
        "  gesher vet finance-isac\n"
        "  gesher screen 'Intelexa S.A.' --country GR\n"
        "  gesher partner owner finance-isac 'Intellexa Limited' --country IE --share 0.51\n"
        "  gesher vet finance-isac        # blocked: suspended, tokens revoked; its next request gets 401\n\n"
        "the disclosure ledger: every response above was recorded (header X-Gesher-Ledger-Index: N);\n"
        "allied-cert checks its receipt with only the public key, the operator checks the whole ledger:\n"
        f"  curl -s -u allied-cert:{token} {base}/ledger/v1/entries/N/receipt > receipt.json\n"
        '  gesher ledger verify-receipt receipt.json --key "$(gesher ledger keys | tail -1)"\n'
        "  gesher ledger verify\n"
        "  gesher report disclosures --format html -o disclosures.html",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
