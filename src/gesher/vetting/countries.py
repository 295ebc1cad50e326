"""Country profiles for partner vetting: governance indicators, commitments and the operator's cyber-export
tier for every ISO 3166-1 country, each value with its source and as-of date.

The data are the CSV files shipped in `data/` (sources and licences in data/SOURCES.md). An operator replaces
any of them whole by putting a file of the same name in an override directory, e.g. the cyber-export tier list
signed by the policy owner (reference/export_control.md 2.2: "configurable and signed by a policy owner").
Loading is all or nothing: any problem in any file raises `CountryDataError` listing every problem as
file:line and column."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import Final

from gesher.errors import GesherError
from gesher.policy.countries import ISO_3166
from gesher.vetting import loaders
from gesher.vetting.datafile import CountryDataError, DataFile
from gesher.vetting.loaders import (
    BUDAPEST_FILE,
    CODES_FILE,
    DATA_FILES,
    JOINT_STATEMENT_FILE,
    TIERS_FILE,
    WGI_FILE,
    RawFile,
)

# Names of the sources, as a profile cites them.
CODES: Final = "ISO 3166-1"
WGI: Final = "World Bank WGI"
JOINT_STATEMENT: Final = "Joint Statement on commercial spyware"
BUDAPEST: Final = "Budapest Convention (ETS 185) parties"
TIERS: Final = "Cyber export tiers (operator list)"
_SOURCE_OF_FILE: Final = {
    CODES_FILE: CODES,
    WGI_FILE: WGI,
    JOINT_STATEMENT_FILE: JOINT_STATEMENT,
    BUDAPEST_FILE: BUDAPEST,
    TIERS_FILE: TIERS,
}


class ExportTier(StrEnum):
    """The national cyber-export country tiers (reference/export_control.md 2.2, `cyber_export_tier`)."""

    A = "A"
    B = "B"
    C = "C"
    EMBARGOED = "EMBARGOED"


class UnknownCountryError(GesherError):
    status = 422
    title = "Unknown country"


@dataclass(frozen=True)
class Source:
    name: str
    as_of: date
    url_or_citation: str


@dataclass(frozen=True)
class WgiScores:
    """World Bank WGI estimates (about -2.5 weak .. 2.5 strong; perception-based); None: not published."""

    rule_of_law: float | None
    voice_accountability: float | None
    political_stability: float | None
    control_of_corruption: float | None
    year: int


@dataclass(frozen=True)
class CountryProfile:
    alpha2: str
    alpha3: str
    name: str
    as_of: date  # the oldest of its sources' as-of dates: the profile is no fresher than that
    wgi: WgiScores | None
    joint_statement_joined: date | None
    budapest_party: bool
    cyber_export_tier: ExportTier | None  # None: on none of the operator's lists
    sources: tuple[Source, ...]
    joint_statement_pending: bool = False  # a decision to join is reported; not counted until it is dated
    cyber_export_note: str = ""
    code_status: str = "official"  # or "user-assigned" (XK), "withdrawn" (AN): see data/countries.csv

    def source(self, name: str) -> Source:
        return next(s for s in self.sources if s.name == name)


class CountryProfiles:
    """Every country's profile, looked up by ISO 3166-1 alpha-2 or alpha-3 code in any case."""

    def __init__(self, profiles: Mapping[str, CountryProfile], datasets: tuple[Source, ...]) -> None:
        self._by_alpha2 = MappingProxyType(dict(profiles))
        self._by_alpha3 = MappingProxyType({p.alpha3: p for p in profiles.values()})
        self.datasets = datasets

    def dataset(self, name: str) -> Source:
        """The source of one data set (e.g. `TIERS`) as loaded: its as-of date and citation."""
        return next(s for s in self.datasets if s.name == name)

    def find(self, code: str) -> CountryProfile | None:
        wanted = code.strip().upper()
        return self._by_alpha2.get(wanted) or self._by_alpha3.get(wanted)

    def get(self, code: str) -> CountryProfile:
        found = self.find(code)
        if found is None:
            given = code if len(code) <= 40 else code[:40] + "..."
            raise UnknownCountryError(
                f"unknown country code {given!r}: "
                "give an ISO 3166-1 alpha-2 or alpha-3 code (e.g. IL or ISR)",
                details={"given": given},
            )
        return found

    def with_tier(self, tier: ExportTier | None) -> list[CountryProfile]:
        return [p for p in self if p.cyber_export_tier == tier]

    def __iter__(self) -> Iterator[CountryProfile]:
        return iter(sorted(self._by_alpha2.values(), key=lambda p: p.alpha2))

    def __len__(self) -> int:
        return len(self._by_alpha2)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.find(code) is not None


def load_country_profiles(override_dir: Path | None = None) -> CountryProfiles:
    """The profiles from the shipped data files, each replaced by the file of the same name in `override_dir`
    when there is one. Raises `CountryDataError` (every problem, as file:line) and loads nothing on any."""
    if override_dir is None:
        return _shipped()
    problems: list[str] = []
    raw = _read(override_dir, problems)
    return _build(raw, problems)


@cache
def _shipped() -> CountryProfiles:
    return _build(_read(None, []), [])


def _read(override_dir: Path | None, problems: list[str]) -> dict[str, RawFile]:
    shipped = files("gesher.vetting") / "data"
    found = {name: RawFile(name, (shipped / name).read_bytes(), False) for name in DATA_FILES}
    if override_dir is None:
        return found
    if not override_dir.is_dir():
        raise CountryDataError([f"{override_dir}: the override directory does not exist"])
    for path in sorted(override_dir.glob("*.csv")):
        if path.name not in DATA_FILES:
            problems.append(f"{path}: not a country data file (override one of: {', '.join(DATA_FILES)})")
            continue
        try:
            found[path.name] = RawFile(str(path), path.read_bytes(), True)
        except OSError as exc:
            problems.append(f"{path}: cannot be read ({exc.strerror})")
            found[path.name] = RawFile(str(path), None, True)
    return found


def _build(raw: Mapping[str, RawFile], problems: list[str]) -> CountryProfiles:
    parsed = loaders.read_all(raw, problems)
    codes = loaders.codes(parsed.get(CODES_FILE), ISO_3166, problems)
    if codes is None:  # without the code table no other file can be checked
        raise CountryDataError(problems)
    facts = _Facts(
        wgi=loaders.wgi(parsed.get(WGI_FILE), codes, problems),
        joint=loaders.joint_statement(parsed.get(JOINT_STATEMENT_FILE), codes, problems),
        budapest=loaders.budapest(parsed.get(BUDAPEST_FILE), codes, problems),
        tiers=loaders.tiers(parsed.get(TIERS_FILE), codes, problems),
    )
    if problems:
        raise CountryDataError(problems)
    datasets = tuple(_dataset(name, raw[name], parsed[name]) for name in DATA_FILES)
    as_of = min(s.as_of for s in datasets[1:])  # the code table dates no fact about a country
    profiles = {code.alpha2: _profile(code, facts, datasets, as_of) for code in codes.values()}
    return CountryProfiles(profiles, datasets)


@dataclass(frozen=True)
class _Facts:
    wgi: dict[str, loaders.WgiRow]
    joint: dict[str, loaders.Signatory]
    budapest: set[str]
    tiers: dict[str, loaders.TierRow]


def _dataset(name: str, raw: RawFile, parsed: DataFile) -> Source:
    citation = parsed.sources[0]
    if raw.override:
        citation = f"operator override {raw.label}: {citation}"
    return Source(_SOURCE_OF_FILE[name], parsed.as_of, citation)


def _profile(code: loaders.Code, facts: _Facts, datasets: tuple[Source, ...], as_of: date) -> CountryProfile:
    signed = facts.joint.get(code.alpha2)
    tier = facts.tiers.get(code.alpha2)
    sources = tuple(
        Source(s.name, s.as_of, signed.source) if s.name == JOINT_STATEMENT and signed is not None else s
        for s in datasets
    )
    return CountryProfile(
        alpha2=code.alpha2,
        alpha3=code.alpha3,
        name=code.name,
        as_of=as_of,
        wgi=_wgi(facts.wgi.get(code.alpha2)),
        joint_statement_joined=signed.joined if signed else None,
        budapest_party=code.alpha2 in facts.budapest,
        cyber_export_tier=ExportTier(tier.tier) if tier else None,
        sources=sources,
        joint_statement_pending=bool(signed and signed.joined is None),
        cyber_export_note=tier.note if tier else "",
        code_status=code.status,
    )


def _wgi(row: loaders.WgiRow | None) -> WgiScores | None:
    if row is None or all(v is None for v in (row.rl, row.va, row.pv, row.cc)):
        return None
    return WgiScores(row.rl, row.va, row.pv, row.cc, row.year)


WGI_SCALE_NOTE: Final = (
    "WGI estimates are perception-based, about -2.5 (weak) to +2.5 (strong), with margins of error"
)


@dataclass(frozen=True)
class Fact:
    """One line of a profile's explanation: what, the value, and where it comes from."""

    label: str
    value: str
    source: Source


def profile_facts(profile: CountryProfile) -> tuple[Fact, ...]:
    """The profile as the `gesher country show` table lists it, each value with its source."""
    code = f"{profile.alpha2} / {profile.alpha3}"
    if profile.code_status != "official":
        code += f", {profile.code_status} code"
    facts = [Fact("Country", f"{profile.name} ({code})", profile.source(CODES))]
    facts.extend(_wgi_facts(profile))
    facts.append(
        Fact("Joint Statement on commercial spyware", _joint(profile), profile.source(JOINT_STATEMENT))
    )
    party = "party" if profile.budapest_party else "not a party (or not yet in the curated list)"
    facts.append(Fact("Budapest Convention (ETS 185)", party, profile.source(BUDAPEST)))
    tier = profile.cyber_export_tier
    value = "on no list" if tier is None else tier.value
    if profile.cyber_export_note:
        value += f" ({profile.cyber_export_note})"
    facts.append(Fact("Cyber export tier", value, profile.source(TIERS)))
    return tuple(facts)


_WGI_LABELS: Final = (
    ("rule_of_law", "rule of law"),
    ("voice_accountability", "voice and accountability"),
    ("political_stability", "political stability"),
    ("control_of_corruption", "control of corruption"),
)


def _wgi_facts(profile: CountryProfile) -> list[Fact]:
    source = profile.source(WGI)
    if profile.wgi is None:
        return [Fact("WGI", "no estimates published", source)]
    facts = []
    for attribute, label in _WGI_LABELS:
        value: float | None = getattr(profile.wgi, attribute)
        shown = "not published" if value is None else f"{value:+.2f}"
        facts.append(Fact(f"WGI {profile.wgi.year} {label}", shown, source))
    return facts


def _joint(profile: CountryProfile) -> str:
    if profile.joint_statement_joined is not None:
        return f"signatory since {profile.joint_statement_joined.isoformat()}"
    if profile.joint_statement_pending:
        return "decision to join reported, not yet dated (not counted as a signatory)"
    return "not a signatory"


def profile_lines(profile: CountryProfile) -> list[str]:
    """The human explanation of a profile: each value with its source and as-of date, then the citations."""
    lines = [
        f"{f.label}: {f.value} ({f.source.name}, as of {f.source.as_of.isoformat()})"
        for f in profile_facts(profile)
    ]
    if profile.wgi is not None:
        lines.append(f"({WGI_SCALE_NOTE})")
    lines.append(f"Profile as of {profile.as_of.isoformat()} (the oldest of its sources). Sources:")
    lines.extend(f"  {s.name}, as of {s.as_of.isoformat()}: {s.url_or_citation}" for s in profile.sources)
    return lines


def profile_as_json(profile: CountryProfile) -> dict[str, object]:
    wgi = profile.wgi
    return {
        "alpha2": profile.alpha2,
        "alpha3": profile.alpha3,
        "name": profile.name,
        "code_status": profile.code_status,
        "as_of": profile.as_of.isoformat(),
        "wgi": None
        if wgi is None
        else {attribute: getattr(wgi, attribute) for attribute, _ in _WGI_LABELS} | {"year": wgi.year},
        "joint_statement_joined": _iso(profile.joint_statement_joined),
        "joint_statement_pending": profile.joint_statement_pending,
        "budapest_party": profile.budapest_party,
        "cyber_export_tier": None if profile.cyber_export_tier is None else profile.cyber_export_tier.value,
        "cyber_export_note": profile.cyber_export_note,
        "sources": [
            {"name": s.name, "as_of": s.as_of.isoformat(), "url_or_citation": s.url_or_citation}
            for s in profile.sources
        ],
    }


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
