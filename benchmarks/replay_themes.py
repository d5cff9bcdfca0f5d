"""The themes a product manager would read after a replay of real reviews.

Replays ``../shared/data/streams/<product>_reviews.csv`` through the real broker and worker,
waits until every comment is judged and the themes have re-clustered, then prints the top
``--top`` live themes by distinct people: title, status, people, keywords, and ``--members``
member asks drawn at random (seeded) from the theme, so that a reader sees what the theme holds,
not only its most central ask. It ends with how many asks were placed in a theme and how many
wait alone in the pool.

Run: .venv/bin/python benchmarks/replay_themes.py --product google_chrome [--top 15] [--members 3] [--dump asks.jsonl]
Starts its own topics (a fresh prefix) on the configured broker, starting the local one if needed.
The clustering depends on tick timing, so two runs can differ in detail.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.close_the_loop import latest_members, replay_worker, settle
from contracts.events import (
    LIVE_THEME_STATUSES,
    SuggestionThemed,
    ThemeChanged,
    follows_original,
    is_mixed,
    root_of,
)
from contracts.settings import Settings
from contracts.topics import COMMENTS
from models.scoring import (
    DEFAULT_WEIGHTS,
    CostEstimate,
    ScoringWeights,
    ThemeDemand,
    rank_themes,
    score_theme,
)
from youasked.interrupts import stopped_like_ctrl_c
from youasked.release_proposals import latest_themes
from youasked.replay import replay

STREAMS = ROOT.parent / "shared" / "data" / "streams"


def one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--product", default="google_chrome")
    parser.add_argument("--limit", type=int, default=None, help="Replay at most this many reviews.")
    parser.add_argument("--top", type=int, default=15, help="Print this many themes, most people first.")
    parser.add_argument("--rank", choices=("people", "priority"), default="people",
                        help="Order of the printed themes: most people, or the board's priority.")
    parser.add_argument("--members", type=int, default=3, help="Member asks printed per theme.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--compare-placement", action="store_true",
                        help="Also stream the replay's asks offline through the theme engine twice, in date "
                             "order: placed by their own words, and as the worker places them (an ask that "
                             "names nothing read with its neighbouring unit, the product's name left out), "
                             "and print both.")
    parser.add_argument("--dump", type=Path, default=None,
                        help="Also write every ask (its text, comment, span, theme id and title) as JSON lines "
                             "to this file, to read a replay again without running it.")
    args = parser.parse_args()
    reviews = STREAMS / f"{args.product}_reviews.csv"

    settings, worker = replay_worker("themes")
    started = time.monotonic()
    try:
        report = replay(reviews, bootstrap_servers=settings.bootstrap_servers,
                        topic=settings.topic_name(COMMENTS), limit=args.limit, progress=False)
        settle(settings, worker, product=args.product)
        elapsed = time.monotonic() - started
        themes = [t for t in latest_themes(settings, product=args.product) if t.status in LIVE_THEME_STATUSES]
        members = latest_members(settings, product=args.product)
    finally:
        worker.stop()

    by_theme: dict[str, list[SuggestionThemed]] = defaultdict(list)
    for member in members.values():
        if member.theme_id:
            by_theme[member.theme_id].append(member)
    if args.rank == "priority":
        themes.sort(key=lambda t: (-(t.score.priority if t.score else 0.0), t.theme_id))
    else:
        themes.sort(key=lambda t: (-t.author_count, -t.mention_count, t.theme_id))
    rng = random.Random(args.seed)
    print(f"replayed {report.sent} reviews of {reviews.name}; judged and clustered in {elapsed:.0f} s")
    print(f"{len(themes)} live themes; the top {min(args.top, len(themes))} by {args.rank}:\n")
    for rank, theme in enumerate(themes[: args.top], start=1):
        print(f"{rank:2d}. {theme.title or theme.label!r}  [{theme.status.value}, {theme.author_count} people, "
              f"{theme.mention_count} mentions, agreement {agreement_text(theme)}]  keywords: {', '.join(theme.keywords[:6])}")
        print(f"      {how_asked(theme)}")
        own = sorted(by_theme.get(theme.theme_id, []), key=lambda m: m.suggestion_id)
        for member in rng.sample(own, min(args.members, len(own))):
            print(f"      - {one_line(member.text, 150)}")
    placed = sum(1 for m in members.values() if m.theme_id)
    alone = len(members) - placed
    share = alone / len(members) if members else 0.0
    print(f"\n{len(members)} asks: {placed} in a theme, {alone} alone in the pool ({share:.1%})")
    print(repeats_moved(members))
    print(mixed_ranks(themes))
    if args.dump is not None:
        dump(args.dump, members, themes)
    if args.compare_placement:
        compare_placement(settings, list(members.values()), product=args.product)


def dump(path: Path, members: dict[str, SuggestionThemed], themes: list[ThemeChanged]) -> None:
    """Every ask of the replay as one JSON line: the member record's fields and its theme's title."""
    titles = {theme.theme_id: theme.title or theme.label for theme in themes}
    with path.open("w", encoding="utf-8") as out:
        for member in sorted(members.values(), key=lambda m: (m.asked_at, m.suggestion_id)):
            record = member.model_dump(mode="json")
            record["theme_title"] = titles.get(member.theme_id or "")
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(members)} asks to {path}")


def repeats_moved(members: dict[str, SuggestionThemed]) -> str:
    """How many repeats live with their ask (``follows_original``) and how many of them have a record
    that names another theme than the one their ask is in now (their ask moved after they came):
    counted, listed and thanked where their ask is, not where their record says."""
    followers = {
        sid: m.duplicate_of for sid, m in members.items()
        if m.duplicate_of and follows_original(m.duplicate_kind.value if m.duplicate_kind else None, m.theme_id)
    }
    moved = joined = 0
    for sid in followers:
        member, original = members[sid], members.get(root_of(followers, sid) or "")
        if original is not None and original.theme_id != member.theme_id:
            moved += member.theme_id is not None
            joined += member.theme_id is None
    return (f"{len(followers)} repeats live with the ask they repeat; of them, {moved} have a record naming "
            f"another theme than their ask's now (it moved), {joined} a record naming none (it was alone)")


def agreement_text(theme: ThemeChanged) -> str:
    """The theme's agreement, marked when it is mixed."""
    if theme.agreement is None:
        return "unknown"
    return f"{theme.agreement:.2f}" + (" mixed" if is_mixed(theme.agreement) else "")


def mixed_ranks(themes: list[ThemeChanged]) -> str:
    """Where each mixed theme ranks by priority among the live themes, with its people counted in
    full (``mixed_agreement`` 0, as formula version 1 counted them) and as the shipped formula
    counts them: every theme rescored from its own snapshot's demand, the same snapshots both ways.
    """
    scored = [t for t in themes if t.score is not None]
    full = ScoringWeights(mixed_agreement=0.0)
    before = _ranks(scored, full)
    after = _ranks(scored, DEFAULT_WEIGHTS)
    mixed = sorted((t for t in scored if is_mixed(t.agreement)), key=lambda t: before[t.theme_id])
    lines = [f"{len(mixed)} mixed of {len(scored)} scored themes; rank by priority, people counted in full -> "
             f"at the agreement's share ({DEFAULT_WEIGHTS.mixed_agreement} bar):"]
    lines += [f"  {before[t.theme_id]:3d} -> {after[t.theme_id]:3d}  {t.title or t.label!r} ({t.author_count} people, "
              f"agreement {t.agreement:.2f})" for t in mixed]
    return "\n".join(lines)


def _ranks(themes: list[ThemeChanged], weights: ScoringWeights) -> dict[str, int]:
    """Each theme's rank (1 = highest priority) when rescored from its snapshot with ``weights``."""
    scores = []
    for theme in themes:
        assert theme.score is not None
        raw = {f.name: f for f in theme.score.factors}
        demand = ThemeDemand(
            theme_id=theme.theme_id, distinct_authors=theme.author_count, mentions=theme.mention_count,
            weekly_counts=theme.weekly_counts, total_engagement=theme.engagement or 0,
            negative_share=None if "negative_share unknown" in theme.score.notes else raw["negative_tone"].raw,
            urgent_mentions=round(raw["urgency"].raw * theme.mention_count), as_of=theme.score.as_of,
            agreement=theme.agreement,
        )
        cost = CostEstimate(points=None if theme.score.cost_assumed else theme.score.cost_points_used)
        scores.append(score_theme(demand, cost=cost, weights=weights))
    return {b.theme_id: b.rank or 0 for b in rank_themes(scores)}


def how_asked(theme: ThemeChanged) -> str:
    """The theme's impact and the factors of how people asked (urgency, tone, engagement)."""
    if theme.score is None:
        return "no score"
    raw = {f.name: f for f in theme.score.factors}
    tone = raw["negative_tone"]
    negative = f"1-2 stars {tone.raw:.0%} of rated" if "negative_share unknown" not in theme.score.notes else "no rating"
    return (f"priority {theme.score.priority:.3f}, impact {theme.score.impact:.3f}: urgent {raw['urgency'].raw:.0%} of mentions, {negative}, "
            f"{raw['engagement'].raw:.0f} likes, replies and shares")


def compare_placement(settings: Settings, members: list[SuggestionThemed], *, product: str) -> None:
    """The same asks through the same engine in the same (date) order, with two placements, and the
    worker's placement re-clustered in PCA's space (the re-cluster's space before UMAP)."""
    from models.ask_context import placement_text
    from models.factories import embedder
    from models.themes.config import ThemeConfig
    from models.themes.evaluate import evaluate_themes
    from models.units import Unit, split_units

    members = sorted(members, key=lambda m: (m.asked_at, m.suggestion_id))
    own = [m.text for m in members]
    placed = [placement_text(Unit(m.ask_start, m.ask_end, m.text), split_units(m.comment_text), product=product)
              for m in members]
    model = embedder(settings)
    print(f"\noffline, {len(members)} asks in date order, {sum(a != b for a, b in zip(own, placed, strict=True))} "
          "of them placed by other words than their own (named nothing, or named the product):")
    print("| placement | themes | of them emerging | asks alone | largest theme (asks) |")
    print("| --- | --- | --- | --- | --- |")
    worker = "as the worker places it (its neighbour when it names nothing, no product name)"
    runs = [("the ask's own words", own, ThemeConfig()), (worker, placed, ThemeConfig()),
            (worker + ", PCA instead of UMAP", placed, replace(ThemeConfig(), reduction="pca"))]
    for name, texts, config in runs:
        result = evaluate_themes(texts=own, labels=[0] * len(own), vectors=model.embed(texts), final_themes=True,
                                 config=config)
        sizes = Counter(theme for theme in result["final_themes"] if theme is not None)
        largest = max(sizes.values(), default=0)
        print(f"| {name} | {result['themes']} | {result['emerging_themes']} | {result['outlier_rate']:.1%} "
              f"| {largest} |")


if __name__ == "__main__":
    with stopped_like_ctrl_c():
        main()
