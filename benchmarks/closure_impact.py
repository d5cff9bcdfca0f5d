"""The impact of what shipped, on real reviews: replay a store's reviews in date order, ship a theme
at the date of a release note the release matcher proposes for it, replay what came after, and
print the closure's impact week by week (``feedback.closure-impact``, computed by the worker).

1. sorts ``../shared/data/streams/<product>_reviews.csv`` by date and replays, through the real
   broker and worker, every review up to the end of the release's day (``--release``; its date
   comes from ``<product>_releases.csv``);
2. waits until they are judged and clustered, and, as a product manager confirming the release
   matcher's proposal would, ships the top theme (among ``--top`` by priority, with at least
   ``--min-asks`` asks by the release, ``--min-recent`` of them in the 26 weeks before it: a
   change people are asking for now) whose centroid the release note's lines match best;
3. replays the reviews of the ``--weeks-after`` weeks after the release (in date order: event time
   moves on, so the worker closes week after week), waits, and reads the impact back;
4. prints, per week: asks of the theme before shipping (a rate per week over up to 26 weeks),
   asks in the week and so far (a rate per week), the change, and the follow-up praise; writes
   the figures (no review text) to ``--out``.

The split copies of the reviews live in a temporary folder outside the project for the replay only.

Run: .venv/bin/python benchmarks/closure_impact.py [--product microsoft_teams] [--release 2.1.0]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.close_the_loop import asked_dates, name_of_change, replay_worker, settle, strongest_proposal
from contracts.events import ThemeStatus
from contracts.impact import WEEKS_BEFORE, ClosureImpact
from contracts.lifecycle import ThemeCommand, new_command_id
from contracts.settings import Settings
from contracts.topics import CLOSURE_IMPACT, COMMENTS
from messaging.readback import read_topic
from youasked.commands import publish_command, read_closures, wait_for_outcome
from youasked.interrupts import stopped_like_ctrl_c
from youasked.release_proposals import latest_themes, open_themes, read_release_notes
from youasked.replay import parse_datetime, replay

STREAMS = ROOT.parent / "shared" / "data" / "streams"


def split_by_date(reviews: Path, folder: Path, *, cutoff: datetime, end: datetime) -> tuple[Path, Path, int, int]:
    """Write the reviews up to ``cutoff`` and those in ``(cutoff, end]`` to two CSVs in ``folder``,
    each in date order; returns their paths and sizes.
    """
    with reviews.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = [(datetime.fromisoformat(parse_datetime(row["date"])), row) for row in reader]
    rows.sort(key=lambda pair: pair[0])
    before = [row for at, row in rows if at <= cutoff]
    after = [row for at, row in rows if cutoff < at <= end]
    paths = []
    for name, part in (("before.csv", before), ("after.csv", after)):
        path = folder / f"{reviews.stem}-{name}"
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=fields)
            writer.writeheader()
            writer.writerows(part)
        paths.append(path)
    return paths[0], paths[1], len(before), len(after)


def read_impact(settings: Settings, closure_id: str) -> list[ClosureImpact]:
    """The latest version of each week of ``closure_id``, oldest week first."""
    latest: dict[int, ClosureImpact] = {}
    for record in read_topic(settings, CLOSURE_IMPACT, timeout=30.0, settle=3.0):
        if record.value is None:
            continue
        impact = ClosureImpact.model_validate_json(record.value)
        if impact.closure_id == closure_id and impact.version >= getattr(latest.get(impact.week), "version", 0):
            latest[impact.week] = impact
    return [latest[week] for week in sorted(latest)]


def print_impact(weeks: list[ClosureImpact]) -> None:
    first = weeks[-1]
    print(f"\nbefore shipping: {first.asks_before} asks by {first.people_before} people in {first.weeks_before} "
          f"weeks = {first.asks_before_per_week:.2f} asks per week")
    print("| week | ends | asks in week (people) | asks after shipping so far (people) | asks per week so far "
          "| change | praise in week | follow-up praise so far | of people who asked before | version |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for w in weeks:
        change = f"{w.change:+.0%}" if w.change is not None else "-"
        print(f"| {w.week} | {w.week_end:%Y-%m-%d} | {w.asks_in_week} ({w.people_in_week}) | {w.asks_after} "
              f"({w.people_after}) | {w.asks_after_per_week:.2f} | {change} | {w.praise_in_week} | "
              f"{w.follow_up_praise} | {w.praising_askers} | {w.version} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--product", default="microsoft_teams")
    parser.add_argument("--release", default="2.1.0", help="The release (version) to ship a theme in.")
    parser.add_argument("--top", type=int, default=20, help="Consider the themes of these top priority ranks.")
    parser.add_argument("--min-asks", type=int, default=5, help="Ship a theme holding at least this many asks.")
    parser.add_argument("--min-recent", type=int, default=3,
                        help="Ship a theme asked for at least this many times in the 26 weeks before the release.")
    parser.add_argument("--weeks-after", type=int, default=13, help="Replay this many weeks after the release.")
    parser.add_argument("--out", type=Path, default=None, help="Where to write the figures (JSON).")
    args = parser.parse_args()
    reviews = STREAMS / f"{args.product}_reviews.csv"
    notes = read_release_notes(STREAMS / f"{args.product}_releases.csv")
    note = next((n for n in notes if n.version == args.release), None)
    if note is None or note.released is None:
        raise SystemExit(f"no dated release {args.release} in {args.product}_releases.csv")
    cutoff = datetime.combine(note.released + timedelta(days=1), day_time(0), tzinfo=UTC) - timedelta(microseconds=1)

    settings, worker = replay_worker("impact")
    started = time.monotonic()
    product = {"product": args.product}  # the split files' names are not the product's
    with tempfile.TemporaryDirectory(prefix="youasked-impact-") as folder:
        before, after, n_before, n_after = split_by_date(
            reviews, Path(folder), cutoff=cutoff, end=cutoff + args.weeks_after * timedelta(days=7)
        )
        try:
            sent = replay(before, bootstrap_servers=settings.bootstrap_servers, overrides=product,
                          topic=settings.topic_name(COMMENTS), progress=False).sent
            print(f"replayed {sent} reviews up to {cutoff:%Y-%m-%d} (release {note.version})")
            settle(settings, worker, product=args.product)
            print(f"judged and clustered in {time.monotonic() - started:.0f} s")
            if not latest_themes(settings, product=args.product):
                raise SystemExit(f"no themes of {args.product}:\n{worker.log_tail()}")
            themes = [t for t in latest_themes(settings, product=args.product) if t.status is ThemeStatus.ACTIVE]
            themes.sort(key=lambda t: (-(t.score.priority if t.score else 0.0), -t.author_count, t.theme_id))
            from models.factories import embedder

            model = embedder(settings)
            leading = {t.theme_id for t in themes[: args.top]}
            asked = asked_dates(settings, product=args.product)
            since = note.released - timedelta(weeks=WEEKS_BEFORE)
            recent = {tid: sum(1 for day in days if since < day <= note.released)
                      for tid, days in asked.items()}
            candidates = [t for t in open_themes(settings, model, product=args.product)
                          if t.theme_id in leading and recent.get(t.theme_id, 0) >= args.min_recent]
            best = strongest_proposal([note], notes, candidates, asked, model, min_asks=args.min_asks)
            if best is None:
                raise SystemExit(f"release {note.version} matches none of the top {args.top} themes asked for "
                                 f"{args.min_recent} times in the {WEEKS_BEFORE} weeks before it")
            similarity, _, theme_id, line = best
            top = next(t for t in themes if t.theme_id == theme_id)
            title = name_of_change(line)
            print(f"shipping {theme_id} (priority rank {themes.index(top) + 1}, {top.author_count} people) "
                  f"in {note.version} ({note.released}), proposal similarity {similarity:.3f}")
            release = {"name": args.product.replace("_", " ").title(), "version": note.version,
                       "date": note.released.isoformat(), "note": note.text[:2000]}
            command = ThemeCommand.model_validate({
                "command_id": new_command_id("cmd"), "product": args.product, "theme_id": theme_id,
                "kind": "set_status", "status": "shipped", "release": release, "actor": "pm", "title": title,
                "reason": "shipped in the matched release", "issued_at": datetime.now(UTC).isoformat(),
            })
            publish_command(settings, command)
            outcome = wait_for_outcome(settings, command.command_id, timeout=120)
            if outcome is None or not outcome.accepted or outcome.closure_key is None:
                raise SystemExit(f"not shipped: {outcome}\n{worker.log_tail()}")
            closure = next(c for c in read_closures(settings) if c.closure_key == outcome.closure_key)
            print(f"closure {closure.closure_id}: {closure.people_count} people thanked, asked by {closure.asked_by}")
            sent = replay(after, bootstrap_servers=settings.bootstrap_servers, overrides=product,
                          topic=settings.topic_name(COMMENTS), progress=False).sent
            print(f"replayed {sent} reviews of the {args.weeks_after} weeks after the release")
            settle(settings, worker, product=args.product)
            weeks = read_impact(settings, closure.closure_id)
        finally:
            worker.stop()
    print(f"({n_before} reviews before, {n_after} after; {time.monotonic() - started:.0f} s in all)")
    if not weeks:
        raise SystemExit("no impact published")
    print_impact(weeks)
    out = args.out or ROOT / "var" / f"impact-{args.product}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([w.model_dump(mode="json", exclude={"release"}) for w in weeks], indent=2) + "\n")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    with stopped_like_ctrl_c():
        main()
