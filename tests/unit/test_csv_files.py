"""Labelled files and replays as spreadsheets write them: a byte-order mark, Windows bytes, other
delimiters, other column cases. Each is read whole, or refused with a reason, never half read."""

from __future__ import annotations

import codecs
import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.csv_files import TableError, file_encoding, read_table
from models.datasets import load_labelled_csv, pair_label, positive_matcher
from youasked.cli import app
from youasked.replay import read_records

ROWS = [
    ("please add a dark mode for night rides", "FEATURE"),
    ("the app logs me out every morning", "BUG"),
    ("café hours are wrong on the map", "OTHER"),
]


def write(path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def table_text(delimiter: str = ",", header: tuple[str, str] = ("text", "label")) -> str:
    lines = [delimiter.join(header)] + [f'"{text}"{delimiter}{label}' for text, label in ROWS]
    return "\r\n".join(lines) + "\r\n"


def test_a_byte_order_mark_does_not_hide_the_first_column(tmp_path: Path) -> None:
    path = write(tmp_path / "excel.csv", "\ufeff" + table_text())
    table = read_table(path, required=["text", "label"])
    assert [row["text"] for row in table.rows] == [text for text, _ in ROWS]
    data = load_labelled_csv(path, "text", "label", "FEATURE")
    assert len(data.texts) == 3
    assert data.labels == (1, 0, 0)


def test_utf16_with_its_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "unicode.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + table_text().encode("utf-16-le"))
    assert file_encoding(path) == ("utf-16", "strict")
    assert read_table(path, required=["text"]).rows[2]["text"] == ROWS[2][0]


def test_windows_bytes_in_a_utf8_file_keep_both(tmp_path: Path) -> None:
    utf8 = table_text().encode("utf-8")
    windows = '"naïve “smart quotes” ask – add sync",FEATURE\r\n'.encode("cp1252")
    path = tmp_path / "mixed.csv"
    path.write_bytes(utf8 + windows)
    assert file_encoding(path)[1] != "strict"
    texts = [row["text"] for row in read_table(path, required=["text"]).rows]
    assert texts[2] == "café hours are wrong on the map"  # the UTF-8 line as it was written
    assert texts[3] == "naïve “smart quotes” ask – add sync"  # the Windows line as it was meant


def test_a_whole_windows_file_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "old.csv", table_text(), encoding="cp1252")
    assert read_table(path, required=["text"]).rows[2]["text"] == "café hours are wrong on the map"


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters_are_found_from_the_header(tmp_path: Path, delimiter: str) -> None:
    path = write(tmp_path / "semi.csv", table_text(delimiter))
    table = read_table(path, required=["text", "label"])
    assert table.delimiter == delimiter
    assert [(row["text"], row["label"]) for row in table.rows] == ROWS


def test_a_column_is_found_whatever_its_case_and_spaces(tmp_path: Path) -> None:
    path = write(tmp_path / "cased.csv", table_text(header=(" Text ", "LABEL")))
    rows = read_table(path, required=["text", "label"]).rows
    assert rows[0]["text"] == ROWS[0][0]
    assert rows[0]["label"] == "FEATURE"


def test_a_missing_column_is_refused_with_the_header(tmp_path: Path) -> None:
    path = write(tmp_path / "other.csv", table_text(header=("body", "label")))
    with pytest.raises(TableError, match=r"no column 'text'.*'body', 'label'"):
        read_table(path, required=["text", "label"])


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="no header"):
        read_table(write(tmp_path / "empty.csv", ""), required=["text"])


def test_a_malformed_row_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "huge.csv", table_text() + '"' + "x" * 5_000 + '",BUG\r\n')
    limit = csv.field_size_limit(1_000)  # a field past the csv module's limit is an error it raises
    try:
        with pytest.raises(TableError, match=r"huge\.csv, the record after line 4"):
            read_table(path, required=["text"])
    finally:
        csv.field_size_limit(limit)


def test_short_rows_read_as_empty_cells(tmp_path: Path) -> None:
    path = write(tmp_path / "ragged.csv", "text,label,rating\nadd a widget please,FEATURE\n")
    row = read_table(path, required=["text", "label", "rating"]).rows[0]
    assert row["rating"] == ""


@pytest.mark.parametrize(
    ("positive", "cell", "expected"),
    [
        ("FEATURE", " feature ", True),
        ("FEATURE", "FEATURES", False),
        ("1", "1.0", True),
        ("1", "1", True),
        ("1", "0.0", False),
        (["FR", "feature request"], "Feature Request", True),
        ((), "anything", False),
    ],
)
def test_a_positive_label_is_read_as_people_write_it(
    positive: str | list[str], cell: str, expected: bool
) -> None:
    assert positive_matcher(positive)(cell) is expected


def test_ratings_are_read_when_the_file_has_them(tmp_path: Path) -> None:
    path = write(tmp_path / "rated.csv", "Text,Label,Rating\nadd a widget please,1,5\nit crashes,0,1\n")
    rated = load_labelled_csv(path, "text", "label", "1", rating_col="rating", rating_optional=True)
    assert rated.ratings == (5, 1)
    plain = write(tmp_path / "plain.csv", "text,label\nadd a widget please,1\n")
    unrated = load_labelled_csv(plain, "text", "label", "1", rating_col="rating", rating_optional=True)
    assert unrated.ratings == ()
    with pytest.raises(TableError, match="rating"):
        load_labelled_csv(plain, "text", "label", "1", rating_col="rating")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("1", 1), ("1.0", 1), ("True", 1), ("yes", 1), ("0", 0), ("0.0", 0), ("no", 0), ("", None), ("2", None),
     ("maybe", None), ("nan", None)],
)
def test_a_pair_label_is_a_yes_or_a_no(cell: str, expected: int | None) -> None:
    assert pair_label(cell) == expected


def test_a_replay_of_a_windows_file_sends_every_row(tmp_path: Path) -> None:
    path = write(
        tmp_path / "reviews.csv",
        "date,rating,title,content\n2024-03-01,4,Caf\xe9,please add a d\xe9cor filter\n",
        encoding="latin-1",
    )
    records = list(read_records(path))
    assert len(records) == 1
    assert "décor filter" in json.loads(records[0][1])["text"]


def test_the_eval_commands_name_a_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path / "pairs.csv", "first,second,label\na,b,1\n")
    result = CliRunner().invoke(app, ["eval", "duplicates", "--input", str(path)])
    assert result.exit_code == 2
    assert "no column 'text_a'" in " ".join(result.output.split())
    themes = write(tmp_path / "themes.csv", "\ufeffsentence,intent\nadd dark mode,dark\n")
    result = CliRunner().invoke(app, ["eval", "themes", "--input", str(themes)])
    assert result.exit_code == 2
    assert "no column 'text'" in " ".join(result.output.split())


def test_eval_suggestions_asks_which_labels_are_positive(tmp_path: Path) -> None:
    path = write(tmp_path / "named.csv", table_text())
    result = CliRunner().invoke(app, ["eval", "suggestions", "--input", str(path)])
    assert result.exit_code == 2
    assert "'BUG', 'FEATURE', 'OTHER'" in " ".join(result.output.split())
