"""``youasked deploy ...``: files a Kubernetes deployment needs, generated from the declarations."""

from __future__ import annotations

from pathlib import Path

import typer

deploy_app = typer.Typer(
    help="Kubernetes deployment files (the Helm chart's examples).", no_args_is_help=True
)


@deploy_app.command("kafka-topics")
def kafka_topics(
    out: Path = typer.Option(
        None, dir_okay=False, show_default="deploy/helm/youasked/examples/kafka-topics.yaml",
        help="File to write (or, with --check, to compare).",
    ),
    check: bool = typer.Option(False, "--check", help="Compare instead of writing; exit 1 on a difference."),
) -> None:
    """Write a Strimzi KafkaTopic for every topic of contracts/topics.py (12 partitions, 3 replicas,
    min.insync.replicas 2, as the capacity plan has it), or check that OUT still matches.
    """
    from youasked.kafka_topics import EXAMPLE_FILE, kafka_topics_differences, render_kafka_topics

    target = out or EXAMPLE_FILE
    if check:
        differences = kafka_topics_differences(target)
        for difference in differences:
            typer.echo(difference, err=True)
        if differences:
            typer.echo("run `youasked deploy kafka-topics` to bring it up to date", err=True)
            raise typer.Exit(1)
        typer.echo(f"{target} matches contracts/topics.py")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_kafka_topics())
    typer.echo(f"wrote {target}")
