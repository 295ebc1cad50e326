"""Which URLs a webhook may have (issue 7, "Alerts out"): https only (plain http to loopback for operators),
no credentials, no fragment, bounded length, and for partners no non-public address."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gesher.warning_service.webhook_urls import (
    MAX_LENGTH,
    InvalidWebhookUrl,
    check_public,
    check_url,
    is_loopback,
    is_public,
)

HOSTILE = [
    ("http://hooks.example.org/alerts", "https"),  # plain http off the host
    ("http://10.0.0.7/hook", "https"),
    ("http://169.254.169.254/latest/meta-data/", "https"),  # cloud metadata over http
    ("https://user:secret@hooks.example.org/", "user name or password"),
    ("https://hooks.example.org@evil.example/", "user name or password"),
    ("https://hooks.example.org/#frag", "fragment"),
    ("ftp://hooks.example.org/", "https"),
    ("file:///etc/passwd", "https"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "https"),
    ("javascript:alert(1)", "https"),
    ("//hooks.example.org/", "no scheme"),
    ("https:///nohost", "valid host"),
    ("https://exa mple.org/", "printable ASCII"),
    ("https://hooks.example.org/\r\nX-Injected: 1", "printable ASCII"),
    ("https://hooks.exämple.org/", "printable ASCII"),
    ("https://hooks.example.org\\@evil.example/", "backslash"),
    ("https://under_score.example.org/", "valid host"),
    ("https://999.1.1.1/", "valid host"),
    ("https://hooks.example.org:0/", "port 0"),
    ("https://hooks.example.org:99999/", "not a valid URL"),
    ("https://[::1/", "not a valid URL"),
    ("https://" + "a" * 64 + ".example.org/", "valid host"),
    ("https://hooks.example.org/" + "a" * MAX_LENGTH, "at most"),
]


@pytest.mark.parametrize(("url", "says"), HOSTILE)
def test_hostile_urls_are_refused_with_a_reason(url: str, says: str) -> None:
    with pytest.raises(InvalidWebhookUrl, match=None) as refused:
        check_url(url, allow_loopback_http=True)
    assert says in refused.value.description, refused.value.description
    assert refused.value.status == 400


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/hook", "http://127.9.9.9/", "http://[::1]:9000/h?x=1", "http://localhost/hook"],
)
def test_plain_http_to_loopback_is_for_operators_only(url: str) -> None:
    assert check_url(url, allow_loopback_http=True) == url
    with pytest.raises(InvalidWebhookUrl, match="for operators"):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.org/gesher/alerts?token=abc",
        "https://HOOKS.Example.ORG:8443/",
        "https://192.0.2.10/hook",
        "https://[2001:db8::1]/hook",
        "https://xn--bcher-kva.example/",
        "https://a.b/",
    ],
)
def test_ordinary_https_urls_are_accepted(url: str) -> None:
    assert check_url(url) == url


_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
_HOSTS = (
    st.lists(_LABEL, min_size=1, max_size=4).map(".".join).filter(lambda h: not h.split(".")[-1].isdigit())
)
_PATHS = st.from_regex(r"(/[A-Za-z0-9._~%!$&'()*+,;=:-]{0,20}){0,4}", fullmatch=True)


@given(host=_HOSTS, port=st.none() | st.integers(1, 65535), path=_PATHS)
def test_any_well_formed_https_url_is_accepted(host: str, port: int | None, path: str) -> None:
    url = f"https://{host}{f':{port}' if port else ''}{path}"
    assert check_url(url) == url


@given(url=st.text(max_size=200) | st.from_regex(r"(https?|ftp)://[ -~]{0,60}", fullmatch=True))
def test_anything_else_is_refused_cleanly(url: str) -> None:
    """Whatever the input, the answer is the URL (meeting every rule) or InvalidWebhookUrl, never a crash."""
    try:
        accepted = check_url(url, allow_loopback_http=True)
    except InvalidWebhookUrl:
        return
    parts = urlsplit(accepted)
    assert len(accepted) <= MAX_LENGTH and accepted.isascii() and accepted.isprintable()
    assert " " not in accepted and "#" not in accepted and "@" not in parts.netloc
    assert parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname or ""))


@given(address=st.ip_addresses())
def test_public_means_globally_routable(address: object) -> None:
    text = str(address)
    if is_public(text):
        check_public("hooks.example.org", [text])
    else:
        with pytest.raises(InvalidWebhookUrl, match="non-public"):
            check_public("hooks.example.org", [text])


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "::1", "fe80::1", "fc00::1",
     "::ffff:10.0.0.1", "0.0.0.0", "100.64.0.1", "224.0.0.1"],
)  # fmt: skip
def test_partners_may_not_point_the_exchange_at_its_own_network(address: str) -> None:
    assert not is_public(address)
    with pytest.raises(InvalidWebhookUrl, match="non-public"):
        check_public("hooks.example.org", ["93.184.215.14", address])  # one bad address is enough
    with pytest.raises(InvalidWebhookUrl, match="does not resolve"):
        check_public("hooks.example.org", [])
    check_public("hooks.example.org", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
