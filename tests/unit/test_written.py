from collections import Counter
from pathlib import Path

import pytest

from models.written import (
    COLUMNS,
    KINDS,
    PLATFORMS,
    WRITTEN_CSV,
    WRITTEN_SOURCE,
    WrittenDataError,
    WrittenPost,
    format_spans,
    parse_marked,
    parse_spans,
    posts_from_source,
    read_written,
    to_csv,
    validate,
)


def post(**changes: object) -> WrittenPost:
    fields: dict[str, object] = {
        "id": "ws-0001",
        "platform": "x",
        "text": "@brand dark mode pls",
        "label": "ask",
        "kind": "ask",
        "asks": ((7, 20),),
        "product": "Brand",
    }
    fields.update(changes)
    return WrittenPost(**fields)  # type: ignore[arg-type]


def write(tmp_path: Path, posts: list[WrittenPost]) -> Path:
    path = tmp_path / "written.csv"
    path.write_text(to_csv(posts), encoding="utf-8")
    return path


def test_parse_marked_gives_the_spans_of_each_mark() -> None:
    text, spans = parse_marked("crashes on start. [[add csv export]] and [[dark mode]] pls")
    assert text == "crashes on start. add csv export and dark mode pls"
    assert [text[start:end] for start, end in spans] == ["add csv export", "dark mode"]


def test_parse_marked_rejects_an_unbalanced_mark() -> None:
    with pytest.raises(WrittenDataError, match="unbalanced"):
        parse_marked("[[dark mode pls")


def test_spans_round_trip() -> None:
    assert parse_spans("3-10;15-20") == ((3, 10), (15, 20))
    assert parse_spans("") == ()
    assert format_spans(parse_spans("3-10;15-20")) == "3-10;15-20"
    with pytest.raises(WrittenDataError):
        parse_spans("3:10")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"label": "not_ask", "kind": "praise"}, "does not match"),
        ({"asks": (), "label": "ask"}, "does not match"),
        ({"asks": ((7, 99),)}, "outside"),
        ({"asks": ((6, 20),)}, "space"),
        ({"asks": ((8, 20),)}, "cuts a word"),
        ({"asks": ((7, 19),)}, "cuts a word"),
        ({"asks": ((7, 11), (8, 20))}, "out of order"),
        ({"kind": "spam"}, "kind spam"),
        ({"kind": "ask", "label": "not_ask", "asks": ()}, "kind ask"),
        ({"platform": "myspace"}, "platform"),
        ({"kind": "rant"}, "kind"),
        ({"label": "maybe"}, "label"),
    ],
)
def test_validate_rejects_broken_rows(changes: dict[str, object], message: str) -> None:
    with pytest.raises(WrittenDataError, match=message):
        validate(post(**changes))


def test_a_bug_report_that_asks_is_an_ask() -> None:
    validate(post(kind="bug", text="crashes. add dark mode", asks=((9, 22),)))


def test_read_written_rejects_repeated_ids(tmp_path: Path) -> None:
    path = write(tmp_path, [post(), post()])
    with pytest.raises(WrittenDataError, match="repeated"):
        read_written(path)


def test_read_written_round_trips_line_breaks_and_commas(tmp_path: Path) -> None:
    text = 'line one, "quoted"\n@b dark mode pls'
    written = post(text=text, asks=((text.index("dark"), len(text)),))
    assert read_written(write(tmp_path, [written])) == (written,)


def test_read_written_fails_clearly_on_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="written training data"):
        read_written(tmp_path / "absent.csv")


def test_source_lines_become_numbered_posts_of_their_product() -> None:
    source = "# product: Acme\nx | ask | @acme [[dark mode pls]]\n\n# a note\nreddit | bug | crashes\\nagain"
    first, second = posts_from_source(source)
    assert (first.id, first.product, first.label) == ("ws-0001", "Acme", "ask")
    assert first.ask_texts == ("dark mode pls",)
    assert (second.id, second.text, second.label) == ("ws-0002", "crashes\nagain", "not_ask")
    assert second.asks == ()


def test_source_line_errors_name_the_line() -> None:
    with pytest.raises(WrittenDataError, match="source line 2"):
        posts_from_source("# product: Acme\nx | spam | [[add csv]]\n")


def test_the_committed_csv_is_built_from_the_committed_source() -> None:
    assert WRITTEN_CSV.read_text(encoding="utf-8") == to_csv(
        posts_from_source(WRITTEN_SOURCE.read_text(encoding="utf-8"))
    )


def test_the_committed_file_is_valid_and_balanced() -> None:
    posts = read_written()
    assert len(posts) >= 1200
    assert len({p.product for p in posts}) >= 40
    ask_share = sum(p.is_ask for p in posts) / len(posts)
    assert 0.30 <= ask_share <= 0.40
    platforms = Counter(p.platform for p in posts)
    assert set(platforms) == PLATFORMS
    assert min(platforms.values()) >= 0.04 * len(posts)
    kinds = Counter(p.kind for p in posts)
    assert set(kinds) == KINDS
    hard_kinds = {"bug", "support", "question", "praise"}
    hard_negatives = sum(1 for p in posts if not p.is_ask and p.kind in hard_kinds)
    assert hard_negatives >= 0.30 * len(posts)
    assert sum(1 for p in posts if p.is_ask and p.kind != "ask") >= 30  # bug reports, complaints that ask
    assert sum(1 for p in posts if len(p.asks) >= 2) >= 20
    assert len({p.text for p in posts}) == len(posts)


def test_the_committed_file_has_the_documented_columns() -> None:
    assert WRITTEN_CSV.read_text(encoding="utf-8").splitlines()[0] == ",".join(COLUMNS)
