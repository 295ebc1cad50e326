"""Early warning's sighting-to-alert latency (issue 7, "Performance"): sightings arrive at a sustained
rate (default 1,000/s); how long from a sighting's arrival until the alert it raises is committed?
Target: under 1 s.

- store: a fresh gesher store (SQLite by default, or `--database-url`), with the shipped Pegasus
  indicators (Amnesty, 1,549) ingested, and P partners (default 50) in five sectors;
- stream: sightings paced on a fixed schedule (sighting i is due at start + i/rate), sent in batches
  as a partner's TAXII POST of several sightings would be (`--batch`, default 10, each from one partner),
  each batch in its own write transaction through the service (`warning_service.sightings.record`:
  attribution, matching, storing, correlation from the store, alert reports into the `alerts`
  collection, ledger entry). One sighting in `--threat-every` (default 20) is of a Pegasus domain
  another partner sighted a moment before (it raises an alert); the rest are noise: values no indicator
  names and no other partner sees;
- timed: for every alert, commit time minus its sighting's due time (so a service that falls behind the
  schedule shows it as latency); also the achieved rate and each batch's transaction time.

The service is called in process (no HTTP): the figure is the service's own latency, which the TAXII
route adds its parsing and validation to.

python -m bench.warning_latency_bench [--rate R] [--seconds S] [--batch B] [--partners P] [--database-url U]
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import gesher
from gesher.exchange.collections import create_collection
from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.partners import service
from gesher.settings import Settings
from gesher.store.partners import PartnerRow
from gesher.warning_service import sightings
from gesher.warning_service.config import WarningConfig
from gesher.warning_service.sightings import Report

TARGET = 1.0  # seconds, sighting to alert
PEGASUS = Path(gesher.__file__).parent / "demo_data" / "amnesty_2021-07-18_nso_pegasus.json.gz"
SECTORS = ("finance", "government", "energy", "health", "telecommunications")


def setup(settings: Settings, partners: int) -> tuple[Node, list[PartnerRow], list[str]]:
    """A store with the Pegasus indicators and `partners` partners; the indicators' domains."""
    node = Node.init(settings)
    objects = json.loads(gzip.decompress(PEGASUS.read_bytes()))["objects"]
    domains = [
        o["pattern"].split("'")[1]
        for o in objects
        if o["type"] == "indicator" and o["pattern"].startswith("[domain-name:value='")
    ]
    rows = []
    with node.db.write() as conn:
        intel = create_collection(conn, "bench", "intel")
        add_objects(conn, intel.id, objects, None)
        for i in range(partners):
            partner, _ = service.create_partner(conn, "bench", f"partner-{i:03d}", "IL", "industry")
            rows.append(
                service.set_standing(conn, "bench", partner, "bench", trust_tier=2, sectors=[SECTORS[i % 5]])
            )
    return node, rows, sorted(set(domains))


def stream(
    rate: int, seconds: float, batch: int, every: int, partners: int, domains: list[str]
) -> list[tuple[float, int, list[str]]]:
    """Batches: (due offset in s, index of the reporting partner, the values it reports)."""
    rng = random.Random(7)
    batches: list[tuple[float, int, list[str]]] = []
    n = threat = 0
    for b in range(int(rate * seconds) // batch):
        values: list[str] = []
        for _ in range(batch):
            if n % every == every - 1:
                values.append(domains[threat % len(domains)])  # a second partner sees it: an alert
                threat += 1
            else:
                values.append(f"noise-{n}.example.org")
            n += 1
        batches.append((b * batch / rate, rng.randrange(partners), values))
    return batches


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=1000, help="sightings per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=10, help="sightings per transaction")
    parser.add_argument("--partners", type=int, default=50)
    parser.add_argument("--threat-every", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), database_url=args.database_url)
        node, partners, domains = setup(settings, args.partners)
        node.warning_config = WarningConfig(sighting_rate_limit=10**9)  # the bench is the flood
        try:
            run(node, partners, domains, args)
        finally:
            node.db.dispose()


def run(node: Node, partners: list[PartnerRow], domains: list[str], args: argparse.Namespace) -> None:
    plan = stream(args.rate, args.seconds, args.batch, args.threat_every, len(partners), domains)
    # Prime each threat domain with one partner's sighting, so the stream's sighting is the second.
    with node.db.write() as conn:
        now = datetime.now(tz=UTC)
        first = [Report(f"domain-name:{d}", now) for d in domains]
        sightings.record(conn, partners[-1], first, now, node.warning_config, node.identity, "bench")
    latencies, transactions, alerts = [], [], 0
    start = time.perf_counter()
    for due, who, values in plan:
        wait = start + due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        began = time.perf_counter()
        now = datetime.now(tz=UTC)
        reports = [Report(f"domain-name:{v}", now) for v in values]
        with node.db.write() as conn:
            done = sightings.record(
                conn, partners[who], reports, now, node.warning_config, node.identity, "bench"
            )
        committed = time.perf_counter()
        transactions.append(committed - began)
        if done.alerts:
            alerts += len(done.alerts)
            latencies.append(committed - (start + due))  # the batch arrives whole when it is due
    elapsed = time.perf_counter() - start
    sent = len(plan) * args.batch
    report(args, node, sent, elapsed, alerts, latencies, transactions)


def report(
    args: argparse.Namespace,
    node: Node,
    sent: int,
    elapsed: float,
    alerts: int,
    latencies: list[float],
    transactions: list[float],
) -> None:
    def ms(values: list[float], q: float) -> str:
        if not values:
            return "-"
        ordered = sorted(values)
        return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f} ms"

    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"machine   {platform.machine()} {python}, {datetime.now(tz=UTC):%Y-%m-%d}")
    print(f"store     {node.db.engine.url.render_as_string(hide_password=True)}")
    print(f"offered   {args.rate:,} sightings/s for {args.seconds:.0f} s in batches of {args.batch}")
    print(f"achieved  {sent / elapsed:,.0f} sightings/s ({sent:,} in {elapsed:.2f} s)")
    print(f"alerts    {alerts:,}")
    print(
        f"latency   sighting -> alert committed: p50 {ms(latencies, 0.5)}, p99 {ms(latencies, 0.99)}, "
        f"max {ms(latencies, 1.0)}  (target < {TARGET * 1000:.0f} ms)"
    )
    print(
        f"batch tx  p50 {ms(transactions, 0.5)}, p99 {ms(transactions, 0.99)}, "
        f"mean {statistics.fmean(transactions) * 1000:.2f} ms"
    )
    worst = max(latencies, default=0.0)
    print(f"ratio     worst latency / target = {worst / TARGET:.2f}")


if __name__ == "__main__":
    main()
