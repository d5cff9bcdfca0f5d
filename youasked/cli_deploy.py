"""``youasked deploy ...``: files a Kubernetes deployment needs, generated from the declarations."""

from __future__ import annotations

import typer

deploy_app = typer.Typer(
    help="The Helm chart's generated files (Strimzi KafkaTopics, values schema).", no_args_is_help=True
)


@deploy_app.command("write")
def deploy_write() -> None:
    """Write a Strimzi KafkaTopic for every topic of contracts/topics.py (12 partitions, 3 replicas,
    min.insync.replicas 2, as the capacity plan has it) and the chart's values.schema.json (the
    fields of contracts/settings.py that `config:` accepts).
    """
    from youasked.chart_files import write_chart_files

    for path in write_chart_files():
        typer.echo(f"wrote {path}")


@deploy_app.command("check")
def deploy_check() -> None:
    """Compare the chart's generated files with fresh ones; print the differences and exit 1 if any."""
    from youasked.chart_files import CHART_DIR, chart_files_differences

    differences = chart_files_differences()
    for difference in differences:
        typer.echo(difference, err=True)
    if differences:
        typer.echo("run `youasked deploy write` to bring them up to date", err=True)
        raise typer.Exit(1)
    typer.echo(f"the generated files of {CHART_DIR} are up to date")
