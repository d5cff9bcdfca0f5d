"""The demo stops what it started when it is killed, not only on Ctrl-C, and the commands and
addresses it prints can be copied whole."""

from __future__ import annotations

import io
import os
import signal

import pytest
from rich.console import Console

from youasked.demo.runner import (
    DemoSummary,
    ask_vector,
    print_api_access,
    print_pages,
    print_themes,
    themes_table,
    typical_first,
)
from youasked.interrupts import stopped_like_ctrl_c


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_kill_or_a_closed_terminal_stops_the_demo_as_ctrl_c_does(signum: int) -> None:
    before = signal.getsignal(signum)
    with pytest.raises(KeyboardInterrupt), stopped_like_ctrl_c():
        os.kill(os.getpid(), signum)
    assert signal.getsignal(signum) is before


KEY = "ya_0123456789abcdef_" + "A-b_" * 11  # the shape of a real key, 63 characters


def narrow_console() -> tuple[Console, io.StringIO]:
    """A console 40 columns wide that is not a terminal (like a pipe or a CI log)."""
    out = io.StringIO()
    return Console(file=out, width=40, force_terminal=False), out


def test_the_printed_curl_command_stays_on_one_line_however_narrow() -> None:
    console, out = narrow_console()
    base = "http://127.0.0.1:8000"
    print_api_access(console, base=base, key=KEY, product="trailmate", pid=4242)
    lines = out.getvalue().splitlines()
    command = f"curl -s -H 'X-API-Key: {KEY}' '{base}/themes?product=trailmate&sort=score&limit=5'"
    assert any(line.strip() == command for line in lines), lines
    assert any(line.endswith(KEY) for line in lines), lines


def test_the_dashboard_address_stays_on_one_line_however_narrow() -> None:
    console, out = narrow_console()
    base = "http://127.0.0.1:8000"
    print_pages(console, base=base, key=KEY, product="trailmate")
    words = [line.split() for line in out.getvalue().splitlines()]
    assert f"{base}/dashboard?product=trailmate#key={KEY}" in [w[-1] for w in words if w], words
    assert f"{base}/board?product=trailmate" in [w[-1] for w in words if w], words


def test_the_demo_lists_themes_by_title_with_keywords_apart() -> None:
    summary = DemoSummary(themes={
        "t-1": {"theme_id": "t-1", "status": "active", "title": "Offline maps", "label": "offline / maps",
                "author_count": 7, "mention_count": 9},
        "t-2": {"theme_id": "t-2", "status": "active", "label": "dark / mode", "author_count": 9,
                "mention_count": 9, "representative_text": "Dark mode please"},
        "t-3": {"theme_id": "t-3", "status": "merged", "title": "Gone", "label": "gone", "author_count": 99,
                "mention_count": 99},
    }, asks={"t-1": ["offline maps please", "maps without signal", "download maps", "a fourth"]})
    console, out = narrow_console()
    console.width = 160
    console.print(themes_table(summary))
    text = out.getvalue()
    assert "Themes (2 active)" in text and "Gone" not in text
    assert text.index("dark / mode") < text.index("Offline maps")  # most people first
    assert "offline / maps" in text and "download maps" in text and "a fourth" not in text


def test_the_demo_quotes_a_themes_most_typical_asks_first() -> None:
    # three asks for a dark theme and one that only shares the word "dark", in the order they came
    asks = [
        ("tell me when it gets dark", [0.0, 0.0, 1.0]),
        ("a dark map style please", [0.8, 0.6, 0.0]),
        ("dark mode for night hikes", [1.0, 0.0, 0.0]),
        ("no vector kept", None),
        ("night mode for the map", [0.8, -0.6, 0.0]),
        ("Dark mode  for night hikes", [1.0, 0.0, 0.0]),  # another person's same words
    ]
    assert typical_first(asks) == [
        "dark mode for night hikes",
        "a dark map style please",
        "night mode for the map",
        "tell me when it gets dark",
        "no vector kept",
    ]
    assert typical_first([("only text", None)]) == ["only text"]


def test_the_themes_table_keeps_each_quoted_ask_on_one_line_in_a_log() -> None:
    ask = "Please add a way to download whole regions of the map before a trip"
    summary = DemoSummary(
        themes={
            "t-1": {"theme_id": "t-1", "status": "active", "title": "Offline maps", "label": "offline / maps",
                    "author_count": 7, "mention_count": 9},
        },
        asks={"t-1": [ask]},
    )
    console, out = narrow_console()  # 40 columns, not a terminal
    print_themes(console, summary)
    assert any(f"- {ask}" in line for line in out.getvalue().splitlines()), out.getvalue()
    assert console.width == 40  # the console is left as it was


@pytest.mark.parametrize(
    "raw",
    [None, b"", b"not json", b"[1, 2]", b'"text"', b'{"suggestion_id": "s"}', b'{"embedding": [0.1]}',
     b'{"suggestion_id": 7, "embedding": [0.1]}', b'{"suggestion_id": "s", "embedding": []}',
     b'{"suggestion_id": "s", "embedding": "0.1"}', b'{"suggestion_id": "s", "embedding": [0.1, "x"]}',
     b'{"suggestion_id": "s", "embedding": [true]}'],
)
def test_a_suggestion_record_the_summary_cannot_read_is_passed_over(raw: bytes | None) -> None:
    assert ask_vector(raw) is None


def test_a_suggestion_record_gives_its_id_and_vector() -> None:
    assert ask_vector(b'{"suggestion_id": "x:1#1", "embedding": [0.6, 0, -0.8], "more": 1}') == (
        "x:1#1", [0.6, 0.0, -0.8])
