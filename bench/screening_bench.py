"""Denied-party screening throughput (issue 4): names screened per second on one core against a
10,000-entry watchlist. Target: >= 1,000 names/s.

The list is the shipped spyware fixture (17 entries) plus deterministic synthetic companies and persons
from a seeded RNG: companies are one or two invented distinctive words, generic words ("Group",
"Technologies") and a legal form in a third of the spellings; persons are common given names from
several countries with invented or common surnames, some with middle names and aliases. The queries mix
exact list names, misspellings, reordered and re-cased names, legal-form changes, Cyrillic and Hebrew
spellings, and (half of them) names that are not on the list but share its vocabulary: a real screening
load is mostly negatives.

Anchors (reference/export_control.md, B.2 and B.4): yente publishes about 4-30 requests/s per vCPU
(logic-v2 with 10 candidates: ~4; logic-v1 with 3 candidates: ~30); nomenklatura's logic-v1 measured
~5.9k compares/s on this kind of machine, i.e. ~0.6 names/s if every name were compared with all 10,000
entries, and ~590 names/s with 10 candidates per name from an external search index.

python -m bench.screening_bench [--entries N] [--queries Q] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from datetime import date
from pathlib import Path

from gesher.screening import ListAction, Screener, Watchlist, WatchlistEntry, shipped_watchlists

TARGET = 1_000  # names/s (issue 4)
YENTE = (4, 30)  # requests/s per vCPU, docs/deploy/scaling.md
LOGIC_V1 = 5_900  # compares/s, measured (reference B.2)
ON = date(2026, 1, 5)


def _split(text: str) -> list[str]:
    return text.split()


SYLLABLES = _split(
    "ka ri to na mi lo sa ve ta ne xo ra bi lu de mo zen tor vik gal dor sel an el tri pho nex cor lyn "
    "qua ves tal rim bor cas dra fen gor hel jun kel mar nor pel sor tur vel wen yar zor ax ix ul om"
)
GENERIC = ["Group", "Technologies", "Holdings", "Systems", "Solutions", "Security", "Software", "Global"]
LEGAL = ["Ltd", "Limited", "LLC", "Inc.", "S.A.", "GmbH", "AG", "JSC", "AO", "Zrt", "PTE. LTD.", "BV"]
GIVEN = _split(
    "David Maria Anna Mohammed Ahmed Ali Fatima Olga Ivan Sergei Elena Dimitri Nikos Giorgos Eleni Yosef "
    "Moshe Avi Noa Tal Yael Daniel Michael Sarah John James Robert Mary Linda Chen Wei Li Ming Hiroshi "
    "Yuki Kenji Pierre Jean Marie Sophie Luca Giulia Marco Andrea Carlos Juan Sofia Pablo Ana Lucia Omar "
    "Hassan Layla Amir Reza Ahmet Mehmet Ayse Piotr Anna Katarzyna Jan Lars Ingrid Sven Emma Noah Liam"
)
SURNAMES = _split(
    "Cohen Levi Mizrahi Peretz Biton Friedman Smith Johnson Brown Garcia Martinez Rossi Russo Ferrari "
    "Muller Schmidt Schneider Ivanov Petrov Smirnov Papadopoulos Papadopoulou Georgiou Nikolaou Wang Zhang "
    "Liu Chen Tanaka Suzuki Sato Kim Lee Park Nguyen Tran Hassan Hussein Rahman Khan Yilmaz Kaya Nowak "
    "Kowalski Andersson Johansson Hansen Jensen Dubois Moreau Lopez Gonzalez Fernandez Silva Santos"
)
COUNTRIES = ["US", "GB", "IL", "GR", "CY", "RU", "CN", "AE", "DE", "FR", "IT", "ES", "SG", "HU", "MK", "IE"]
CYRILLIC = ["Тал Дилиан", "Позитив Текнолоджиз", "Интеллекса", "Цитрокс"]
HEBREW = ["טל דיליאן", "קנדירו", "מרום הרפז", "טל כהן", "דוד לוי"]


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables)).capitalize()


def _company(rng: random.Random) -> str:
    words = [_word(rng, rng.choice((2, 3, 3, 4)))]
    if rng.random() < 0.3:
        words.append(_word(rng, 2))
    words += rng.sample(GENERIC, rng.choice((0, 1, 1, 2)))
    if rng.random() < 0.7:
        words.append(rng.choice(LEGAL))
    return " ".join(words)


def _person(rng: random.Random) -> str:
    surname = rng.choice(SURNAMES) if rng.random() < 0.4 else _word(rng, rng.choice((2, 3)))
    middle = [rng.choice(GIVEN)] if rng.random() < 0.25 else []
    return " ".join([rng.choice(GIVEN), *middle, surname])


def _entry(rng: random.Random, number: int) -> WatchlistEntry:
    person = rng.random() < 0.5
    name = _person(rng) if person else _company(rng)
    aliases = (_person(rng) if person else _company(rng),) if rng.random() < 0.2 else ()
    action = ListAction("Synthetic", "SYN", "designated", date(2020 + number % 6, 1 + number % 12, 1))
    return WatchlistEntry(
        id=f"syn-{number:05d}",
        schema="Person" if person else "Company",
        name=name,
        aliases=aliases,
        countries=(rng.choice(COUNTRIES),),
        actions=(action,),
    )


def build_lists(entries: int, seed: int) -> list[Watchlist]:
    """The shipped fixture plus synthetic entries up to `entries` in all."""
    shipped = list(shipped_watchlists())
    count = entries - sum(len(w.entries) for w in shipped)
    rng = random.Random(seed)
    synthetic = tuple(_entry(rng, i) for i in range(count))
    return [*shipped, Watchlist("synthetic", f"seed-{seed}", ON, entries=synthetic)]


def _typo(rng: random.Random, name: str) -> str:
    chars = list(name)
    i = rng.randrange(1, max(2, len(chars) - 1))
    move = rng.choice(("drop", "double", "swap"))
    if move == "drop":
        del chars[i]
    elif move == "double":
        chars.insert(i, chars[i])
    elif i + 1 < len(chars):
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def _variant(rng: random.Random, entry: WatchlistEntry) -> str:
    name = rng.choice(entry.names())
    words = name.split()
    kind = rng.choice(("typo", "order", "case", "legal"))
    if kind == "typo":
        return _typo(rng, name)
    if kind == "order" and entry.is_person:
        return " ".join(reversed(words))
    if kind == "legal" and not entry.is_person:
        return " ".join([*(w for w in words if w not in LEGAL), rng.choice(LEGAL)])
    return name.upper() if rng.random() < 0.5 else name.replace(" ", ", ")


def build_queries(lists: list[Watchlist], count: int, seed: int) -> list[str]:
    """`count` queries: 20 % exact names, 25 % variants, 5 % Cyrillic/Hebrew, 50 % names not listed."""
    rng = random.Random(seed + 1)
    entries = [e for w in lists for e in w.entries]
    queries: list[str] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.20:
            queries.append(rng.choice(rng.choice(entries).names()))
        elif roll < 0.45:
            queries.append(_variant(rng, rng.choice(entries)))
        elif roll < 0.50:
            queries.append(rng.choice(CYRILLIC + HEBREW))
        else:
            queries.append(_person(rng) if rng.random() < 0.5 else _company(rng))
    return queries


def run(entries: int, queries: int, seed: int) -> dict[str, object]:
    lists = build_lists(entries, seed)
    names = build_queries(lists, queries, seed)
    started = time.perf_counter()
    screener = Screener(lists)
    build = time.perf_counter() - started
    screener.screen("warm up", on=ON)
    outcomes: dict[str, int] = {}
    candidates = 0
    cpu, started = time.process_time(), time.perf_counter()
    for name in names:
        result = screener.screen(name, on=ON)
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
        candidates += len(result.candidates)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "entries": sum(len(w.entries) for w in lists),
        "queries": len(names),
        "index_build_s": build,
        "elapsed_s": elapsed,
        "cpu_s": cpu,
        "names_per_s": len(names) / elapsed,
        "candidates_per_query": candidates / len(names),
        "outcomes": outcomes,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def main(argv: list[str] | None = None) -> None:
    doc = (__doc__ or "").split("\n")[0]
    p = argparse.ArgumentParser(prog="python -m bench.screening_bench", description=doc)
    p.add_argument("--entries", type=int, default=10_000)
    p.add_argument("--queries", type=int, default=5_000)
    p.add_argument("--seed", type=int, default=4)
    args = p.parse_args(argv)
    out = run(args.entries, args.queries, args.seed)
    rate = float(out["names_per_s"])  # type: ignore[arg-type]
    print(f"{out['entries']:,} watchlist entries indexed in {out['index_build_s']:.2f} s")
    print(
        f"{out['queries']:,} names screened in {out['elapsed_s']:.2f} s ({out['cpu_s']:.2f} s CPU, one core)"
    )
    print(f"outcomes {out['outcomes']}; {out['candidates_per_query']:.2f} candidates reported per name")
    print(
        f"throughput {rate:>10,.0f} names/s   ratio to the 1,000 names/s target {rate / TARGET:.2f} (>= 1.00)"
    )
    low, high = rate / YENTE[1], rate / YENTE[0]
    print(f"anchor: yente {YENTE[0]}-{YENTE[1]} requests/s per vCPU   ratio {low:.0f}x-{high:.0f}x")
    at_ten = LOGIC_V1 / 10
    print(
        f"anchor: nomenklatura logic-v1 {LOGIC_V1:,} compares/s = {at_ten:,.0f} names/s at 10 candidates "
        f"per name   ratio {rate / at_ten:.1f}x"
    )
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / "screening.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
