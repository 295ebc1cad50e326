"""Watchlist files: the three formats, the shipped copy, and errors that name the file, the record or
line and the field, with nothing returned."""

from __future__ import annotations

import json
from datetime import date

import pytest

from gesher.screening import (
    ListAction,
    WatchlistEntry,
    WatchlistFileError,
    load_watchlists,
    parse_csv,
    parse_ftm,
    parse_json,
    shipped_watchlist,
    shipped_watchlists,
)
from tests.conftest import SHARED_DATA
from tests.screening.conftest import shipped_text

PUBLISHED = date(2026, 1, 1)
CSV_HEADER = "id,schema,name,aliases,weak_aliases,country,listed_since,removed_on,authority,citation\n"


def _entity(**fields: object) -> dict[str, object]:
    entity: dict[str, object] = {"id": "acme", "schema": "Company", "name": "Acme Spyware Ltd"}
    entity.update(fields)
    return entity


def _json(*entities: dict[str, object], **top: object) -> str:
    return json.dumps({"entities": list(entities), **top})


def _error(call: object, *args: object, **kwargs: object) -> WatchlistFileError:
    with pytest.raises(WatchlistFileError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    assert caught.value.status == 422
    return caught.value


# --- the shipped list ------------------------------------------------------------------------------


def test_the_shipped_watchlist() -> None:
    public, confidential = shipped_watchlists()
    assert (public.name, public.version, public.published) == (
        "spyware-fixture",
        "2025-12-30+gesher.1",
        date(2025, 12, 30),
    )
    assert len(public.entries) == 17
    assert sum(e.is_person for e in public.entries) == 7
    assert (confidential.name, confidential.confidential, confidential.entries) == (
        "us-dos-spyware-visa-212a3c",
        True,
        (),
    )
    assert confidential.published == date(2024, 4, 22)
    assert shipped_watchlist() is public
    nso = next(e for e in public.entries if e.id == "us-el-nso-group")
    assert nso.weak_aliases == ("NSO", "אן.אס.או")
    assert nso.related_not_listed == ("NSO Group Technologies Ltd", "Q Cyber Technologies Ltd")
    assert nso.actions[0].citation == "86 FR 60759, FR doc 2021-24123 (RIN 0694-AI64)"
    positive = next(e for e in public.entries if e.id == "us-positive-technologies")
    assert positive.identifiers == {"ru_inn": "7718668887"}


@pytest.mark.skipif(not (SHARED_DATA / "vetting").exists(), reason="../shared/data is absent")
def test_the_shipped_copy_is_the_shared_fixture_plus_the_curated_additions() -> None:
    shared = json.loads((SHARED_DATA / "vetting" / "spyware_watchlist_fixture.json").read_text())
    shipped = json.loads(shipped_text())
    for entity in shipped["entities"]:
        entity.pop("curated_aliases", None)
        entity.pop("curated_weak_aliases", None)
    for item in shipped["confidential_lists"]:
        item.pop("published")
        item.pop("covers")
    for key in ("name", "version", "published", "_curated"):
        shipped.pop(key)
    assert shipped == shared


@pytest.mark.skipif(not (SHARED_DATA / "vetting").exists(), reason="../shared/data is absent")
def test_the_shared_fixture_loads_with_caller_metadata() -> None:
    data = (SHARED_DATA / "vetting" / "spyware_watchlist_fixture.json").read_bytes()
    error = _error(load_watchlists, data, "spyware_watchlist_fixture.json")
    assert "published" in str(error)
    public, confidential = load_watchlists(data, "spyware_watchlist_fixture.json", published=PUBLISHED)
    assert public.name == "spyware_watchlist_fixture"
    assert public.version.startswith("sha256:")
    assert len(public.entries) == 17
    assert confidential.confidential


# --- list status from dated actions ----------------------------------------------------------------


def test_listed_on_reads_the_latest_action_of_each_list() -> None:
    designated = ListAction("US OFAC", "SDN", "designated", date(2024, 3, 5))
    removed = ListAction("US OFAC", "SDN", "removed", date(2025, 12, 30))
    again = ListAction("US OFAC", "SDN", "designated", date(2026, 6, 1))
    other = ListAction("US BIS", "Entity List", "added", date(2025, 1, 1))
    entry = WatchlistEntry(id="x", schema="Person", name="X Y", actions=(again, removed, designated))
    assert [entry.listed_on(date(y, m, d)) for y, m, d in ((2024, 1, 1), (2024, 3, 5), (2026, 1, 1))] == [
        False,
        True,
        False,
    ]
    assert entry.listed_on(date(2026, 6, 1))
    both = WatchlistEntry(id="x", schema="Person", name="X Y", actions=(designated, removed, other))
    assert both.listed_on(date(2026, 1, 1))  # still on the Entity List


# --- gesher JSON -----------------------------------------------------------------------------------


def test_json_with_metadata_and_all_fields() -> None:
    action = {"authority": "MoD", "list": "DECA", "action": "added", "date": "2025-02-01", "citation": "c-1"}
    entity = _entity(aliases=["Acme"], weak_aliases="ACM", country=["il", "CY"], actions=[action])
    [watchlist] = parse_json(_json(entity, name="national", version="7", published="2025-03-01"), "n.json")
    assert (watchlist.name, watchlist.version, watchlist.published) == ("national", "7", date(2025, 3, 1))
    [entry] = watchlist.entries
    assert entry.aliases == ("Acme",)
    assert entry.weak_aliases == ("ACM",)
    assert entry.countries == ("IL", "CY")
    assert entry.actions == (ListAction("MoD", "DECA", "added", date(2025, 2, 1), "c-1"),)


def test_json_metadata_from_the_caller() -> None:
    [watchlist] = parse_json(_json(_entity()), "lists/national.json", published=PUBLISHED, version="v2")
    assert (watchlist.name, watchlist.version, watchlist.published) == ("national", "v2", PUBLISHED)


@pytest.mark.parametrize(
    ("text", "position", "field", "problem"),
    [
        ('{"entities": [\n{"id": "a",}]}', "line 2, column 12", None, "invalid JSON"),
        ("[]", "", None, "expected an object with 'entities'"),
        (_json(_entity(), _entity(id="b", name=None)), "record 2 of 'entities'", "name", "missing"),
        (_json(_entity(name="   ")), "record 1 of 'entities'", "name", "is empty"),
        (_json(_entity(name="...")), "record 1 of 'entities'", "name", "nothing comparable"),
        (_json(_entity(name="x" * 301)), "record 1 of 'entities'", "name", "longer than 300"),
        (_json(_entity(aliases=["ok", 3])), "record 1 of 'entities'", "aliases", "list of strings"),
        (_json(_entity(schema="Vessel")), "record 1 of 'entities'", "schema", "unknown schema 'Vessel'"),
        (_json(_entity(id="")), "record 1 of 'entities'", "id", "missing"),
        (_json(_entity(country="Israel")), "record 1 of 'entities'", "country", "'Israel' is not an ISO"),
        (
            _json(
                _entity(actions=[{"authority": "a", "list": "l", "action": "added", "date": "2025-13-01"}])
            ),
            "record 1 of 'entities'",
            "actions[0].date",
            "not a valid date",
        ),
        (
            _json(
                _entity(actions=[{"authority": "a", "list": "l", "action": "added", "date": "5 March 2024"}])
            ),
            "record 1 of 'entities'",
            "actions[0].date",
            "is not a date (YYYY-MM-DD)",
        ),
        (
            _json(
                _entity(actions=[{"authority": "a", "list": "l", "action": "listed", "date": "2024-03-05"}])
            ),
            "record 1 of 'entities'",
            "actions[0].action",
            "unknown action 'listed'",
        ),
        (
            _json(_entity(actions=[{"list": "l", "action": "added", "date": "2024-03-05"}])),
            "record 1 of 'entities'",
            "actions[0].authority",
            "missing",
        ),
        (
            _json(_entity(identifiers={"inn": 7})),
            "record 1 of 'entities'",
            "identifiers",
            "object of strings",
        ),
        (
            _json(_entity(), _entity(id="b"), _entity()),
            "record 3 of 'entities'",
            "id",
            "duplicate id 'acme' (first at record 1 of 'entities')",
        ),
        (_json(_entity(), published="March 2025"), "top level", "published", "not a date"),
        (
            json.dumps({"confidential_lists": [{"authority": "x"}]}),
            "record 1 of 'confidential_lists'",
            "id",
            "missing",
        ),
    ],
)
def test_json_errors_name_the_position_and_field(
    text: str, position: str, field: str | None, problem: str
) -> None:
    error = _error(parse_json, text, "bad.json", published=PUBLISHED)
    assert error.details == {"file": "bad.json", "position": position, "field": field}
    assert str(error).startswith(f"bad.json: {position}" if position else "bad.json")
    assert problem in str(error)


def test_json_without_a_published_date_is_an_error() -> None:
    error = _error(parse_json, _json(_entity()), "n.json")
    assert (
        str(error)
        == "n.json: top level: field 'published': unknown: the file has no published date, so pass one"
    )


def test_a_file_that_is_not_utf8_is_an_error() -> None:
    error = _error(load_watchlists, b'{"entities": ["\xff"]}', "n.json", published=PUBLISHED)
    assert "byte 15" in str(error)


# --- FollowTheMoney lines --------------------------------------------------------------------------


def _ftm(entity_id: str, schema: str = "Company", **properties: list[str]) -> str:
    return json.dumps({"id": entity_id, "schema": schema, "properties": properties})


def test_ftm_lines() -> None:
    lines = [
        _ftm("c1", name=["Acme Spyware Ltd", "Acme Ltd"], alias=["ACS"], weakAlias=["AC"], country=["il"]),
        "",
        _ftm("p1", "Person", name=["Jane Roe"], nationality=["gb"], passportNumber=["123"]),
    ]
    watchlist = parse_ftm("\n".join(lines), "custom.jsonl", published=PUBLISHED)
    company, person = watchlist.entries
    assert (company.name, company.aliases, company.weak_aliases) == (
        "Acme Spyware Ltd",
        ("Acme Ltd", "ACS"),
        ("AC",),
    )
    assert company.countries == ("IL",)
    assert company.actions == ()
    assert company.listed_on(date(1990, 1, 1))  # FtM carries no dates: listed without one
    assert (person.schema, person.countries, person.identifiers) == (
        "Person",
        ("GB",),
        {"passportNumber": "123"},
    )
    assert (
        load_watchlists("\n".join(lines), "custom.ftm.json", published=PUBLISHED)[0].entries
        == watchlist.entries
    )


@pytest.mark.parametrize(
    ("lines", "position", "field", "problem"),
    [
        ([_ftm("a", name=["A Ltd"]), '{"id": "b",'], "line 2, column 12", None, "invalid JSON"),
        ([_ftm("a", name=["A Ltd"]), "[1]"], "line 2", None, "must be a JSON object"),
        ([_ftm("a")], "line 1", "properties.name", "missing"),
        ([json.dumps({"id": "a", "schema": "Company"})], "line 1", "properties", "missing"),
        ([_ftm("a", "Vessel", name=["Ever Given"])], "line 1", "schema", "unknown schema"),
        ([_ftm("a", name=["A Ltd"]), "", _ftm("a", name=["B Ltd"])], "line 3", "id", "duplicate id 'a'"),
        ([_ftm("a", name=["A Ltd"], country=["Israel"])], "line 1", "properties.country", "not an ISO"),
        ([_ftm("a", name=["A Ltd"], alias=["..."])], "line 1", "properties.alias", "nothing comparable"),
    ],
)
def test_ftm_errors_name_the_line_and_field(
    lines: list[str], position: str, field: str | None, problem: str
) -> None:
    error = _error(parse_ftm, "\n".join(lines), "custom.jsonl", published=PUBLISHED)
    assert error.details == {"file": "custom.jsonl", "position": position, "field": field}
    assert problem in str(error)


# --- CSV -------------------------------------------------------------------------------------------


def test_csv() -> None:
    text = CSV_HEADER + (
        "c1,Company,Acme Spyware Ltd,Acme;ACS Ltd,AC,il;cy,2024-03-05,,MoD,DECA 1\n"
        'p1,Person,"Roe, Jane",,,,2024-03-05,2025-12-30,,\n'
    )
    watchlist = parse_csv(text.encode(), "national.csv", published=PUBLISHED)
    company, person = watchlist.entries
    assert watchlist.name == "national"
    assert (company.aliases, company.weak_aliases, company.countries) == (
        ("Acme", "ACS Ltd"),
        ("AC",),
        ("IL", "CY"),
    )
    assert company.actions == (ListAction("MoD", "national", "added", date(2024, 3, 5), "DECA 1"),)
    assert person.name == "Roe, Jane"
    assert person.listed_on(date(2025, 1, 1))
    assert not person.listed_on(date(2026, 1, 1))
    assert load_watchlists(text, "national.csv", published=PUBLISHED)[0].entries == watchlist.entries


def test_csv_needs_only_the_first_three_columns() -> None:
    watchlist = parse_csv("id,schema,name\nx,Person,Jane Roe\n", "n.csv", published=PUBLISHED)
    assert watchlist.entries[0].listed_on(PUBLISHED)


def test_a_byte_order_mark_is_not_part_of_the_header() -> None:
    for data in (
        "\ufeffid,schema,name\nx,Person,Jane Roe\n",
        "\ufeffid,schema,name\nx,Person,Jane Roe\n".encode(),
    ):
        assert parse_csv(data, "n.csv", published=PUBLISHED).entries[0].name == "Jane Roe"


@pytest.mark.parametrize(
    ("body", "position", "field", "problem"),
    [
        ("c1,Company,Acme,,,,,,,\nc2,Company\n", "line 3 (record 2)", None, "expected 10 fields"),
        ("c1,Company,Acme,,,,2024-03-05\n", "line 2 (record 1)", None, "expected 10 fields"),
        ("c1,Company,Acme,,,,,,,\nc2,Company,,,,,,,,\n", "line 3 (record 2)", "name", "missing"),
        ("c1,Vessel,Acme,,,,,,,\n", "line 2 (record 1)", "schema", "unknown schema"),
        ("c1,Company,Acme,,,,05/03/2024,,,\n", "line 2 (record 1)", "listed_since", "not a date"),
        ("c1,Company,Acme,,,,,2025-01-01,,\n", "line 2 (record 1)", "removed_on", "needs listed_since"),
        (
            "c1,Company,Acme,,,,2025-01-01,2024-01-01,,\n",
            "line 2 (record 1)",
            "removed_on",
            "before listed_since",
        ),
        ("c1,Company,Acme,,,il;xx,,,,\n", "line 2 (record 1)", "country", "'xx' is not an ISO"),
        (
            'c1,Company,"Acme\nSpyware",,,,,,,\nc1,Company,B,,,,,,,\n',
            "line 4 (record 2)",
            "id",
            "duplicate id",
        ),
        ('c1,Company,"Acme,,,,,,,\n', "line 2", None, "invalid CSV"),
    ],
)
def test_csv_errors_name_the_line_and_field(
    body: str, position: str, field: str | None, problem: str
) -> None:
    error = _error(parse_csv, CSV_HEADER + body, "n.csv", published=PUBLISHED)
    assert error.details == {"file": "n.csv", "position": position, "field": field}
    assert problem in str(error)


def test_csv_header_errors() -> None:
    error = _error(parse_csv, "id,schema,nom\nx,Person,Jane\n", "n.csv", published=PUBLISHED)
    assert "line 1 (header)" in str(error)
    assert "missing columns ['name'], unknown columns ['nom']" in str(error)


def test_an_unknown_format_is_an_error() -> None:
    error = _error(load_watchlists, "x", "list.xlsx", published=PUBLISHED)
    assert "unknown format" in str(error)
