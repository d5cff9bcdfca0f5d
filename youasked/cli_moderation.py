"""``youasked eval moderation``: each moderation rule's firings on the shared files and its precision."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from contracts.settings import get_settings


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def moderation_report(data_dir: Path, labels: Path) -> dict[str, Any]:
    """Fired counts per rule and file under the configured rules, and every rule's labelled score."""
    from models.factories import moderation_policy
    from models.moderation_eval import fired_counts, score_rules
    from models.moderation_labels import load_fired_labels

    policy = moderation_policy(get_settings())
    fired = fired_counts(data_dir, policy)
    scores = score_rules(load_fired_labels(data_dir, labels), policy)
    rules: dict[str, Any] = {}
    for rule in sorted(set(fired) | set(scores)):
        score = scores.get(rule)
        rules[rule] = {
            "fired_now": fired.get(rule, {}),
            "fired_now_total": sum(fired.get(rule, {}).values()),
            "sampled": score.sampled if score else 0,
            "right": score.right if score else 0,
            "precision_before": score.precision_before if score else None,
            "kept_right": score.kept_right if score else 0,
            "kept_wrong": score.kept_wrong if score else 0,
            "precision_after": score.precision_after if score else None,
            "dropped_wrong": score.dropped_wrong if score else 0,
            "lost_right": score.lost_right if score else 0,
            "moved_to": score.moved if score else {},
        }
    return {"labels": str(labels), "rules": rules}


def _print_table(report: dict[str, Any]) -> None:
    header = ("rule", "fired now", "sampled", "P before", "kept", "P after", "wrong dropped", "right lost")
    typer.echo("  ".join(f"{h:>13}" for h in header))
    for rule, row in report["rules"].items():
        cells = (
            rule,
            row["fired_now_total"],
            row["sampled"],
            _ratio(row["precision_before"]),
            row["kept_right"] + row["kept_wrong"],
            _ratio(row["precision_after"]),
            row["dropped_wrong"],
            row["lost_right"],
        )
        typer.echo("  ".join(f"{c!s:>13}" for c in cells))
    typer.echo("\nfired now, per file:")
    for rule, row in report["rules"].items():
        per_file = ", ".join(f"{path} {n}" for path, n in sorted(row["fired_now"].items()))
        moved = f"  (labelled firings now removed by another rule: {row['moved_to']})"
        moved = moved if row["moved_to"] else ""
        typer.echo(f"  {rule}: {per_file or 'none'}{moved}")


def eval_moderation(
    data_dir: Path = typer.Option(Path("../shared/data"), help="The shared data folder."),
    labels: Path = typer.Option(None, help="Labelled firings (default: the project's own sample)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Each rule's firings on the shared comment files and its precision on the labelled sample.

    Precision before: the labelled sample as it was drawn (the rules of that day). Precision after:
    the same labels re-scored against the rules configured now (``YOUASKED_MODERATION_*``).
    """
    from models.moderation_labels import DEFAULT_LABELS_FILE, LabelDataError

    try:
        report = moderation_report(data_dir, labels or DEFAULT_LABELS_FILE)
    except LabelDataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print_table(report)
