"""``youasked theme``: bad input is refused before anything is published."""

from __future__ import annotations

from typer.testing import CliRunner

from youasked.cli import app

runner = CliRunner()


def test_an_invalid_command_is_refused_with_the_reason() -> None:
    result = runner.invoke(app, ["theme", "status", "t-1", "--product", "acme", "--to", "merged"])
    assert result.exit_code == 2
    assert "merged is reached through a merge command" in result.output


def test_a_malformed_split_part_is_a_usage_error() -> None:
    result = runner.invoke(app, ["theme", "split", "t-1", "--product", "acme", "--part", "no-members"])
    assert result.exit_code == 2
    assert "NEW_THEME_ID=ID" in result.output


def test_cost_needs_a_known_size() -> None:
    result = runner.invoke(app, ["theme", "cost", "t-1", "--product", "acme", "--size", "XXL"])
    assert result.exit_code == 2
    assert "invalid command" in result.output
