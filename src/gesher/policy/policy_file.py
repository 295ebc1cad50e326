"""The policy file: the operator's sharing policy as YAML, read into a `Policy` with every mistake reported
at its line and column.

The YAML is composed into nodes and walked here with the shared reader (`gesher.policy.yaml_reader`);
scalars are interpreted from their text as each field expects, never by YAML 1.1's implicit typing (which
reads the country `NO` as false, `1:30` as a number and `on` as true). Anchors, aliases, merge keys and
explicit tags are refused before composing: a policy never needs them, and aliases are how a small file
expands into a huge one ("billion laughs")."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

import yaml

from gesher.policy.countries import ISO_3166
from gesher.policy.entitlement import Agreement, TrustTier
from gesher.policy.principal import StakeholderKind
from gesher.policy.rules import MAX_RULE_TLP, Policy, Rule
from gesher.policy.sanitise import Profile
from gesher.policy.yaml_reader import (
    MAX_FILE_BYTES,
    Bad,
    Entries,
    Node,
    Problem,
    YamlFileError,
    YamlReader,
    read_text,
)
from gesher.policy.yaml_reader import boolean as _bool
from gesher.policy.yaml_reader import found as _found
from gesher.policy.yaml_reader import or_default as _or
from gesher.stix.gesher_marking import Tier
from gesher.stix.markings import Tlp
from gesher.stix.properties import id_error, show
from gesher.stix.timestamps import is_timestamp, to_micros

# The generic part (composing, refusing YAML's hazards, mappings, lists, scalars) is shared with the alert
# rules file (`gesher.policy.yaml_reader`); `Problem` is re-exported from here as before.
__all__ = ["MAX_POLICY_BYTES", "PolicyFileError", "Problem", "dump_example", "load_policy", "parse_policy"]

T = TypeVar("T")
_Bad = Bad

MAX_POLICY_BYTES: Final = MAX_FILE_BYTES

_TOP_KEYS: Final = ("version", "defaults", "profiles", "groups", "rules", "agreements")
_DEFAULT_KEYS: Final = ("tlp", "tier", "profile")
_PROFILE_KEYS: Final = (
    "protected_originators",
    "drop_internal_addresses",
    "internal_domains",
    "drop_properties",
    "drop_free_text",
)
_RULE_KEYS: Final = (
    "name",
    "trust_tiers",
    "kinds",
    "countries",
    "sectors",
    "partners",
    "groups",
    "max_tlp",
    "max_tier",
    "profile",
)
_AGREEMENT_KEYS: Final = ("name", "partners", "max_tlp", "max_tier", "expires", "profile")

_TLP_NAMES: Final = {
    "CLEAR": Tlp.CLEAR,
    "WHITE": Tlp.CLEAR,  # TLP 1.0
    "GREEN": Tlp.GREEN,
    "AMBER": Tlp.AMBER,
    "AMBER+STRICT": Tlp.AMBER_STRICT,
    "RED": Tlp.RED,
}
_TIER_NAMES: Final = {tier.name.lower(): tier for tier in Tier}
_KINDS: Final = frozenset(kind.value for kind in StakeholderKind)
_COUNTRY_HINTS: Final = {"UK": "GB", "EL": "GR"}
# Properties every STIX object needs (dropping them breaks the object) and the markings that must travel
# with the data (TLP 2.0: the label stays with the information).
_KEPT_PROPERTIES: Final = frozenset(
    {"type", "spec_version", "id", "created", "modified", "object_marking_refs", "granular_markings"}
)

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_PARTNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,99}")
_GROUP = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
_PROFILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_SECTOR = re.compile(r"[a-z0-9-]{1,100}")
_PROPERTY = re.compile(r"[a-z0-9_]{3,250}")
_DOMAIN = re.compile(
    r"(?=.{1,253}\Z)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)
_VERSION = re.compile(r"[1-9][0-9]{0,17}")  # below 2**63: it is stored
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class PolicyFileError(YamlFileError):
    """The policy file is not a valid policy. `errors` lists every problem found, in file order, each as
    `source:line:col: path: message`; the message is the first of them."""

    title = "Invalid policy file"


def parse_policy(text: str, source: str = "policy.yaml") -> Policy:
    """The policy a policy file's text describes; PolicyFileError listing every problem otherwise."""
    reader = _Reader(source)
    root = reader.document(text)
    policy = reader.policy(root, text) if root is not None else None
    if reader.problems or policy is None:
        raise PolicyFileError(reader.problems or [Problem(source, 1, 1, "", "not a policy")])
    return policy


def load_policy(path: Path) -> Policy:
    """Read and parse a policy file: at most 1 MiB of UTF-8."""
    return parse_policy(read_text(path, PolicyFileError, "policy file", MAX_POLICY_BYTES), path.name)


class _Reader(YamlReader):
    """Walks the composed node tree, collecting problems rather than stopping at the first."""

    what = "policy file"
    max_bytes = MAX_POLICY_BYTES
    # The deepest a policy nests is four collections (document, rules, a rule, a selector list).
    max_depth = 8

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.profile_names: set[str] = set()
        self.group_names: set[str] = set()
        self.names: dict[str, int] = {}  # rule and agreement names -> line

    def policy(self, root: Node, text: str) -> Policy | None:
        if not isinstance(root, yaml.MappingNode):
            self.error(root, "", f"the top level must be a mapping of {', '.join(_TOP_KEYS)}{_found(root)}")
            return None
        top = self.mapping(root, "", _TOP_KEYS, required=("version",))
        if top is None:
            return None
        version = self.field(top, "", "version", _version)
        profiles = self.profiles(top["profiles"][1]) if "profiles" in top else {}
        groups = self.groups(top["groups"][1]) if "groups" in top else {}
        defaults = self.mapping(top["defaults"][1], "defaults", _DEFAULT_KEYS) if "defaults" in top else {}
        defaults = defaults or {}
        rules = self.sequence(top, "rules", self.rule)
        agreements = self.sequence(top, "agreements", self.agreement)
        if version is None:
            return None
        return Policy(
            version=version,
            rules=tuple(rules),
            groups=groups,
            agreements=tuple(agreements),
            profiles=profiles,
            default_profile=self.field(defaults, "defaults", "profile", self.profile_ref),
            default_tlp=_or(self.field(defaults, "defaults", "tlp", _tlp), Tlp.AMBER),
            default_tier=_or(self.field(defaults, "defaults", "tier", _tier), Tier.DEFENSIVE),
            digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        )

    # -- sections ----------------------------------------------------------------------------------------

    def profiles(self, node: Node) -> dict[str, Profile]:
        entries = self.mapping(node, "profiles")
        for name, (key, _) in (entries or {}).items():
            self.profile_names.add(name)
            if not _PROFILE.fullmatch(name):
                self.error(key, "profiles", f"profile name {show(name)} must match {_PROFILE.pattern}")
        return {name: self.profile(name, value) for name, (_, value) in (entries or {}).items()}

    def profile(self, name: str, node: Node) -> Profile:
        path = f"profiles.{name}"
        entries = self.mapping(node, path, _PROFILE_KEYS) or {}
        return Profile(
            name=name,
            protected_originators=self.list_field(entries, path, "protected_originators", _identity)
            or frozenset(),
            drop_internal_addresses=_or(self.field(entries, path, "drop_internal_addresses", _bool), False),
            internal_domains=self.list_field(entries, path, "internal_domains", _domain) or frozenset(),
            drop_properties=self.list_field(entries, path, "drop_properties", _property) or frozenset(),
            drop_free_text=_or(self.field(entries, path, "drop_free_text", _bool), False),
        )

    def groups(self, node: Node) -> dict[str, frozenset[str]]:
        entries = self.mapping(node, "groups") or {}
        groups: dict[str, frozenset[str]] = {}
        for name, (key, value) in entries.items():
            self.group_names.add(name)
            if not _GROUP.fullmatch(name):
                self.error(key, "groups", f"group name {show(name)} must match {_GROUP.pattern}")
            groups[name] = self.items(value, f"groups.{name}", _partner) or frozenset()
        return groups

    def rule(self, node: Node, path: str) -> Rule | None:
        entries = self.mapping(node, path, _RULE_KEYS, required=("name", "max_tlp", "max_tier"))
        if entries is None:
            return None
        name = self.unique_name(entries, path, "rule")
        max_tlp = self.field(entries, path, "max_tlp", _granted_tlp("a rule"))
        max_tier = self.field(entries, path, "max_tier", _tier)
        if max_tlp == Tlp.AMBER and "partners" not in entries and "groups" not in entries:
            self.error(
                entries["max_tlp"][1],
                f"{path}.max_tlp",
                "AMBER needs need-to-know: name partners or groups "
                "(a rule selecting only by trust tier, kind, country or sector grants at most GREEN)",
            )
        rule = Rule(
            name=name or "",
            max_tlp=_or(max_tlp, Tlp.CLEAR),
            max_tier=_or(max_tier, Tier.PUBLIC),
            trust_tiers=self.list_field(entries, path, "trust_tiers", _trust_tier),
            kinds=self.list_field(entries, path, "kinds", _kind),
            countries=self.list_field(entries, path, "countries", _country),
            sectors=self.list_field(entries, path, "sectors", _sector),
            partners=self.list_field(entries, path, "partners", _partner),
            groups=self.list_field(entries, path, "groups", self.group_ref),
            profile=self.field(entries, path, "profile", self.profile_ref),
            line=node.start_mark.line + 1,
        )
        return rule if None not in (name, max_tlp, max_tier) else None

    def agreement(self, node: Node, path: str) -> Agreement | None:
        required = ("name", "partners", "max_tlp", "max_tier")
        entries = self.mapping(node, path, _AGREEMENT_KEYS, required=required)
        if entries is None:
            return None
        name = self.unique_name(entries, path, "agreement")
        partners = self.list_field(entries, path, "partners", _partner)
        max_tlp = self.field(entries, path, "max_tlp", _granted_tlp("an agreement"))
        max_tier = self.field(entries, path, "max_tier", _tier)
        expires_at = self.field(entries, path, "expires", _expires)
        profile = self.field(entries, path, "profile", self.profile_ref)
        if name is None or partners is None or max_tlp is None or max_tier is None:
            return None
        line = node.start_mark.line + 1
        return Agreement(name, partners, max_tlp, max_tier, expires_at, profile=profile, line=line)

    def unique_name(self, entries: Entries, path: str, kind: str) -> str | None:
        name = self.field(entries, path, "name", _name)
        if name is None:
            return None
        node = entries["name"][1]
        if name in self.names:
            self.error(
                node, f"{path}.name", f"duplicate name {name!r}: already used on line {self.names[name]}"
            )
        else:
            self.names[name] = node.start_mark.line + 1
        return name

    # -- references to declared names --------------------------------------------------------------------

    def profile_ref(self, raw: str) -> str:
        return _declared(raw, self.profile_names, "profile", "profiles")

    def group_ref(self, raw: str) -> str:
        return _declared(raw, self.group_names, "group", "groups")


# -- helpers ---------------------------------------------------------------------------------------------


def _declared(raw: str, declared: set[str], what: str, section: str) -> str:
    if raw in declared:
        return raw
    if not declared:
        raise _Bad(f"unknown {what} {show(raw)}: none is declared under {section}")
    close = difflib.get_close_matches(raw, declared, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise _Bad(f"unknown {what} {show(raw)}{hint} (declared under {section}: {', '.join(sorted(declared))})")


# -- field types: raw scalar text -> value, or _Bad ------------------------------------------------------


def _version(raw: str) -> int:
    if not _VERSION.fullmatch(raw):
        raise _Bad(f"must be a whole number from 1 (got {show(raw)})")
    return int(raw)


def _tlp(raw: str) -> Tlp:
    tlp = _TLP_NAMES.get(raw.upper().removeprefix("TLP:"))
    if tlp is None:
        raise _Bad(f"{show(raw)} is not a TLP level (CLEAR, GREEN, AMBER, AMBER+STRICT or RED)")
    return tlp


def _granted_tlp(grantor: str) -> Callable[[str], Tlp]:
    def parse(raw: str) -> Tlp:
        tlp = _tlp(raw)
        if tlp > MAX_RULE_TLP:
            level = tlp.label.removeprefix("TLP:")
            raise _Bad(
                f"{level} can never be granted by {grantor} (TLP 2.0: only recipients an object names)"
            )
        return tlp

    return parse


def _tier(raw: str) -> Tier:
    tier = _TIER_NAMES.get(raw.lower())
    if tier is None:
        raise _Bad(f"{show(raw)} is not a tier (public, defensive, sensitive or offensive)")
    return tier


def _trust_tier(raw: str) -> TrustTier:
    if len(raw) == 1 and raw in "1234":
        return TrustTier(int(raw))
    raise _Bad(f"{show(raw)} is not a trust tier (1 closest, 2 trusted, 3 limited, 4 restricted)")


def _kind(raw: str) -> str:
    if raw.lower() in _KINDS:
        return raw.lower()
    raise _Bad(f"{show(raw)} is not a stakeholder kind ({', '.join(sorted(_KINDS))})")


def _country(raw: str) -> str:
    code = raw.upper()
    if code in ISO_3166:
        return code
    hint = f" (did you mean {_COUNTRY_HINTS[code]}?)" if code in _COUNTRY_HINTS else ""
    raise _Bad(f"{show(raw)} is not an ISO 3166-1 alpha-2 country code{hint}")


def _pattern(regex: re.Pattern[str], what: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if regex.fullmatch(raw):
            return raw
        raise _Bad(f"{show(raw)} is not a valid {what} ({regex.pattern})")

    return parse


_name = _pattern(_NAME, "name")
_partner = _pattern(_PARTNER, "partner name")
_sector = _pattern(_SECTOR, "sector (lower-case words)")
_domain = _pattern(_DOMAIN, "lower-case DNS name")


def _property(raw: str) -> str:
    if raw in _KEPT_PROPERTIES:
        raise _Bad(f"{raw!r} cannot be dropped: objects need it, and markings travel with the data")
    if not _PROPERTY.fullmatch(raw):
        raise _Bad(f"{show(raw)} is not a STIX property name ({_PROPERTY.pattern})")
    return raw


def _identity(raw: str) -> str:
    if id_error("identity", raw) is None:
        return raw
    raise _Bad(f"{show(raw)} is not a STIX identity id (identity--<UUID in lower case>)")


def _expires(raw: str) -> int:
    """An RFC 3339 UTC timestamp, or a date meaning 00:00Z that day."""
    stamp = raw + "T00:00:00Z" if _DATE.fullmatch(raw) else raw
    if not is_timestamp(stamp):
        raise _Bad(f"{show(raw)} is not a UTC timestamp like 2027-06-30T00:00:00Z or a date like 2027-06-30")
    return to_micros(stamp)


# -- the example ---------------------------------------------------------------------------------------


def dump_example() -> str:
    """A commented, valid example policy (written by `gesher policy init`)."""
    return _EXAMPLE


_EXAMPLE: Final = """\
# gesher sharing policy.
#
# A partner receives an object when a rule or an agreement below grants at least the object's TLP and
# sensitivity tier (and the object's own releasability, embargo and originator controls allow it).
# Nothing is shared unless something here grants it. TLP:AMBER+STRICT and TLP:RED are never granted by
# a rule or agreement: under TLP 2.0 they go only to the recipients an object itself names.
#
# Values are read as written: NO is Norway, not "false". Booleans are true or false.
# Anchors, aliases (&, *), merge keys (<<) and tags (!) are refused.

version: 1                # your policy's version: raise it with every change

defaults:
  tlp: AMBER              # TLP of objects with no TLP marking: CLEAR, GREEN, AMBER, AMBER+STRICT, RED
  tier: defensive         # tier of objects with no gesher marking: public, defensive, sensitive, offensive
  profile: standard       # sanitisation when the deciding rule or agreement names no profile

profiles:                 # sanitisation profiles, applied to what a partner receives
  standard:
    protected_originators: [identity--f431f809-377b-45e0-aa1c-6a4751cae5ff]  # shown as the exchange
    drop_internal_addresses: true     # RFC 1918, loopback, link-local and the internal domains
    internal_domains: [corp.example.il]
    drop_properties: [x_victim_name]  # victim-identifying top-level properties
    drop_free_text: false             # descriptions and other free text
  strict:
    drop_internal_addresses: true
    drop_free_text: true

groups:                   # named sets of partners
  eu-certs: [cert-de, cert-fr]

rules:                    # every selector given must match; an absent selector matches everyone
  # Vetted governments and ISACs in trust tiers 1 to 3 receive TLP:GREEN defensive intelligence.
  - name: vetted-green
    trust_tiers: [1, 2, 3]
    kinds: [government, isac]
    max_tlp: GREEN
    max_tier: defensive

  # TLP:AMBER needs need-to-know: a rule granting it must name partners or groups.
  - name: nordic-and-eu-amber
    groups: [eu-certs]
    partners: [cert-no]
    countries: [DE, FR, NO]
    max_tlp: AMBER
    max_tier: sensitive

  # Restricted energy-sector partners receive public TLP:GREEN material, heavily redacted.
  - name: energy-restricted
    trust_tiers: [4]
    sectors: [energy]
    max_tlp: GREEN
    max_tier: public
    profile: strict

agreements:               # named partners, for as long as the agreement is in force
  - name: mou-de-2026
    partners: [cert-de]
    max_tlp: AMBER
    max_tier: sensitive
    expires: 2027-06-30   # a date means 00:00 UTC that day; or a timestamp like 2027-06-30T12:00:00Z
"""
