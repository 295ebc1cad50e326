"""The one normal form of observed values (gesher.warning.values)."""

from __future__ import annotations

import pytest

from gesher.warning.values import ANY_IP, Normal, ValueType, normalise, type_name

SHA256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"


@pytest.mark.parametrize(
    ("raw", "declared", "expected"),
    [
        ("Evil.Example.", None, Normal(ValueType.DOMAIN, "evil.example")),
        ("  Evil.Example.  ", ValueType.DOMAIN, Normal(ValueType.DOMAIN, "evil.example")),
        ("\tWEATHER4FREE.COM", None, Normal(ValueType.DOMAIN, "weather4free.com")),
        ("198.51.100.7", None, Normal(ValueType.IPV4, "198.51.100.7")),
        ("198.51.100.7", ANY_IP, Normal(ValueType.IPV4, "198.51.100.7")),
        ("2001:DB8:0:0::1", None, Normal(ValueType.IPV6, "2001:db8::1")),
        ("2001:0db8::0001", ValueType.IPV6, Normal(ValueType.IPV6, "2001:db8::1")),
        ("::FFFF:198.51.100.7", ANY_IP, Normal(ValueType.IPV6, "::ffff:c633:6407")),
        (SHA256, None, Normal(ValueType.SHA256, SHA256.lower())),
        (SHA256, ValueType.SHA256, Normal(ValueType.SHA256, SHA256.lower())),
        ("D41D8CD98F00B204E9800998ECF8427E", None, Normal(ValueType.MD5, "d41d8cd98f00b204e9800998ecf8427e")),
        ("HTTP://Evil.Example/A?B=C", None, Normal(ValueType.URL, "HTTP://Evil.Example/A?B=C")),
        ("Alice@Evil.Example", None, Normal(ValueType.EMAIL, "alice@evil.example")),
        ("evil.example:443", None, Normal(ValueType.DOMAIN, "evil.example:443")),
        ("dead:beef:zz", None, Normal(ValueType.DOMAIN, "dead:beef:zz")),
        ("ÄBC.example", None, Normal(ValueType.DOMAIN, "Äbc.example")),  # ASCII letters only
    ],
)
def test_normal_forms(raw: str, declared: ValueType | str | None, expected: Normal) -> None:
    assert normalise(raw, declared) == expected


@pytest.mark.parametrize(
    ("raw", "declared", "reason"),
    [
        ("", None, "empty"),
        (" \t", ValueType.URL, "empty"),
        (".", None, "empty"),
        ("1.2.3.4.", ValueType.IPV4, "not an IPv4 address"),
        ("01.2.3.4", ValueType.IPV4, "not an IPv4 address"),
        ("1.2.3.4", ValueType.IPV6, "not an IPv6 address"),
        ("evil.example", ANY_IP, "not an IP address"),
        ("abc", ValueType.MD5, "not a md5 hash"),
        ("alice.example", ValueType.EMAIL, "no @"),
    ],
)
def test_values_not_of_their_declared_type_are_refused(
    raw: str, declared: ValueType | str | None, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        normalise(raw, declared)


def test_type_names_are_ascii_case_insensitive_with_misp_aliases() -> None:
    assert type_name(" Domain-Name ") is ValueType.DOMAIN
    assert type_name("SHA256") is ValueType.SHA256
    assert type_name("ip-dst") == ANY_IP
    assert type_name("İp") is None and type_name("nonsense") is None
