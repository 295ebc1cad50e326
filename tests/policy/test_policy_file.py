"""The policy file: YAML read field by field, every mistake reported at its line and column, and none of
YAML 1.1's surprises (NO is Norway; aliases, merge keys and tags are refused)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gesher.errors import InvalidRequest
from gesher.policy.entitlement import Agreement, TrustTier
from gesher.policy.policy_file import (
    MAX_POLICY_BYTES,
    PolicyFileError,
    dump_example,
    load_policy,
    parse_policy,
)
from gesher.policy.rules import Policy, Rule
from gesher.policy.sanitise import Profile
from gesher.stix.gesher_marking import Tier
from gesher.stix.markings import Tlp
from gesher.stix.timestamps import to_micros

IDENTITY = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"

# A small valid policy the error cases below change one thing in. Line numbers matter: keep it as is.
BASE = """\
version: 1
profiles:
  standard: {}
groups:
  eu-certs: [cert-de]
rules:
  - name: vetted
    max_tlp: GREEN
    max_tier: defensive
"""


def errors(text: str) -> list[str]:
    with pytest.raises(PolicyFileError) as info:
        parse_policy(text)
    exc: PolicyFileError = info.value
    return exc.errors


def only_error(text: str) -> str:
    found = errors(text)
    assert len(found) == 1, found
    return found[0]


def with_rule(*lines: str) -> str:
    return BASE + "  - " + "\n    ".join(lines) + "\n"  # the new rule starts on line 10


# -- the example -------------------------------------------------------------------------------------------


def test_the_example_parses_into_the_policy_it_describes() -> None:
    text = dump_example()
    policy = parse_policy(text)
    standard = Profile(
        name="standard",
        protected_originators=frozenset({IDENTITY}),
        drop_internal_addresses=True,
        internal_domains=frozenset({"corp.example.il"}),
        drop_properties=frozenset({"x_victim_name"}),
    )
    strict = Profile(name="strict", drop_internal_addresses=True, drop_free_text=True)
    rules = (
        Rule(
            name="vetted-green",
            max_tlp=Tlp.GREEN,
            max_tier=Tier.DEFENSIVE,
            trust_tiers=frozenset({TrustTier.CLOSEST, TrustTier.TRUSTED, TrustTier.LIMITED}),
            kinds=frozenset({"government", "isac"}),
            line=34,
        ),
        Rule(
            name="nordic-and-eu-amber",
            max_tlp=Tlp.AMBER,
            max_tier=Tier.SENSITIVE,
            countries=frozenset({"DE", "FR", "NO"}),
            partners=frozenset({"cert-no"}),
            groups=frozenset({"eu-certs"}),
            line=41,
        ),
        Rule(
            name="energy-restricted",
            max_tlp=Tlp.GREEN,
            max_tier=Tier.PUBLIC,
            trust_tiers=frozenset({TrustTier.RESTRICTED}),
            sectors=frozenset({"energy"}),
            profile="strict",
            line=49,
        ),
    )
    agreement = Agreement(
        name="mou-de-2026",
        partners=frozenset({"cert-de"}),
        max_tlp=Tlp.AMBER,
        max_tier=Tier.SENSITIVE,
        expires_at=to_micros("2027-06-30T00:00:00Z"),
        line=57,
    )
    assert policy == Policy(
        version=1,
        rules=rules,
        groups={"eu-certs": frozenset({"cert-de", "cert-fr"})},
        agreements=(agreement,),
        profiles={"standard": standard, "strict": strict},
        default_profile="standard",
        default_tlp=Tlp.AMBER,
        default_tier=Tier.DEFENSIVE,
        digest=hashlib.sha256(text.encode()).hexdigest(),
    )
    named = [(r.name, r.line) for r in policy.rules] + [(a.name, a.line) for a in policy.agreements]
    for name, line in named:  # the line of each list item is its `- name:` line
        assert text.splitlines()[line - 1].strip() == f"- name: {name}"


def test_a_minimal_policy_takes_the_defaults() -> None:
    policy = parse_policy("version: 7\n")
    assert policy == Policy(version=7, digest=hashlib.sha256(b"version: 7\n").hexdigest())


def test_defaults_accept_tlp_1_names_and_any_case() -> None:
    policy = parse_policy("version: 1\ndefaults: {tlp: white, tier: OFFENSIVE}\n")
    assert (policy.default_tlp, policy.default_tier) == (Tlp.CLEAR, Tier.OFFENSIVE)
    assert parse_policy("version: 1\ndefaults:\n  tlp: AMBER+STRICT\n").default_tlp == Tlp.AMBER_STRICT
    assert parse_policy("version: 1\ndefaults:\n  tlp: RED\n").default_tlp == Tlp.RED


def test_the_error_is_an_invalid_request_carrying_every_problem() -> None:
    text = BASE.replace("GREEN", "PURPLE").replace("defensive", "secret")
    with pytest.raises(PolicyFileError) as info:
        parse_policy(text, source="ops.yaml")
    exc = info.value
    assert isinstance(exc, InvalidRequest) and exc.status == 400
    assert exc.errors == [
        "ops.yaml:8:14: rules[0].max_tlp: 'PURPLE' is not a TLP level "
        "(CLEAR, GREEN, AMBER, AMBER+STRICT or RED)",
        "ops.yaml:9:15: rules[0].max_tier: 'secret' is not a tier "
        "(public, defensive, sensitive or offensive)",
    ]
    assert str(exc) == exc.errors[0] + " (and 1 more)"
    assert (exc.line, exc.column, exc.path) == (8, 14, "rules[0].max_tlp")
    assert exc.details == {"errors": exc.errors}


# -- YAML 1.1 hazards ----------------------------------------------------------------------------------------


def test_no_is_norway() -> None:
    policy = parse_policy(
        with_rule("name: nordic", "countries: [NO, de, 'SE']", "max_tlp: GREEN", "max_tier: public")
    )
    assert policy.rules[1].countries == frozenset({"NO", "DE", "SE"})


def test_scalars_are_read_as_written_not_as_yaml_types() -> None:
    policy = parse_policy(
        'version: "3"\nrules:\n  - {name: "on", trust_tiers: ["1", 2], max_tlp: Green, max_tier: PUBLIC}\n'
    )
    assert policy.version == 3
    assert policy.rules[0].name == "on"
    assert policy.rules[0].trust_tiers == frozenset({TrustTier.CLOSEST, TrustTier.TRUSTED})


@pytest.mark.parametrize(
    ("value", "line"),
    [("0", 1), ("-1", 1), ("3.0", 1), ("0x3", 1), ("1:30", 1), ("03", 1), ("[1]", 1), ("", 1)],
)
def test_version_is_a_whole_number_from_one(value: str, line: int) -> None:
    error = only_error(f"version: {value}\n")
    assert error.startswith(f"policy.yaml:{line}:")
    assert "version" in error


@pytest.mark.parametrize("word", ["True", "FALSE", "true", "false"])
def test_booleans_are_true_or_false_in_any_case(word: str) -> None:
    policy = parse_policy(f"version: 1\nprofiles:\n  p:\n    drop_free_text: {word}\n")
    assert policy.profiles["p"].drop_free_text is (word.lower() == "true")


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "1", "y"])
def test_yaml_1_1_booleans_are_refused(word: str) -> None:
    error = only_error(f"version: 1\nprofiles:\n  p:\n    drop_free_text: {word}\n")
    assert error.startswith("policy.yaml:4:21: profiles.p.drop_free_text: must be true or false")


def test_aliases_and_anchors_are_refused() -> None:
    text = BASE + "  - &r {name: a, max_tlp: GREEN, max_tier: public}\n  - *r\n"
    found = errors(text)
    assert found[0].startswith("policy.yaml:10:5: ") and "anchors" in found[0]
    assert found[1].startswith("policy.yaml:11:5: ") and "aliases" in found[1]


def test_billion_laughs_is_refused_before_it_expands() -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    found = errors("\n".join(lines) + "\n")
    assert found[0].startswith("policy.yaml:1:5: ") and "anchors" in found[0]


def test_merge_keys_are_refused() -> None:
    text = BASE + "  - <<: {max_tier: public}\n    name: b\n    max_tlp: GREEN\n"
    found = errors(text)
    assert found[0].startswith("policy.yaml:10:5: rules[1]: merge keys")


def test_explicit_tags_are_refused() -> None:
    assert only_error("version: !!int 1\n").startswith("policy.yaml:1:10: tags")
    assert only_error("version: 1\ngroups: !!python/object:os.system {}\n").startswith(
        "policy.yaml:2:9: tags"
    )


# -- structure -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_an_empty_file_is_refused(text: str) -> None:
    assert only_error(text) == "policy.yaml:1:1: the policy file is empty"


@pytest.mark.parametrize("text", ["- version: 1\n", "version\n", "42\n"])
def test_the_top_level_must_be_a_mapping(text: str) -> None:
    error = only_error(text)
    assert error.startswith("policy.yaml:1:1: the top level must be a mapping")


def test_a_missing_required_key_is_reported_at_its_mapping() -> None:
    assert only_error("rules:\n  - {name: a, max_tlp: GREEN, max_tier: public}\n").startswith(
        "policy.yaml:1:1: missing required key 'version'"
    )
    error = only_error(with_rule("name: b", "max_tlp: GREEN"))
    assert error.startswith("policy.yaml:10:5: rules[1]: missing required key 'max_tier'")


def test_syntax_errors_carry_their_position() -> None:
    error = only_error(BASE + "  - name: [unclosed\n    max_tlp: GREEN\n")
    assert error.startswith("policy.yaml:11:12: YAML syntax error")
    error = only_error("version: 1\n  rules: x\n")
    assert error.startswith("policy.yaml:2:8: YAML syntax error")


def test_control_characters_are_refused_at_their_position() -> None:
    assert only_error("version: 1\nrules: x\x07\n").startswith("policy.yaml:2:9: character U+0007")


def test_several_documents_are_refused() -> None:
    assert only_error("version: 1\n---\nversion: 2\n").startswith("policy.yaml:2:1: a policy file holds one")


def test_deep_nesting_is_refused_without_recursing() -> None:
    assert "nested more" in only_error("version: 1\ngroups: " + "[" * 5000 + "\n")


def test_unknown_keys_name_the_key_and_the_allowed_keys() -> None:
    error = only_error(with_rule("name: b", "max_tpl: GREEN", "max_tlp: GREEN", "max_tier: public"))
    assert error.startswith("policy.yaml:11:5: rules[1]: unknown key 'max_tpl'; did you mean 'max_tlp'?")
    assert "allowed: name, trust_tiers" in error
    error = only_error("version: 1\npolicy: {}\n")
    assert error.startswith("policy.yaml:2:1: unknown key 'policy'") and "agreements" in error
    error = only_error("version: 1\nprofiles:\n  p: {drop_ips: true}\n")
    assert error.startswith("policy.yaml:3:7: profiles.p: unknown key 'drop_ips'")


def test_duplicate_keys_are_refused_where_yaml_would_keep_the_last() -> None:
    assert only_error("version: 1\nversion: 2\n").startswith(
        "policy.yaml:2:1: version: duplicate key 'version' (first on line 1)"
    )
    error = only_error(with_rule("name: b", "max_tlp: GREEN", "max_tier: public", "max_tlp: RED"))
    assert error.startswith("policy.yaml:13:5: rules[1].max_tlp: duplicate key 'max_tlp' (first on line 11)")
    error = only_error("version: 1\ngroups:\n  g: [a1]\n  g: [b1]\n")
    assert error.startswith("policy.yaml:4:3: groups.g: duplicate key")


def test_non_scalar_keys_are_refused() -> None:
    assert only_error("version: 1\n? [a]\n: b\n").startswith("policy.yaml:2:3: keys must be names")


def test_every_empty_list_is_refused() -> None:
    error = only_error(with_rule("name: b", "countries: []", "max_tlp: GREEN", "max_tier: public"))
    assert error.startswith("policy.yaml:11:16: rules[1].countries: is an empty list")
    assert only_error("version: 1\nrules: []\n").startswith("policy.yaml:2:8: rules: is an empty list")
    assert only_error("version: 1\ngroups:\n  g: []\n").startswith(
        "policy.yaml:3:6: groups.g: is an empty list"
    )


def test_a_selector_must_be_a_list() -> None:
    error = only_error(with_rule("name: b", "countries: DE", "max_tlp: GREEN", "max_tier: public"))
    assert error.startswith("policy.yaml:11:16: rules[1].countries: must be a list")


def test_a_value_listed_twice_is_refused() -> None:
    error = only_error(with_rule("name: b", "countries: [DE, NO, de]", "max_tlp: GREEN", "max_tier: public"))
    assert error.startswith("policy.yaml:11:25: rules[1].countries[2]: 'de' is listed twice")


def test_all_problems_are_collected_in_file_order() -> None:
    text = (
        "version: 0\n"
        "rules:\n"
        "  - {name: a, max_tlp: RED, max_tier: public}\n"
        "  - {name: b, max_tlp: GREEN, max_tier: public, countries: [XX]}\n"
        "groups:\n"
        "  g: [ok1, 'not ok']\n"
    )
    found = errors(text)
    assert [e.split(": ")[0] for e in found] == [
        "policy.yaml:1:10",
        "policy.yaml:3:24",
        "policy.yaml:4:61",
        "policy.yaml:6:12",
    ]


# -- rules -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["RED", "AMBER+STRICT", "tlp:red"])
def test_a_rule_can_never_grant_red_or_amber_strict(level: str) -> None:
    error = only_error(with_rule("name: b", "partners: [cert-de]", f"max_tlp: {level}", "max_tier: public"))
    name = level.upper().removeprefix("TLP:")
    assert error == (
        f"policy.yaml:12:14: rules[1].max_tlp: {name} can never be granted by a rule "
        "(TLP 2.0: only recipients an object names)"
    )


def test_amber_needs_need_to_know() -> None:
    error = only_error(with_rule("name: b", "kinds: [government]", "max_tlp: AMBER", "max_tier: public"))
    assert error.startswith(
        "policy.yaml:12:14: rules[1].max_tlp: AMBER needs need-to-know: name partners or groups"
    )
    for selector in ("partners: [cert-fr]", "groups: [eu-certs]"):
        policy = parse_policy(with_rule("name: b", selector, "max_tlp: AMBER", "max_tier: public"))
        assert policy.rules[1].max_tlp == Tlp.AMBER and policy.rules[1].need_to_know


def test_unknown_groups_and_profiles_are_refused() -> None:
    error = only_error(with_rule("name: b", "groups: [eu-cert]", "max_tlp: GREEN", "max_tier: public"))
    assert error.startswith(
        "policy.yaml:11:14: rules[1].groups[0]: unknown group 'eu-cert'; did you mean 'eu-certs'?"
    )
    error = only_error(with_rule("name: b", "max_tlp: GREEN", "max_tier: public", "profile: strict"))
    assert error.startswith("policy.yaml:13:14: rules[1].profile: unknown profile 'strict'")
    error = only_error("version: 1\ndefaults:\n  profile: standard\n")
    assert (
        error
        == "policy.yaml:3:12: defaults.profile: unknown profile 'standard': none is declared under profiles"
    )


def test_profiles_and_groups_may_be_declared_after_their_use() -> None:
    text = "version: 1\nrules:\n  - {name: a, groups: [g], max_tlp: AMBER, max_tier: public, profile: p}\n"
    policy = parse_policy(text + "groups:\n  g: [cert-x]\nprofiles:\n  p: {}\n")
    assert policy.rules[0].groups == frozenset({"g"}) and policy.rules[0].profile == "p"


@pytest.mark.parametrize("tier", ["5", "0", "-1", "01", "restricted"])
def test_unknown_trust_tiers_are_refused(tier: str) -> None:
    error = only_error(
        with_rule("name: b", f"trust_tiers: [1, {tier}]", "max_tlp: GREEN", "max_tier: public")
    )
    assert error.startswith("policy.yaml:11:22: rules[1].trust_tiers[1]: ")
    assert "is not a trust tier" in error


@pytest.mark.parametrize(
    ("line", "column", "word"),
    [
        ("kinds: [government, military]", 25, "stakeholder kind"),
        ("countries: [UK]", 17, "did you mean GB?"),
        ("sectors: [Energy]", 15, "sector"),
        ("partners: [a]", 16, "partner name"),
        ("partners: ['bad name']", 16, "partner name"),
    ],
)
def test_selector_values_are_checked(line: str, column: int, word: str) -> None:
    error = only_error(with_rule("name: b", line, "max_tlp: GREEN", "max_tier: public"))
    assert error.startswith(f"policy.yaml:11:{column}: ") and word in error


def test_rule_names_are_unique_and_well_formed() -> None:
    error = only_error(with_rule("name: vetted", "max_tlp: GREEN", "max_tier: public"))
    assert error.startswith(
        "policy.yaml:10:11: rules[1].name: duplicate name 'vetted': already used on line 7"
    )
    error = only_error(with_rule("name: -b", "max_tlp: GREEN", "max_tier: public"))
    assert error.startswith("policy.yaml:10:11: rules[1].name: '-b' is not a valid name")


def test_rule_line_is_the_line_of_its_list_item() -> None:
    policy = parse_policy(BASE + "\n  # comment\n  - {name: flow, max_tlp: CLEAR, max_tier: public}\n")
    assert [r.line for r in policy.rules] == [7, 12]


# -- agreements ------------------------------------------------------------------------------------------


def agreement(*lines: str) -> str:
    return BASE + "agreements:\n  - " + "\n    ".join(lines) + "\n"  # the agreement starts on line 11


def test_date_only_expires_means_midnight_utc() -> None:
    policy = parse_policy(
        agreement(
            "name: a", "partners: [cert-de]", "max_tlp: GREEN", "max_tier: public", "expires: 2028-02-29"
        )
    )
    assert policy.agreements[0].expires_at == to_micros("2028-02-29T00:00:00Z")
    assert policy.agreements[0].line == 11
    policy = parse_policy(
        agreement(
            "name: a",
            "partners: [x1]",
            "max_tlp: AMBER",
            "max_tier: public",
            "expires: 2027-06-30T12:30:00.5Z",
        )
    )
    assert policy.agreements[0].expires_at == to_micros("2027-06-30T12:30:00.500Z")


def test_an_agreement_without_expiry_never_expires() -> None:
    policy = parse_policy(agreement("name: a", "partners: [cert-de]", "max_tlp: GREEN", "max_tier: public"))
    assert policy.agreements[0].expires_at is None


@pytest.mark.parametrize(
    "value",
    [
        "2027-02-30",
        "2027-06-30T00:00:00+02:00",
        "'2027-06-30 00:00:00'",
        "2027-06-30t00:00:00z",
        "tomorrow",
        "2027-6-30",
    ],
)
def test_bad_expires_is_refused(value: str) -> None:
    error = only_error(
        agreement("name: a", "partners: [cert-de]", "max_tlp: GREEN", "max_tier: public", f"expires: {value}")
    )
    assert (
        error.startswith("policy.yaml:15:14: agreements[0].expires: ") and "is not a UTC timestamp" in error
    )


def test_agreements_need_partners_and_grant_at_most_amber() -> None:
    error = only_error(agreement("name: a", "partners: []", "max_tlp: GREEN", "max_tier: public"))
    assert error.startswith("policy.yaml:12:15: agreements[0].partners: is an empty list")
    error = only_error(agreement("name: a", "max_tlp: GREEN", "max_tier: public"))
    assert error.startswith("policy.yaml:11:5: agreements[0]: missing required key 'partners'")
    error = only_error(agreement("name: a", "partners: [cert-de]", "max_tlp: RED", "max_tier: public"))
    assert "RED can never be granted by an agreement" in error


def test_rule_and_agreement_names_share_one_namespace() -> None:
    error = only_error(agreement("name: vetted", "partners: [cert-de]", "max_tlp: GREEN", "max_tier: public"))
    assert error.startswith("policy.yaml:11:11: agreements[0].name: duplicate name 'vetted'")


# -- profiles --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "word"),
    [
        ("protected_originators", "[indicator--f431f809-377b-45e0-aa1c-6a4751cae5ff]", "STIX identity id"),
        ("protected_originators", "[identity--F431F809-377B-45E0-AA1C-6A4751CAE5FF]", "STIX identity id"),
        ("internal_domains", "[Corp.Example.IL]", "DNS name"),
        ("internal_domains", "[corp..il]", "DNS name"),
        ("drop_properties", "[object_marking_refs]", "cannot be dropped"),
        ("drop_properties", "[x-victim]", "STIX property name"),
        ("drop_internal_addresses", "maybe", "true or false"),
    ],
)
def test_profile_fields_are_checked(field: str, value: str, word: str) -> None:
    error = only_error(f"version: 1\nprofiles:\n  p:\n    {field}: {value}\n")
    assert error.startswith("policy.yaml:4:") and f"profiles.p.{field}" in error and word in error


# -- files -----------------------------------------------------------------------------------------------


def test_load_policy_reads_a_file_and_names_it_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "sharing.yaml"
    path.write_text(dump_example(), encoding="utf-8")
    assert load_policy(path) == parse_policy(dump_example())
    path.write_text("version: zero\n", encoding="utf-8")
    with pytest.raises(PolicyFileError, match=r"^sharing\.yaml:1:10: version: "):
        load_policy(path)


def test_load_policy_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match=r"^absent\.yaml: cannot read .*absent\.yaml"):
        load_policy(tmp_path / "absent.yaml")


def test_load_policy_refuses_a_file_over_one_mib(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"version: 1\n" + b"#" * MAX_POLICY_BYTES)
    with pytest.raises(PolicyFileError, match="larger than 1 MiB"):
        load_policy(path)
    with pytest.raises(PolicyFileError, match="larger than 1 MiB"):
        parse_policy("version: 1\n#" + "\u05d0" * MAX_POLICY_BYTES)


def test_load_policy_refuses_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("version: 1\ngroups:\n  café: [x1]\n".encode("latin-1"))
    with pytest.raises(PolicyFileError, match=r"^latin1\.yaml:3:6: not UTF-8 \(byte 0xe9\)"):
        load_policy(path)


# -- nothing but PolicyFileError escapes -------------------------------------------------------------------

EXAMPLE_LINES = dump_example().splitlines()
YAMLISH = st.text(
    alphabet=st.sampled_from(list("aZ09 :-,[]{}&*!|>'\"#%@`?<=.~\t\\\n\x00\x85\u2028é")), max_size=12
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(min_value=0, max_value=len(EXAMPLE_LINES) - 1),
    junk=st.one_of(YAMLISH, st.text(max_size=12)),
    whole_line=st.booleans(),
)
def test_random_mutations_raise_only_policy_file_errors(index: int, junk: str, whole_line: bool) -> None:
    lines = list(EXAMPLE_LINES)
    key, colon, _ = lines[index].partition(":")
    lines[index] = junk if whole_line or not colon else f"{key}: {junk}"
    try:
        parse_policy("\n".join(lines) + "\n")
    except PolicyFileError as exc:
        assert exc.errors and all(e.startswith("policy.yaml") for e in exc.errors)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_splices_raise_only_policy_file_errors(data: st.DataObject) -> None:
    text = dump_example()
    position = data.draw(st.integers(min_value=0, max_value=len(text)))
    cut = data.draw(st.integers(min_value=0, max_value=8))
    junk = data.draw(
        st.one_of(YAMLISH, st.sampled_from(["<<: {}", "&a x", "*a", "!!str ", "---\n", "\n  - "]))
    )
    try:
        parse_policy(text[:position] + junk + text[position + cut :])
    except PolicyFileError as exc:
        assert exc.errors
