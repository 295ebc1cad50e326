"""Impact reports over a large ledger (issue 6, Build item 5): `gesher report disclosures` on a store holding
N disclosed object records (default 1,000,000) in 1,000-object responses to 50 partners in 10 countries,
over 20,000 marked object versions and 90 days, plus partners' ingest entries. Prints the seconds to
build the report (streaming and parsing the entries, looking up the versions' labels, aggregating) and to
render each format. Target: well under a minute for 1,000,000 records.

python -m bench.report_bench [--records N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gesher.exchange import policies
from gesher.exchange.collections import create_collection
from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.ledger import entries
from gesher.ledger.entries import Kind, Served
from gesher.ledger_service import log
from gesher.ledger_service.impact import By, Options
from gesher.ledger_service.report_render import as_csv, as_html, as_json
from gesher.ledger_service.reports import disclosures_report
from gesher.partners import service
from gesher.settings import Settings
from gesher.stix import constants as c
from gesher.stix.gesher_marking import GESHER_MARKING_EXTENSION_ID

TARGET = 60.0  # seconds for 1,000,000 records ("well under a minute")
COUNTRIES = ("GB", "IL", "FR", "DE", "US", "JP", "IN", "BR", "NL", "SE")
TLPS = (c.TLP2_CLEAR, c.TLP2_GREEN, c.TLP2_AMBER, c.TLP2_AMBER_STRICT, c.TLP2_RED)
TIERS = ("public", "defensive", "sensitive", "offensive")
START = datetime(2026, 6, 1, tzinfo=UTC)
T0 = "2026-01-01T00:00:00.000Z"


def _marking(tier: str, n: int) -> dict[str, object]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--00000000-0000-4000-8000-{n:012d}",
        "created": T0,
        "name": f"gesher {tier}",
        "extensions": {GESHER_MARKING_EXTENSION_ID: {"extension_type": "property-extension", "tier": tier}},
    }


def _indicator(i: int, marking: str) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-9000-{i:012d}",
        "created": T0,
        "modified": T0,
        "pattern": f"[domain-name:value = 'd{i}.example']",
        "pattern_type": "stix",
        "valid_from": T0,
        "object_marking_refs": [TLPS[i % len(TLPS)], marking],
    }


def build(node: Node, records: int, versions: int, partners: int, page: int) -> tuple[float, int]:
    """The store and its ledger; the seconds it took and the disclosure entries appended."""
    started = time.perf_counter()
    markings = [_marking(tier, n) for n, tier in enumerate(TIERS)]
    names = [f"p{n:03d}" for n in range(partners)]
    with node.db.write() as conn:
        intel = create_collection(conn, "bench", "intel", "bench")
        for n, name in enumerate(names):
            partner, _ = service.create_partner(
                conn, "bench", name, COUNTRIES[n % len(COUNTRIES)], "government"
            )
            service.set_standing(conn, "bench", partner, "bench", trust_tier=1 + n % 4)
        policy_text = f"version: 1\nrules:\n  - name: all\n    partners: [{', '.join(names)}]\n"
        policy_id, _ = policies.load(
            conn, "bench", policy_text + "    max_tlp: AMBER\n    max_tier: offensive\n", "b.yaml", "bench"
        )
        add_objects(conn, intel.id, markings, None)
    objects = [_indicator(i, str(markings[i % len(TIERS)]["id"])) for i in range(versions)]
    for start in range(0, versions, 5_000):
        with node.db.write() as conn:
            add_objects(conn, intel.id, objects[start : start + 5_000], None, keep_successes=False)
    endpoint = f"/taxii2/gesher/collections/{intel.id}/objects/"
    count = records // page
    for batch in range(0, count, 50):
        encoded = []
        for n in range(batch, min(batch + 50, count)):
            at = START + timedelta(seconds=n * 90 * 86_400 // count)
            first = (n * page) % versions
            served = [
                Served(str(objects[(first + k) % versions]["id"]), T0, "0" * 64, "all") for k in range(page)
            ]
            partner = names[n % partners]
            entry = entries.disclosure(
                at,
                f"partner:{partner}",
                partner=partner,
                endpoint=endpoint,
                policy_version=policy_id,
                served=served,
            )
            encoded.append((entry, entries.encode(entry)))
        for n in range(batch // 50 * 5, batch // 50 * 5 + 5):  # some partners' contributions
            listed = [[str(objects[(n * 97 + k) % versions]["id"]), T0, "0" * 64] for k in range(20)]
            entry = entries.make(
                Kind.INGEST,
                START,
                "system",
                collection=intel.id,
                source=f"partner:{names[n % partners]}",
                objects=listed,
            )
            encoded.append((entry, entries.encode(entry)))
        with node.db.write() as conn:
            log.append_encoded(conn, encoded)
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--versions", type=int, default=20_000)
    parser.add_argument("--partners", type=int, default=50)
    parser.add_argument("--page", type=int, default=1_000)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary directory")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gesher-report-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'gesher.db'}"
    node = Node.init(Settings(data_dir=folder, database_url=url))
    built, count = build(node, args.records, args.versions, args.partners, args.page)
    print(f"machine: {platform.machine()} {platform.python_implementation()} {platform.python_version()}")
    print(f"store: {url.split(':', 1)[0]}; built in {built:.1f} s")
    print(f"ledger: {count:,} disclosure entries, {count * args.page:,} disclosed object records")
    for by in (By.COUNTRY, By.TLP):
        started = time.perf_counter()
        with node.db.read() as conn:
            report = disclosures_report(conn, Options(by=by))
        took = time.perf_counter() - started
        s = report.summary
        print(
            f"report --by {by.value}: {took:.1f} s ({s.disclosures / took:,.0f} records/s; "
            f"{s.disclosures:,} disclosures, {s.distinct:,} distinct, {s.partners} partners); "
            f"target < {TARGET * args.records / 1_000_000:.0f} s: {'met' if took < TARGET else 'MISSED'}"
        )
    for name, render in (("json", as_json), ("csv", as_csv), ("html", as_html)):
        started = time.perf_counter()
        render(report)
        print(f"render {name}: {time.perf_counter() - started:.2f} s")
    node.db.dispose()


if __name__ == "__main__":
    main()
