"""The dashboard's first load at 10,000 themes, in headless Chromium (Debian's chromium package).

Builds a read model like ``benchmarks/api_latency.py`` (``--themes`` themes over 3 products, 4
suggestions each) plus what the other panels read: a year of judged comments (``--comments``,
the monthly chart's basis), possible duplicates and closures. Serves the API (uvicorn, a real
socket) with the pages, and loads ``/dashboard`` in a new browser context each time (no cache).

What is measured: from navigation start to the moment every panel has drawn its first answer
(the page sets ``<body data-ready>`` then and records ``performance.now()``): the HTML, the
scripts and styles, six API calls (monthly metrics, matrix, review queue, closures, pipeline
health; no broker here, so the pipeline answers "unknown" at once) and the drawing. The baseline
in the same run is the same API calls alone, sent concurrently from Python over HTTP, no browser.

    .venv/bin/python benchmarks/dashboard_load.py [--themes 10000] [--comments 60000] [--loads 9]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_latency import build  # the 10,000 themes of the latency benchmark

from api.app import create_api
from api.readmodel.db import make_engine
from api.readmodel.projector import apply_batch
from api.security import Role, create_key
from contracts.events import CommentAccepted, CommentClassified, SourceRef, Verdict, event_json
from contracts.settings import Settings
from tests.browser_support import ConsoleLog, chromium, serve
from tests.readmodel_support import closure, member

PLATFORMS = ["x", "instagram", "tiktok", "youtube", "app_store", "google_play", "forum"]
START = datetime(2025, 4, 1, tzinfo=UTC)


def fill_panels(url: str, *, themes: int, comments: int) -> None:
    """Judged comments over a year, 200 possible duplicates, 40 closures."""
    engine = make_engine(url)
    rng = random.Random(11)
    records: list[tuple[str, bytes | None]] = []
    for i in range(comments):
        created = START + timedelta(minutes=rng.randrange(365 * 24 * 60))
        comment = CommentAccepted(
            comment_id=f"k{i}",
            platform=rng.choice(PLATFORMS),  # type: ignore[arg-type]
            product=f"product-{i % 3}",
            author_id=f"author{rng.randrange(comments // 3)}",
            text="please add offline maps",
            created_at=created,
            key=f"x:k{i}",
            received_at=created,
            source=SourceRef(topic="feedback.comments", partition=0, offset=i),
        )
        valid = rng.random() < 0.55
        records.append(
            (
                "comments.classified",
                event_json(
                    CommentClassified(
                        key=comment.key,
                        comment=comment,
                        verdict=Verdict.SUGGESTION if valid else Verdict.NOT_SUGGESTION,
                        reason="classifier" if valid else rng.choice(["praise", "question", "bug_report"]),
                        score=0.9 if valid else 0.1,
                        threshold=0.5,
                        classifier_version="bench",
                        classified_at=created,
                    )
                ),
            )
        )
        if len(records) >= 5000:
            apply_batch(engine, records)
            records = []
    for i in range(200):
        records.append(
            (
                "theme-members",
                event_json(
                    member(
                        themes * 4 + i,
                        f"t-{rng.randrange(themes):06d}",
                        product=f"product-{i % 3}",
                        review_of=f"x:c{rng.randrange(themes * 4)}",
                        similarity=round(rng.uniform(0.6, 0.9), 3),
                    )
                ),
            )
        )
    for i in range(40):
        shipped = closure(f"t-{rng.randrange(themes):06d}", product=f"product-{i % 3}")
        records.append(
            ("closures", event_json(shipped.model_copy(update={"closure_key": f"closure:bench-{i}"})))
        )
    apply_batch(engine, records)


def api_alone(base: str, key: str, n: int) -> list[float]:
    """The dashboard's API calls, concurrently, over HTTP: milliseconds per round, ``n`` rounds."""
    paths = [
        ("/metrics/monthly", {}),
        ("/matrix", {"limit": 150}),
        ("/review-queue", {"limit": 20}),
        ("/closures", {"limit": 8}),
        ("/pipeline", {}),
    ]

    async def round_trip(client: httpx.AsyncClient) -> float:
        started = time.perf_counter()
        answers = await asyncio.gather(*(client.get(p, params=q) for p, q in paths))
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
        return (time.perf_counter() - started) * 1000

    async def rounds() -> list[float]:
        async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=30) as client:
            await round_trip(client)  # warm
            return [await round_trip(client) for _ in range(n)]

    return asyncio.run(rounds())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--themes", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=60_000)
    parser.add_argument("--loads", type=int, default=9)
    parser.add_argument("--screenshot", type=Path, default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="youasked-dashboard-"))
    url = f"sqlite:///{folder / 'rm.db'}"
    started = time.perf_counter()
    build(url, args.themes)
    fill_panels(url, themes=args.themes, comments=args.comments)
    print(
        f"read model: {args.themes} themes, {args.themes * 4} suggestions, {args.comments} judged comments, "
        f"200 possible duplicates, 40 closures in {time.perf_counter() - started:.1f} s"
    )
    engine = make_engine(url)
    key = create_key(engine, name="bench", role=Role.pm)
    app = create_api(
        Settings(kafka_bootstrap="127.0.0.1:1", state_dir=folder),
        engine=engine,
        project=False,
        commands=False,
    )
    with serve(app) as base:
        baseline = api_alone(base, key, args.loads)  # before the browser: its driver holds the event loop
        browser_loads(args, base, key, baseline)


def browser_loads(args: argparse.Namespace, base: str, key: str, baseline: list[float]) -> None:
    with chromium() as browser:
        loads, walls = [], []
        log = ConsoleLog()
        transferred: dict[str, int] = {}
        for i in range(args.loads + 1):  # the first load warms the server and is not counted
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_init_script(f"localStorage.setItem('youasked.apiKey', {key!r})")
            page = log.watch(context.new_page())
            if i == 1:
                page.on("response", lambda r: transferred.__setitem__(r.url, len(r.body())))
            wall = time.perf_counter()
            page.goto(f"{base}/dashboard")
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            wall_ms = (time.perf_counter() - wall) * 1000
            first_load = float(page.get_attribute("body", "data-first-load-ms") or "nan")
            points = page.locator("#matrix-chart .point").count()
            if i == 1 and args.screenshot:
                page.screenshot(path=str(args.screenshot), full_page=True)
            context.close()
            if i:
                loads.append(first_load)
                walls.append(wall_ms)
        assert not log.errors, log.errors
    print(f"matrix points drawn: {points} (of {args.themes} themes: the page asks for the top 150)")
    print(
        "bytes per load: "
        + ", ".join(f"{u.split('/', 3)[-1].split('?')[0]} {n / 1024:.1f} KiB" for u, n in transferred.items())
    )
    print("\n| what | median | max | target |\n| --- | --- | --- | --- |")
    print(
        f"| baseline: the dashboard's 5 API calls alone, concurrent, over HTTP | "
        f"{statistics.median(baseline):.0f} ms | {max(baseline):.0f} ms | |"
    )
    print(
        f"| dashboard first load: navigation start to every panel drawn (browser clock) | "
        f"{statistics.median(loads):.0f} ms | {max(loads):.0f} ms | < 1000 ms |"
    )
    print(
        f"| same, seen from the driver (goto to ready, incl. Playwright round trips) | "
        f"{statistics.median(walls):.0f} ms | {max(walls):.0f} ms | |"
    )


if __name__ == "__main__":
    main()
