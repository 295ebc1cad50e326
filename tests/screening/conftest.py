"""Screeners over the shipped spyware watchlist: `shipped` (with gesher's curated Hebrew aliases) and
`plain` (the same lists without them, as the shared fixture has it), so Hebrew queries are tested both
as literal curated aliases and through consonant skeletons."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources

import pytest

from gesher.screening import Screener, Watchlist, parse_json, shipped_watchlists

ON = date(2026, 1, 5)  # after the 2025-12-30 partial delisting


def shipped_text() -> str:
    return resources.files("gesher.screening").joinpath("data", "spyware_watchlist.json").read_text()


def plain_watchlists() -> list[Watchlist]:
    doc = json.loads(shipped_text())
    for entity in doc["entities"]:
        entity.pop("curated_aliases", None)
        entity.pop("curated_weak_aliases", None)
    return parse_json(json.dumps(doc), "plain.json")


@pytest.fixture(scope="session")
def shipped() -> Screener:
    return Screener(shipped_watchlists())


@pytest.fixture(scope="session")
def plain() -> Screener:
    return Screener(plain_watchlists())


@pytest.fixture(scope="session")
def public_only() -> Screener:
    """The public list alone: without the confidential list, no hit reads as clear."""
    return Screener([w for w in shipped_watchlists() if not w.confidential])
