"""Close the loop on real reviews: replay a store's reviews, ship the top theme, print its closure.

1. replays ``../shared/data/streams/<product>_reviews.csv`` through the real broker and worker;
2. waits until every comment is judged and the themes have re-clustered;
3. ranks the themes by priority (the versioned impact/cost formula; unknown cost counts as
   size M) and, as a product manager confirming the release matcher's proposals would, takes
   the strongest (release note line, theme) proposal among the top ``--top`` themes that hold at
   least ``--min-asks`` asks made before that release (``--release`` picks the release); the
   change is named by that line (or ``--title``);
4. publishes ``set_status shipped`` with that release and waits for the closure event;
5. prints the closure (people, references, texts) and every ask it judged (thanked, held for a
   product manager, left out; asks made after the release are only counted), with dates, scores
   and the asks' words, and writes it to ``--out``;
6. scores the thanked people against ``--labels`` (comment id -> asked for what shipped, 1/0;
   default ``benchmarks/labels/closure-<product>.csv``): precision, recall, and how many thanked
   asks are dated after the release.

Run: .venv/bin/python benchmarks/close_the_loop.py [--product microsoft_teams] [--limit 4000]
Score a closure written before: .venv/bin/python benchmarks/close_the_loop.py --score <closure.json>
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contracts.events import LIVE_THEME_STATUSES, SuggestionThemed
from contracts.lifecycle import ClosureEvent, ThemeCommand, new_command_id
from contracts.settings import Settings
from contracts.topics import COMMENTS, THEME_MEMBERS, WORKER_INPUTS
from messaging.admin import ensure_topics
from messaging.lag import wait_for_zero_lag
from messaging.readback import read_topic
from models.closure_selection import note_lines
from models.embedding import Embedder
from models.release_match import OpenTheme
from tests.kafka_support import WorkerProcess, free_port
from youasked import broker
from youasked.commands import publish_command, read_closures, wait_for_outcome
from youasked.interrupts import stopped_like_ctrl_c
from youasked.release_proposals import (
    ReleaseNote,
    latest_themes,
    open_themes,
    read_release_notes,
)
from youasked.replay import replay

STREAMS = ROOT.parent / "shared" / "data" / "streams"
LABELS = ROOT / "benchmarks" / "labels"


def asked_dates(settings: Settings, *, product: str) -> dict[str, list[date]]:
    """The days of the asks of each theme of ``product`` (its member records, latest per suggestion)."""
    days: dict[str, list[date]] = {}
    for member in latest_members(settings, product=product).values():
        if member.theme_id is not None:
            days.setdefault(member.theme_id, []).append(member.asked_at.date())
    return days

RECLUSTER_CHANGES = frozenset({"recluster", "created", "merged", "split"})
"""The ``ThemeChanged.change`` of the snapshots a re-cluster writes (a first one only creates)."""


def settle(settings: Settings, worker: WorkerProcess, *, product: str, timeout: float = 900.0) -> None:
    """Wait until the worker has read every input and re-clustered ``product`` after its last ask.

    Zero lag is not enough: the idle re-cluster starts only once the input has paused, and runs
    for a while after the lag reads zero. So this waits, after zero lag, for a theme snapshot
    written by a re-cluster at or after the last placement of an ask (on ``feedback.themes``).
    """
    topics = [settings.topic_name(s) for s in WORKER_INPUTS]
    lag = wait_for_zero_lag(settings, topics, timeout=3600)
    if any(lag.values()):
        raise SystemExit(f"the worker did not catch up: {lag}\n{worker.log_tail()}")
    placed = [m.placed_at for m in latest_members(settings, product=product).values()]
    if not placed:
        return
    last_placed = max(placed)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(t.change in RECLUSTER_CHANGES and t.changed_at >= last_placed
               for t in latest_themes(settings, product=product)):
            wait_for_zero_lag(settings, topics, timeout=600)
            return
        time.sleep(5.0)
    print(f"no re-cluster after the last ask within {timeout:.0f} s: the themes read next may be partial")


def replay_settings(name: str, *, tick_s: float = 2.0, idle_recluster_s: float = 5.0) -> Settings:
    """Settings of fresh topics (created) on the configured broker (the local one started if
    needed), with short theme ticks so that the idle re-cluster follows a replay quickly.
    """
    base = Settings()
    if base.uses_local_broker:
        broker.start(base)
    tag = uuid.uuid4().hex[:8]
    settings = Settings(kafka_bootstrap=base.bootstrap_servers, topic_prefix=f"{name}{tag}.",
                        app_id=f"youasked-{name}-{tag}", state_dir=ROOT / "var" / f"{name}-{tag}",
                        worker_web_port=free_port(), theme_tick_interval_s=tick_s,
                        theme_idle_recluster_s=idle_recluster_s)
    ensure_topics(settings)
    return settings


def replay_worker(name: str) -> tuple[Settings, WorkerProcess]:
    """:func:`replay_settings` and a worker started on them."""
    settings = replay_settings(name)
    return settings, WorkerProcess(settings, settings.state_dir / "worker.log").start()


def latest_members(settings: Settings, *, product: str) -> dict[str, SuggestionThemed]:
    """Every suggestion of ``product``'s last placement (the compacted members topic from the start)."""
    latest: dict[str, SuggestionThemed] = {}
    for record in read_topic(settings, THEME_MEMBERS, timeout=30.0, settle=2.0):
        if record.value is None:
            latest.pop((record.key or b"").decode(), None)
            continue
        member = SuggestionThemed.model_validate_json(record.value)
        if member.product == product:
            latest[member.suggestion_id] = member
    return latest


def without_asks(closure: ClosureEvent) -> dict[str, object]:
    """The closure as JSON without the reviews' words (the asks quoted from them): the data set's
    texts stay in ../shared/data; comment ids, dates, verdicts and cosines are kept.
    """
    data = closure.model_dump(mode="json")
    for ask in data["judged"]:
        ask["ask"] = ""
    for person in data["people"]:
        for comment in person["comments"]:
            comment["asks"] = []
    return without_release_note(data)


RELEASE_LINE = "‹a line of the release note›"


def without_release_note(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the release note's words (a text of ../shared/data) replaced wherever they
    appear (the note itself, the title taken from one of its lines, the posts and replies).
    """
    release = data.get("release") or {}
    note = release.get("note") or ""
    pieces = {piece.strip(" •-*\t") for piece in re.split(r"[\n•.!?;]+", note)}
    lines = sorted((piece for piece in pieces if len(piece) >= 12), key=len, reverse=True)

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            for line in lines:
                value = value.replace(line, RELEASE_LINE)
            return value
        if isinstance(value, list):
            return [clean(item) for item in value]
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        return value

    cleaned: dict[str, Any] = clean(data)
    if note:
        cleaned["release"]["note"] = f"‹the release note of version {release.get('version')}, in ../shared/data›"
    return cleaned


def print_judged(closure: ClosureEvent) -> None:
    """Every ask the closure judged, by verdict, oldest first: date, cosines, rule, the ask's words."""
    print(f"\nasks: thanked {closure.thanked_asks}, held {closure.held_asks}, left out {closure.left_out_asks}, "
          f"asked after shipping {closure.asked_after_shipping} (asked by {closure.asked_by})")
    print(f"rule: {closure.selection_rule}")
    for verdict in ("thanked", "held", "left_out"):
        asks = sorted((a for a in closure.judged if a.verdict == verdict), key=lambda a: a.asked_at)
        print(f"\n{verdict} ({len(asks)}):")
        for ask in asks:
            release = f"{ask.release_similarity:.3f}" if ask.release_similarity is not None else "  -  "
            centre = f"{ask.centre_similarity:.3f}" if ask.centre_similarity is not None else "  -  "
            print(f"  {ask.asked_at:%Y-%m-%d} {ask.comment_id}  release {release}  centre {centre}  "
                  f"{' '.join(ask.ask.split())[:150]}")


def read_labels(path: Path, release: str | None) -> dict[str, bool]:
    """``comment_id,release,label`` rows of ``release`` (label 1: the comment asked for what that
    release shipped, 0: it did not).
    """
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["comment_id"]: row["label"].strip() == "1" for row in csv.DictReader(handle)
                if row["release"] == release}


def print_scores(closure: ClosureEvent, labels: dict[str, bool], path: Path) -> None:
    """Precision and recall of the thanked comments against ``labels`` (recall among the judged
    comments, the asks made before the release); thanked asks dated after the release.
    """
    thanked = {c.comment_id for person in closure.people for c in person.comments}
    judged = {a.comment_id for a in closure.judged}
    unlabelled = sorted(judged - set(labels))
    wanted = {comment for comment in judged if labels.get(comment)}
    hits = len(thanked & wanted)
    precision = hits / len(thanked) if thanked else 0.0
    recall = hits / len(wanted) if wanted else 0.0
    released = closure.release.date if closure.release else None
    late = [c for person in closure.people for c in person.comments
            if released is not None and c.asked_at.date() > released]
    print(f"\nagainst {path.relative_to(ROOT)}: {len(judged)} judged comments, {len(wanted)} asked for what "
          f"shipped; thanked {len(thanked)}: precision {precision:.3f}, recall {recall:.3f}; "
          f"thanked asks dated after the release ({released}): {len(late)}")
    everyone = len(judged) + closure.asked_after_shipping
    if everyone:
        print(f"  thanking every member as before ({everyone} comments, {closure.asked_after_shipping} written "
              f"after the release): precision {len(wanted) / everyone:.3f}")
    if unlabelled:
        print(f"  {len(unlabelled)} judged comments have no label: {', '.join(unlabelled)}")


def strongest_proposal(
    chosen: list[ReleaseNote], notes: list[ReleaseNote], candidates: list[OpenTheme],
    asked: dict[str, list[date]], model: Embedder, *, min_asks: int, min_similarity: float = 0.45,
) -> tuple[float, ReleaseNote, str, str] | None:
    """The (similarity, note, theme id, line) of the closest pair of a line of one of ``chosen``
    and a theme's centroid, among themes with ``min_asks`` asks up to the note's day. Lines found
    in more than a tenth of all ``notes`` ("Bug fixes and performance improvements") are boilerplate.
    """
    import numpy as np

    counts = Counter(line.lower() for note in notes for line in set(note_lines(note.text)))
    common = {line for line, count in counts.items() if count > max(2, len(notes) // 10)}
    pairs = [(note, line) for note in chosen for line in note_lines(note.text) if line.lower() not in common]
    if not pairs or not candidates:
        return None
    lines = model.embed([line for _, line in pairs])
    centroids = np.stack([np.asarray(c.centroid) / np.linalg.norm(c.centroid) for c in candidates])
    similarities = lines @ centroids.T
    best: tuple[float, ReleaseNote, str, str] | None = None
    for (note, line), row in zip(pairs, similarities, strict=True):
        for theme, similarity in zip(candidates, row, strict=True):
            before = sum(1 for day in asked.get(theme.theme_id, []) if note.released and day <= note.released)
            if similarity >= min_similarity and before >= min_asks and (best is None or similarity > best[0]):
                best = (float(similarity), note, theme.theme_id, line)
    return best


def name_of_change(line: str) -> str:
    """A release-note line as the name of the change: "X is now available for Y" -> "X"; a
    clause that says what the change is good for goes ("Support for automatic updates, ideal for
    ensuring ..." -> "Support for automatic updates")."""
    line = _PURPOSE.sub("", line.strip()).rstrip(" .;,")
    named = re.match(r"^(?P<name>.+?)\s+(?:is|are)\s+(?:now\s+)?(?:available|here|live|supported|possible)\b",
                     line, re.IGNORECASE)
    if named:
        return named.group("name")
    action = re.match(r"^(?:you can now|now you can|you can)\s+(?P<rest>.+)$", line, re.IGNORECASE)
    if action:
        rest = action.group("rest")
        return rest[0].upper() + rest[1:]
    return line


_PURPOSE = re.compile(
    r",\s+(?:ideal|perfect|great|useful|handy|so that|so you|making|letting|allowing|helping|which|to help)\b.*$",
    re.IGNORECASE | re.DOTALL,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--product", default="microsoft_teams")
    parser.add_argument("--limit", type=int, default=None, help="Replay at most this many reviews.")
    parser.add_argument("--out", type=Path, default=None, help="Where to write the closure (JSON).")
    parser.add_argument("--top", type=int, default=10, help="Consider the themes of these top priority ranks.")
    parser.add_argument("--title", default=None, help="The change's name (default: the worker's fallback).")
    parser.add_argument("--release", default=None,
                        help="Ship in this release (version in the releases file) the theme its note matches best.")
    parser.add_argument("--min-asks", type=int, default=5,
                        help="Ship a theme only in a release made after at least this many of its asks.")
    parser.add_argument("--labels", type=Path, default=None,
                        help="CSV of comment_id,label (1: asked for what shipped) to score the thanked people.")
    parser.add_argument("--score", type=Path, default=None,
                        help="Score a closure written before (JSON) against --labels, without replaying.")
    args = parser.parse_args()
    if args.score:
        closure = ClosureEvent.model_validate_json(args.score.read_text(encoding="utf-8"))
        print(f"closure {closure.closure_key}: {closure.title!r}, {closure.people_count} people")
        print_judged(closure)
        labels_file = args.labels or LABELS / f"closure-{closure.product}.csv"
        version = closure.release.version if closure.release else None
        print_scores(closure, read_labels(labels_file, version), labels_file)
        return
    reviews = STREAMS / f"{args.product}_reviews.csv"
    releases = STREAMS / f"{args.product}_releases.csv"

    settings, worker = replay_worker("loop")
    started = time.monotonic()
    try:
        report = replay(reviews, bootstrap_servers=settings.bootstrap_servers,
                        topic=settings.topic_name(COMMENTS), limit=args.limit, progress=False)
        print(f"replayed {report.sent} reviews of {reviews.name}")
        settle(settings, worker, product=args.product)
        print(f"judged and clustered in {time.monotonic() - started:.0f} s")

        themes = [t for t in latest_themes(settings, product=args.product) if t.status in LIVE_THEME_STATUSES]
        themes.sort(key=lambda t: (-(t.score.priority if t.score else 0.0), -t.author_count, t.theme_id))
        if not themes:
            raise SystemExit(f"no themes formed:\n{worker.log_tail()}")
        print(f"{len(themes)} themes; top 5 by priority:")
        for theme in themes[:5]:
            score = theme.score
            print(f"  {theme.theme_id}  people {theme.author_count:4d}  mentions {theme.mention_count:4d}  "
                  f"priority {score.priority if score else 0:.3f}  {theme.label}")
        from models.factories import embedder

        model = embedder(settings)
        notes = read_release_notes(releases) if releases.exists() else []
        leading = {t.theme_id for t in themes[: args.top]}
        candidates = [t for t in open_themes(settings, model, product=args.product) if t.theme_id in leading]
        # What a product manager does with the release notes: take the strongest proposal (a
        # release note's line -> one of the leading themes) and confirm it, naming the change by
        # that line. A release answers only the asks made before it: a proposal counts when its
        # theme holds at least --min-asks asks dated up to the release's day.
        asked = asked_dates(settings, product=args.product)
        chosen = [note for note in notes if not args.release or note.version == args.release]
        best = strongest_proposal(chosen, notes, candidates, asked, model, min_asks=args.min_asks)
        if best is None:
            raise SystemExit(f"no release note of {releases.name} matches any of the top {args.top} themes "
                             f"after {args.min_asks} of its asks")
        similarity, note, theme_id, line = best
        top = next(t for t in themes if t.theme_id == theme_id)
        rank = themes.index(top) + 1
        title = args.title or name_of_change(line)
        print(f"shipping {top.theme_id} (priority rank {rank}, {top.author_count} people): "
              f"{(top.representative_text or '')[:100]!r}")
        print(f"release {note.version} ({note.released}), similarity {similarity:.3f}; title {title!r}")
        release = {"name": args.product.replace("_", " ").title(), "version": note.version,
                   "date": note.released.isoformat() if note.released else None, "note": note.text[:2000]}

        command = ThemeCommand.model_validate({
            "command_id": new_command_id("cmd"), "product": args.product, "theme_id": top.theme_id,
            "kind": "set_status", "status": "shipped", "release": release, "actor": "pm", "title": title,
            "reason": "shipped in the matched release", "issued_at": datetime.now(UTC).isoformat(),
        })
        sent = time.perf_counter()
        publish_command(settings, command)
        outcome = wait_for_outcome(settings, command.command_id, timeout=120)
        if outcome is None or not outcome.accepted:
            raise SystemExit(f"not shipped: {outcome}\n{worker.log_tail()}")
        closures = [c for c in read_closures(settings) if c.closure_key == outcome.closure_key]
        print(f"outcome and closure read back {time.perf_counter() - sent:.2f} s after the command")
    finally:
        worker.stop()

    if len(closures) != 1:
        raise SystemExit(f"expected one closure for {outcome.closure_key}, found {len(closures)}")
    closure = closures[0]
    print(f"\nclosure {closure.closure_key}: {closure.people_count} people, {closure.comment_count} comments, "
          f"{len(closure.replies)} replies")
    for post in closure.public_posts:
        print(f"\n[{post.platform.value} public post, {post.length}/{post.limit}]\n{post.text}")
    for reply in closure.replies[:3]:
        print(f"\n[reply to {reply.platform.value} comment {reply.comment_id}]\n{reply.text}")
    print_judged(closure)
    labels_file = args.labels or LABELS / f"closure-{args.product}.csv"
    if labels_file.exists():
        version = closure.release.version if closure.release else None
        print_scores(closure, read_labels(labels_file, version), labels_file)
    out = args.out or ROOT / "var" / f"closure-{args.product}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(without_asks(closure), indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    with stopped_like_ctrl_c():
        main()
