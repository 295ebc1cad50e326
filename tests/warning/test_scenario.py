"""Issue 7's scripted scenario on the shipped real indicators: Pegasus domains (Amnesty International's
NSO Pegasus indicators, 2021-07-18) seen by a bank, then a ministry, then an energy operator."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from importlib import resources

from gesher.warning.correlate import Reporter, Sighting
from gesher.warning.correlator import Correlator
from gesher.warning.indicators import match_keys
from gesher.warning.observations import parse_csv
from gesher.warning.rules import Alert, Level

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
BANK = Reporter("bank-leumi-soc", "finance", "IL", "B")
MINISTRY = Reporter("mof-cert", "government", "IL", "B")
ENERGY = Reporter("iec-soc", "energy", "IL", "B", critical=True)


def pegasus_keys() -> dict[str, str]:
    """Normalised value -> token, for every equality indicator in the shipped Pegasus file."""
    path = resources.files("gesher") / "demo_data" / "amnesty_2021-07-18_nso_pegasus.json.gz"
    bundle = json.loads(gzip.decompress(path.read_bytes()))
    keys = {}
    for obj in bundle["objects"]:
        if obj["type"] == "indicator":
            for key in match_keys(obj["pattern"]).keys:
                keys[key.value] = str(key)
    return keys


def sightings_from(reporter: Reporter, csv_text: str, now: datetime, keys: dict[str, str]) -> list[Sighting]:
    observations = parse_csv(csv_text.encode(), now)
    return [
        Sighting(keys[o.value], reporter, o.time, o.sighting, o.count)
        for o in observations
        if o.value in keys
    ]


def test_bank_then_ministry_then_energy_operator() -> None:
    keys = pegasus_keys()
    assert len(keys) > 1400 and "weather4free.com" in keys
    token = keys["weather4free.com"]
    c = Correlator()

    at = T0
    bank_file = "time,value\n2026-11-23T07:58:00Z,WEATHER4FREE.COM.\n2026-11-23T07:59:00Z,www.example.org\n"
    assert c.add_many(sightings_from(BANK, bank_file, at, keys) * 50, at) == []  # repetition adds nothing

    at = T0 + timedelta(minutes=40)
    ministry = sightings_from(MINISTRY, "value,time\nweather4free.com,2026-11-23T08:35:00Z\n", at, keys)
    assert c.add_many(ministry, at) == [
        Alert(
            token="domain-name:weather4free.com",
            level=Level.CAMPAIGN,
            rule="L2 campaign: 3 partners or 2 sectors within 24 h",
            raised_at=at,
            reporters=None,
            sectors=None,
            countries=None,
            confidence=None,
            withheld=True,
            reasons=(
                "L2 campaign: 3 partners or 2 sectors within 24 h: met",
                "counts withheld: fewer than 3 partners",
            ),
        )
    ]
    assert c.add_many(ministry, at + timedelta(minutes=1)) == []  # no duplicate at the same level

    at = T0 + timedelta(hours=3)

    energy = [Sighting(token, ENERGY, datetime(2026, 11, 23, 10, 55, tzinfo=UTC))]
    [national] = c.add_many(energy, at)
    assert national == Alert(
        token=token,
        level=Level.NATIONAL,
        rule="L3 national: 5 partners, 3 sectors or any critical-infrastructure operator within 72 h",
        raised_at=at,
        reporters=3,
        sectors=("energy", "finance", "government"),
        countries=1,
        confidence=round(1 - 0.25**3, 4),
        withheld=False,
        reasons=(
            "L3 national: 5 partners, 3 sectors or any critical-infrastructure operator within 72 h: met",
            "seen by 3 partners in 3 sectors and 1 countries within 72 h, among them critical infrastructure",
        ),
    )
    decision = c.decision(token, at)
    assert decision.reasons == ("3 sectors >= 3", "a critical-infrastructure operator among the partners")
    for alert_text in (repr(national), repr(decision)):
        for who in (BANK, MINISTRY, ENERGY):
            assert who.id not in alert_text
