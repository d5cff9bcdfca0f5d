"""The read routes under hostile input, on SQLite and PostgreSQL: no query or path value gives a
500 (a bad one is a 422 in the error shape), viewers read no handle in any URL, month and week
labels keep four-digit years, and pipeline health counts this environment's dead letters only,
per stage."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_api
from api.readmodel.projector import apply_batch
from api.security import Role, create_key
from contracts.events import Verdict, event_json
from contracts.settings import Settings
from tests.conftest import DATABASES, migrated_database
from tests.readmodel_support import WordHashEmbedder, classified, closure, member, sample_records, theme

EARLIEST = "0001-01-01T00:00:00+14:00"  # before 0001-01-01 in UTC
LATEST = "9999-12-31T23:59:59-14:00"  # after 9999-12-31 in UTC
# Raw, percent-encoded query values: NUL, a lone surrogate and bytes that are not UTF-8 among them.
HOSTILE_TEXT = [
    "%00",
    "a%00b",
    "%ED%A0%80",
    "%FF",
    "%27%3B+drop+table+themes%3B+--",
    "%24.x",
    "%22",
    "%5C",
    "%C3%A9" * 30,
    "%25",
]
HOSTILE_INSTANTS = [
    EARLIEST,
    LATEST,
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "2026-02-30T00:00:00Z",
    "2026-03-01T00:00:00+24:00",
    "2026-03-01T00:00:00%00Z",
]
HOSTILE_INSTANTS = [value.replace("+", "%2B") for value in HOSTILE_INSTANTS]
HOSTILE_NUMBERS = ["-1", "9" * 40, "1e309", "NaN", "%00", "0x10"]
READ_ROUTES = [
    "/themes",
    "/themes/search",
    "/themes/alone",
    "/themes/t-maps",
    "/review-queue",
    "/closures",
    "/metrics/monthly",
    "/metrics/dialogue",
    "/metrics/shipped",
    "/monthly-updates",
    "/matrix",
    "/me",
    "/pipeline",
    "/public/themes",
    "/public/monthly-update",
]
NEEDS_PRODUCT = {"/themes/alone"}
PARAMETERS = {
    "product": HOSTILE_TEXT,
    "platform": [*HOSTILE_TEXT, "X", "mastodon"],
    "status": HOSTILE_TEXT,
    "quadrant": HOSTILE_TEXT,
    "q": HOSTILE_TEXT,
    "reason": HOSTILE_TEXT,
    "sort": HOSTILE_TEXT,
    "since": HOSTILE_INSTANTS,
    "until": HOSTILE_INSTANTS,
    "include_merged": HOSTILE_TEXT,
    "min_authors": HOSTILE_NUMBERS,
    "limit": HOSTILE_NUMBERS,
    "offset": HOSTILE_NUMBERS,
    "suggestions_limit": HOSTILE_NUMBERS,
}
PEOPLE_IN_URLS = re.compile(r"https?://\S*person\d+")


def year_one_records() -> list[tuple[str, bytes | None]]:
    """The sample, plus a theme and a comment from year 1 (schema-valid, if unlikely)."""
    records: list[tuple[str, bytes | None]] = list(sample_records())
    ancient = theme("t-ancient", product="museum", label="scrolls / ink").model_copy(
        update={"weekly_counts": {"0001-W01": 2}, "first_seen": datetime(1, 1, 1, tzinfo=UTC)}
    )
    records.append(("themes", event_json(ancient)))
    old = classified(40, Verdict.SUGGESTION)
    comment = old.comment.model_copy(update={"created_at": datetime(1, 1, 1, 12, tzinfo=UTC)})
    records.append(("comments.classified", event_json(old.model_copy(update={"comment": comment}))))
    return records


@pytest.fixture(scope="module", params=DATABASES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("hostile")
    engine = migrated_database(request, tmp / "rm.db")
    apply_batch(engine, year_one_records())
    keys = {role.name: create_key(engine, name=f"{role.name}-key", role=role) for role in Role}
    settings = Settings(kafka_bootstrap="127.0.0.1:1", state_dir=tmp)
    app = create_api(settings, engine=engine, project=False, commands=False, embedder=WordHashEmbedder)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, keys


def ask(world: tuple[TestClient, dict[str, str]], path: str, role: str = "viewer", **params: Any) -> Any:
    client, keys = world
    return client.get(path, params=params, headers={"X-API-Key": keys[role]})


def ok(world: tuple[TestClient, dict[str, str]], path: str, role: str = "viewer", **params: Any) -> Any:
    answer = ask(world, path, role, **params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def refused(answer: Any) -> None:
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_request"


# ---------------------------------------------------------------- defect 8: no 500 from a query value


@pytest.mark.parametrize("path", ["/themes", "/matrix", "/metrics/monthly"])
def test_an_unknown_platform_is_refused_in_the_error_shape(
    world: tuple[TestClient, dict[str, str]], path: str
) -> None:
    client, keys = world
    for value in ("%00", "mastodon", "%24.x", "X"):
        refused(client.get(f"{path}?platform={value}", headers={"X-API-Key": keys["viewer"]}))
    assert ok(world, path, platform="forum")


@pytest.mark.parametrize("value", [EARLIEST, LATEST])
def test_instants_beyond_the_calendar_in_utc_are_refused(
    world: tuple[TestClient, dict[str, str]], value: str
) -> None:
    for name in ("since", "until"):
        refused(ask(world, "/themes", **{name: value}))
    assert "outside the years 1 to 9999" in ask(world, "/themes", since=value).json()["error"]["message"]


def test_instants_at_the_ends_of_the_calendar_filter(world: tuple[TestClient, dict[str, str]]) -> None:
    every = {item["theme_id"] for item in ok(world, "/themes")["items"]}
    assert "t-ancient" in every
    since = {item["theme_id"] for item in ok(world, "/themes", since="0001-01-01T00:00:00Z")["items"]}
    until = {item["theme_id"] for item in ok(world, "/themes", until="9999-12-31T23:59:59.999999Z")["items"]}
    assert since == until == every
    assert ok(world, "/themes", since="9999-12-31T23:59:59.999999Z")["items"] == []
    early = ok(world, "/themes", until="0001-01-01T10:00:00+10:00")["items"]  # 0001-01-01T00:00Z
    assert [item["theme_id"] for item in early] == ["t-ancient"]


@pytest.mark.parametrize("path", READ_ROUTES)
def test_no_query_value_of_a_read_route_gives_a_500(
    world: tuple[TestClient, dict[str, str]], path: str
) -> None:
    client, keys = world
    for name, values in PARAMETERS.items():
        for value in values:
            # a route that needs a product gets a real one beside the hostile value
            extra = "&product=trailmate" if path in NEEDS_PRODUCT and name != "product" else ""
            answer = client.get(f"{path}?{name}={value}{extra}", headers={"X-API-Key": keys["admin"]})
            assert answer.status_code in (200, 422), (name, value, answer.status_code, answer.text)
            if answer.status_code == 422:
                assert answer.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("value", ["%00", "a%00b", "%ED%A0%80", "%FF", "%C3%A9" * 200, "t-maps%00"])
def test_no_path_value_of_a_read_route_gives_a_500(
    world: tuple[TestClient, dict[str, str]], value: str
) -> None:
    client, keys = world
    answer = client.get(f"/themes/{value}", headers={"X-API-Key": keys["viewer"]})
    assert answer.status_code in (404, 422), (value, answer.status_code, answer.text)
    assert answer.json()["error"]["code"] in ("not_found", "invalid_request")


# ---------------------------------------------------------------- defect 12: four-digit years


def test_monthly_metrics_label_year_one_yyyy_mm(world: tuple[TestClient, dict[str, str]]) -> None:
    months = [m["month"] for m in ok(world, "/metrics/monthly")["months"]]
    assert months[0] == "0001-01"
    assert all(re.fullmatch(r"\d{4}-\d{2}", month) for month in months), months


def test_matrix_weeks_of_year_one_are_yyyy_www(world: tuple[TestClient, dict[str, str]]) -> None:
    weeks = ok(world, "/matrix", product="museum")["trend_weeks"]
    assert weeks and weeks[-1] == "0001-W01"
    assert all(re.fullmatch(r"\d{4}-W\d{2}", week) for week in weeks), weeks


def test_week_and_month_labels_keep_four_digit_years() -> None:
    from api.dashboard import trend_weeks
    from api.reports import month_label

    assert month_label(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01"
    assert month_label(datetime(999, 12, 31, 23, tzinfo=UTC)) == "0999-12"
    assert trend_weeks("0001-W03", count=5) == ["0001-W01", "0001-W02", "0001-W03"]
    assert trend_weeks("0099-W52", count=2) == ["0099-W51", "0099-W52"]
    assert trend_weeks("9999-W52", count=1) == ["9999-W52"]
    assert trend_weeks("nonsense") == trend_weeks("2026-W99") == []


# ---------------------------------------------------------------- defect 4: no handle in a URL for viewers


def viewer_answers(world: tuple[TestClient, dict[str, str]], role: str) -> dict[str, Any]:
    return {
        path: ok(world, path, role=role, **params)
        for path, params in [
            ("/themes/t-maps", {}),
            ("/themes/t-dark", {}),
            ("/review-queue", {}),
            ("/themes", {}),
            ("/themes/search", {"q": "offline maps"}),
            ("/closures", {}),
            ("/monthly-updates", {}),
            ("/matrix", {}),
            ("/public/themes", {}),
        ]
    }


def test_viewers_read_no_handle_in_a_url(world: tuple[TestClient, dict[str, str]]) -> None:
    answers = viewer_answers(world, "viewer")
    for path, answer in answers.items():
        assert not PEOPLE_IN_URLS.search(str(answer)), path
        assert "person" not in str(answer), path
    suggestions = answers["/themes/t-maps"]["suggestions"]
    queue = answers["/review-queue"]
    assert suggestions and all(s["url"] is None for s in suggestions)
    assert queue and all(item["suggestion"]["url"] is None for item in queue)
    assert all(item["original"]["url"] is None for item in queue if item["original"])


def test_pm_still_reads_the_urls(world: tuple[TestClient, dict[str, str]]) -> None:
    suggestions = ok(world, "/themes/t-maps", role="pm")["suggestions"]
    assert {s["url"] for s in suggestions} == {f"https://x.com/person{i}/status/{i}" for i in (1, 2, 3)}
    queue = ok(world, "/review-queue", role="pm")
    assert all(item["suggestion"]["url"].startswith("https://x.com/person") for item in queue)


def test_urls_in_peoples_words_are_cut_for_viewers() -> None:
    from api.reads import mask_handles

    text = "see https://x.com/person7/status/1 and http://forum.example/u/person8, thanks @person9"
    masked = mask_handles(text)
    assert masked is not None and "person" not in masked
    assert "https://x.com/…" in masked and "http://forum.example/…" in masked and "@…" in masked
    assert mask_handles("no links here, a.b/c stays") == "no links here, a.b/c stays"


def test_closures_show_viewers_no_comment_urls(world: tuple[TestClient, dict[str, str]]) -> None:
    (as_viewer,) = ok(world, "/closures", product="trailmate")
    assert "comment_url" not in str(as_viewer) and "http" not in str(as_viewer)
    assert closure("t-maps").people and member(1, "t-maps").url  # the sample has both to hide


@pytest.mark.parametrize("decision", ["confirm", "reject"])
def test_a_review_decision_on_an_id_with_nul_is_refused(
    world: tuple[TestClient, dict[str, str]], decision: str
) -> None:
    client, keys = world
    refused(client.post(f"/review-queue/a%00b/{decision}", json={}, headers={"X-API-Key": keys["pm"]}))
