"""Close the loop on real reviews: replay a store's reviews, ship the top theme, print its closure.

1. replays ``../shared/data/streams/<product>_reviews.csv`` through the real broker and worker;
2. waits until every comment is judged and the themes have re-clustered;
3. takes the top theme by priority (the versioned impact/cost formula; unknown cost counts
   as size M) and, among the product's release notes, the one the release matcher ranks
   highest for it (else the newest), as a product manager would confirm it;
4. publishes ``set_status shipped`` with that release and waits for the closure event;
5. prints the closure (people, references, texts) and writes it to ``--out``.

Run: .venv/bin/python benchmarks/close_the_loop.py [--product microsoft_teams] [--limit 4000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.kafka_support import WorkerProcess, free_port
from youasked import broker
from youasked.admin import ensure_topics
from youasked.commands import publish_command, read_closures, wait_for_outcome
from youasked.contracts.events import ThemeStatus
from youasked.contracts.lifecycle import ThemeCommand
from youasked.contracts.topics import COMMENTS, WORKER_INPUTS
from youasked.lag import wait_for_zero_lag
from youasked.release_proposals import latest_themes, open_themes, propose_for_notes, read_release_notes
from youasked.replay import replay
from youasked.settings import Settings

STREAMS = ROOT.parent / "shared" / "data" / "streams"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--product", default="microsoft_teams")
    parser.add_argument("--limit", type=int, default=None, help="Replay at most this many reviews.")
    parser.add_argument("--out", type=Path, default=None, help="Where to write the closure (JSON).")
    args = parser.parse_args()
    reviews = STREAMS / f"{args.product}_reviews.csv"
    releases = STREAMS / f"{args.product}_releases.csv"

    base = Settings()
    if base.uses_local_broker:
        broker.start(base)
    tag = uuid.uuid4().hex[:8]
    settings = Settings(kafka_bootstrap=base.bootstrap_servers, topic_prefix=f"loop{tag}.",
                        app_id=f"youasked-loop-{tag}", state_dir=ROOT / "var" / f"loop-{tag}",
                        worker_web_port=free_port(), theme_tick_interval_s=2.0, theme_idle_recluster_s=5.0)
    ensure_topics(settings)
    worker = WorkerProcess(settings, settings.state_dir / "worker.log").start()
    started = time.monotonic()
    try:
        report = replay(reviews, bootstrap_servers=settings.bootstrap_servers,
                        topic=settings.topic_name(COMMENTS), limit=args.limit, progress=False)
        print(f"replayed {report.sent} reviews of {reviews.name}")
        lag = wait_for_zero_lag(settings, [settings.topic_name(s) for s in WORKER_INPUTS], timeout=3600)
        if any(lag.values()):
            raise SystemExit(f"the worker did not catch up: {lag}\n{worker.log_tail()}")
        time.sleep(settings.theme_idle_recluster_s + 3 * settings.theme_tick_interval_s)
        wait_for_zero_lag(settings, [settings.topic_name(s) for s in WORKER_INPUTS], timeout=600)
        print(f"judged and clustered in {time.monotonic() - started:.0f} s")

        themes = [t for t in latest_themes(settings, product=args.product) if t.status is ThemeStatus.ACTIVE]
        themes.sort(key=lambda t: (-(t.score.priority if t.score else 0.0), -t.author_count, t.theme_id))
        if not themes:
            raise SystemExit(f"no themes formed:\n{worker.log_tail()}")
        print(f"{len(themes)} themes; top 5 by priority:")
        for theme in themes[:5]:
            score = theme.score
            print(f"  {theme.theme_id}  people {theme.author_count:4d}  mentions {theme.mention_count:4d}  "
                  f"priority {score.priority if score else 0:.3f}  {theme.label}")
        top = themes[0]

        from youasked.factories import embedder

        model = embedder(settings)
        notes = read_release_notes(releases) if releases.exists() else []
        candidates = [t for t in open_themes(settings, model, product=args.product) if t.theme_id == top.theme_id]
        proposals = propose_for_notes(notes, candidates, model, min_similarity=0.0, limit=1)
        ranked = sorted((p for p in proposals if p["proposals"]), key=lambda p: -p["proposals"][0]["similarity"])
        chosen = ranked[0] if ranked else (proposals[0] if proposals else None)
        release = None
        if chosen is not None:
            match = chosen["proposals"][0]["similarity"] if chosen["proposals"] else None
            print(f"release: {chosen['version']} ({chosen['date']}), similarity {match}: {chosen['note'][:120]!r}")
            release = {"name": args.product.replace("_", " ").title(), "version": chosen["version"],
                       "date": chosen["date"], "note": chosen["note"]}

        command = ThemeCommand.model_validate({
            "command_id": f"cmd-{uuid.uuid4().hex}", "product": args.product, "theme_id": top.theme_id,
            "kind": "set_status", "status": "shipped", "release": release, "actor": "pm",
            "reason": "the most asked-for change", "issued_at": datetime.now(UTC).isoformat(),
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
    out = args.out or ROOT / "var" / f"closure-{args.product}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(closure.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
