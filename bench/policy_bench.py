"""The tiered policy's cost and reaction time (issue 3), on the real `gesher serve`:

- N indicators (default 1,000,000) over realistic label diversity: TLP 2.0 CLEAR..RED and gesher markings
  (tiers, releasability to countries and groups, named recipients) in a few hundred combinations;
- 1,000 partners with trust tiers, countries, kinds and groups, and a policy of tier, kind and group rules
  and agreements;
- paging the collection and random single-object GETs, policy off (an administrator: no filter, no
  sanitisation) versus on (a typical partner); target: on >= 0.8x off, in objects served per second;
- how long a policy load and a partner suspension take to reach the running server (target < 1 s).

Set-up uses the library in process (creating 1,000 partners through 1,000 CLI runs would take minutes);
serving goes through the real server and HTTP only.

python -m bench.policy_bench [--objects N] [--partners P]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from bench import generate, taxii_load
from bench.common import Server, basic_auth, free_port, request, stop, wait_until_ready
from gesher.exchange import policies
from gesher.exchange.collections import create_collection
from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.partners import service
from gesher.settings import Settings
from gesher.stix import constants as c
from gesher.stix.gesher_marking import GESHER_MARKING_EXTENSION_ID

ROOT = Path(__file__).resolve().parent.parent
GESHER = ROOT / ".venv" / "bin" / "gesher"
TLPS = [(c.TLP2_CLEAR, 15), (c.TLP2_GREEN, 40), (c.TLP2_AMBER, 35), (c.TLP2_AMBER_STRICT, 6), (c.TLP2_RED, 4)]
COUNTRIES = ["GB", "US", "DE", "FR", "NL", "JP", "AU", "CA", "IT", "ES", "SE", "PL", "KR", "SG", "IN"]
KINDS = ["government", "industry", "isac", "ngo", "academia"]
GROUPS = [f"group-{i:02d}" for i in range(20)]
PROBE = "partner-0001"  # the typical partner whose view is measured: tier 2, in two groups


def _marking(rng: random.Random, partners: list[str]) -> dict[str, Any]:
    content: dict[str, Any] = {
        "extension_type": "property-extension",
        "tier": rng.choices(["public", "defensive", "sensitive", "offensive"], [30, 50, 15, 5])[0],
    }
    if rng.random() < 0.4:
        content["releasable_to"] = sorted(
            set(rng.sample(COUNTRIES, 3)) | {f"group:{g}" for g in rng.sample(GROUPS, 2)}
        )
    if rng.random() < 0.2:
        content["recipients"] = sorted(rng.sample(partners, 5))
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        "created": "2026-01-01T00:00:00.000Z",
        "extensions": {GESHER_MARKING_EXTENSION_ID: content},
    }


def _policy(partners: list[str]) -> str:
    members = {g: partners[i::20][:40] for i, g in enumerate(GROUPS)}
    lines = ["version: 1", "groups:"]
    lines += [f"  {g}: [{', '.join(m)}]" for g, m in members.items()]
    lines += ["profiles:", "  standard:", "    drop_internal_addresses: true", "rules:"]
    for tier, tlp, level in ((1, "GREEN", "sensitive"), (2, "GREEN", "defensive"), (3, "GREEN", "public")):
        lines += [f"  - name: tier-{tier}", f"    trust_tiers: [{tier}]", f"    max_tlp: {tlp}"]
        lines += [f"    max_tier: {level}", "    profile: standard"]
    for g in GROUPS:
        lines += [
            f"  - name: {g}-amber",
            f"    groups: [{g}]",
            "    max_tlp: AMBER",
            "    max_tier: sensitive",
        ]
    lines += ["agreements:"]
    for i in range(0, 200, 10):
        lines += [f"  - name: mou-{i}", f"    partners: [{partners[i]}]", "    max_tlp: AMBER"]
        lines += ["    max_tier: offensive", "    expires: 2099-01-01"]
    return "\n".join(lines) + "\n"


def build(data_dir: Path, objects: int, partner_count: int) -> tuple[str, dict[str, str], int]:
    """A store with the collection, partners, policy and marked indicators; returns (collection id,
    tokens of the administrator and the probe partner, distinct labels)."""
    rng = random.Random(1)
    node = Node.init(Settings(data_dir=data_dir))
    names = [f"partner-{i:04d}" for i in range(partner_count)]
    tokens: dict[str, str] = {}
    with node.db.write() as conn:
        collection = create_collection(conn, "bench", "marked-indicators", "policy bench")
        _, tokens["admin"] = service.create_partner(conn, "bench", "bench-admin", "IL", "government", True)
        for i, name in enumerate(names):
            row, token = service.create_partner(conn, "bench", name, COUNTRIES[i % 15], KINDS[i % 5])
            tier = 2 if name == PROBE else rng.choice([1, 2, 2, 3, 3, 4, None])
            service.set_standing(conn, "bench", row, "bench", trust_tier=tier)
            service.grant(conn, "bench", row, collection, True, False)
            if name == PROBE:
                tokens["probe"] = token
        policies.load(conn, "bench", _policy(names), "bench.yaml", "bench")
    markings = [_marking(rng, names) for _ in range(40)]
    combos = [
        [rng.choices([t for t, _ in TLPS], [w for _, w in TLPS])[0]]
        + [m["id"] for m in rng.sample(markings, rng.choice([0, 1, 1, 2]))]
        for _ in range(400)
    ]
    weights = [1 / (k + 1) for k in range(len(combos))]  # a few combinations are common, most are rare
    started = time.monotonic()
    for first in range(0, objects, 10_000):
        batch = [generate.indicator(i) for i in range(first, min(objects, first + 10_000))]
        for obj in batch:
            obj["object_marking_refs"] = rng.choices(combos, weights)[0]
        with node.db.write() as conn:
            add_objects(
                conn, collection.id, (markings if first == 0 else []) + batch, None, keep_successes=False
            )
    with node.db.read() as conn:
        labels = int(conn.exec_driver_sql("SELECT count(*) FROM access_labels").scalar_one())
    print(f"built {objects:,} marked objects, {labels} labels in {time.monotonic() - started:.0f} s")
    node.db.dispose()
    return collection.id, tokens, labels


def _visible_ids(srv: Server, limit: int = 1000) -> list[str]:
    conn, ids, path = srv.connect(timeout=600), [], f"{srv.objects_path}?limit={limit}"
    while path:
        _, _, data = request(conn, "GET", path, srv.headers())
        env = orjson.loads(data)
        ids += [o["id"] for o in env.get("objects", []) if o["type"] == "indicator"]
        nxt = env.get("next")
        path = f"{srv.objects_path}?limit={limit}&next={nxt}" if env.get("more") else None
    return ids


def _reaction(env: dict[str, str], srv: Server, object_id: str, change: list[str], gone: set[int]) -> float:
    """Seconds from a CLI change's return to the running server answering differently for the object."""
    proc = subprocess.run([str(GESHER), *change], env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(proc.stderr)
    start = time.monotonic()
    conn = srv.connect()
    while time.monotonic() - start < 30:
        status, _, _ = request(conn, "GET", f"{srv.objects_path}{object_id}/", srv.headers())
        if status in gone:
            return time.monotonic() - start
        time.sleep(0.01)
    return float("inf")


def run(objects: int, partner_count: int, lookup_s: float = 10.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-policy-") as tmp:
        data = Path(tmp)
        collection, tokens, labels = build(data, objects, partner_count)
        env = {**os.environ, "GESHER_DATA_DIR": str(data)}
        port = free_port()
        log = data / "serve.log"
        cmd = [str(GESHER), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
        proc = subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        admin = Server(port, "/taxii2/gesher/", collection, basic_auth("bench-admin", tokens["admin"]))
        probe = Server(port, "/taxii2/gesher/", collection, basic_auth(PROBE, tokens["probe"]))
        try:
            wait_until_ready(proc, port, "/taxii2/", admin.auth)
            out: dict[str, Any] = {"objects": objects, "partners": partner_count, "labels": labels}
            out["paging_off"] = taxii_load.paging(admin)
            out["paging_on"] = taxii_load.paging(probe)
            visible = _visible_ids(probe)
            out["visible_share"] = round(len(visible) / objects, 3)
            # Both look up objects the probe partner may receive: the same answers, with and without policy.
            paths = [
                f"{probe.objects_path}{oid}/"
                for oid in random.Random(7).sample(visible, min(5000, len(visible)))
            ]
            out["lookup_off"] = taxii_load.lookups_of(admin, paths, seconds=lookup_s, connections=4)
            out["lookup_on"] = taxii_load.lookups_of(probe, paths, seconds=lookup_s, connections=4)
            seen = set(visible)
            hidden_ids = [generate.indicator_id(i) for i in random.Random(8).sample(range(objects), 20000)]
            hidden = [f"{probe.objects_path}{oid}/" for oid in hidden_ids if oid not in seen][:5000]
            out["lookup_hidden"] = taxii_load.lookups_of(probe, hidden, seconds=lookup_s / 2, connections=4)
            stricter = data / "stricter.yaml"
            stricter.write_text("version: 2\n")  # deny all
            out["policy_change_s"] = _reaction(
                env, probe, visible[0], ["policy", "load", str(stricter), "--reason", "bench"], {404}
            )
            out["partner_change_s"] = _reaction(
                env, probe, visible[0], ["partner", "set", PROBE, "--suspend", "--reason", "bench"], {401}
            )
        finally:
            stop(proc)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.policy_bench", description=__doc__.split("\n")[0])
    p.add_argument("--objects", type=int, default=1_000_000)
    p.add_argument("--partners", type=int, default=1000)
    args = p.parse_args(argv)
    out = run(args.objects, args.partners)
    on, off = out["paging_on"]["rate"], out["paging_off"]["rate"]
    lon, loff = out["lookup_on"]["rate"], out["lookup_off"]["rate"]
    print(f"{out['objects']:,} objects, {out['labels']} distinct labels, {out['partners']} partners; ")
    print(f"the probe partner may receive {out['visible_share']:.1%} of them")
    print(f"paging   policy off {off:>10,.0f} obj/s   on {on:>10,.0f} obj/s   ratio {on / off:.2f} (>= 0.80)")
    print(f"lookups  policy off {loff:>10,.0f} req/s   on {lon:>10,.0f} req/s   ratio {lon / loff:.2f}")
    print(f"lookups of objects hidden from the partner (404): {out['lookup_hidden']['rate']:,.0f} req/s")
    print(f"policy load reaches the server in {out['policy_change_s'] * 1000:.0f} ms (target < 1 s)")
    print(f"partner suspension reaches the server in {out['partner_change_s'] * 1000:.0f} ms (target < 1 s)")
    results = Path(__file__).parent / "results" / "policy.json"
    results.write_text(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
