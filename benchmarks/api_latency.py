"""API latency at 10,000 themes: theme lists (sorts, filters, words, pages), semantic search, detail.

Builds a read model with ``--themes`` synthetic themes (3 products, 4 suggestions each) through
the projection code, then calls the routes in-process (FastAPI's test client: the app, its
validation and the database, without the network) and prints p50 and p99 per route, beside the
same query run directly on the database (the floor the route cannot beat).

    .venv/bin/python benchmarks/api_latency.py [--themes 10000] [--requests 300] [--database-url URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.app import create_api
from api.readmodel.db import make_engine, upgrade
from api.readmodel.projector import apply_batch
from api.readmodel.schema import SuggestionVectorRow, ThemeRow
from api.security import Role, create_key
from contracts.events import DuplicateKind, LifecycleStatus, event_json
from contracts.settings import Settings
from tests.readmodel_support import T0, member, theme

WORDS = [
    "offline",
    "maps",
    "dark",
    "mode",
    "export",
    "csv",
    "sync",
    "calendar",
    "widget",
    "login",
    "password",
    "share",
    "photos",
    "route",
]
QUADRANTS = ["quick_win", "big_bet", "fill_in", "money_pit", "unknown_cost"]


def build(url: str, themes: int, alone: int = 0, repeats: int = 0) -> None:
    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(7)
    records: list[tuple[str, bytes | None]] = []
    for i in range(themes):
        words = rng.sample(WORDS, 3)
        record = theme(
            f"t-{i:06d}",
            product=f"product-{i % 3}",
            label=" / ".join(words),
            authors=rng.randint(1, 400),
            priority=rng.random(),
            quadrant=rng.choice(QUADRANTS),
            lifecycle=rng.choice(list(LifecycleStatus)),
            changed_at=T0 - timedelta(minutes=rng.randint(0, 100_000)),
        )
        records.append(("themes", event_json(record)))
        for j in range(4):
            records.append(
                ("theme-members", event_json(member(i * 4 + j, record.theme_id, product=record.product)))
            )
        if len(records) >= 5000:
            apply_batch(engine, records)
            records = []
    # asks in no theme (``alone``, spread over the products)
    for k in range(alone):
        pooled = member(themes * 4 + k, "pool", product=f"product-{k % 3}").model_copy(update={"theme_id": None})
        records.append(("theme-members", event_json(pooled)))
    # repeats in no theme of asks now in a theme (made while their original was alone)
    for k in range(repeats):
        original = rng.randrange(themes * 4)
        repeat = member(themes * 4 + alone + k, "pool", product=f"product-{original // 4 % 3}").model_copy(
            update={"theme_id": None, "duplicate_of": f"x:c{original}", "duplicate_kind": DuplicateKind.EXACT}
        )
        records.append(("theme-members", event_json(repeat)))
    apply_batch(engine, records)
    # each theme's representative embedding (random unit vectors: search costs the same); each
    # member's near its theme's, and each alone ask's at random
    gen = np.random.default_rng(3)
    vectors = gen.normal(size=(themes, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with Session(engine) as session, session.begin():
        session.add_all(
            SuggestionVectorRow(
                suggestion_id=f"rep-t-{i:06d}",
                product=f"product-{i % 3}",
                model="bench",
                vector=vectors[i].tobytes(),
            )
            for i in range(themes)
        )
    if not alone:
        return
    for start in range(0, themes, 2000):
        rows = range(start, min(themes, start + 2000))
        near = np.repeat(vectors[list(rows)], 4, axis=0) + 0.05 * gen.normal(size=(4 * len(rows), 384))
        near /= np.linalg.norm(near, axis=1, keepdims=True)
        with Session(engine) as session, session.begin():
            session.add_all(
                SuggestionVectorRow(
                    suggestion_id=f"x:c{i * 4 + j}", product=f"product-{i % 3}", model="bench",
                    vector=near[(i - start) * 4 + j].astype(np.float32).tobytes(),
                )
                for i in rows
                for j in range(4)
            )
    pool = gen.normal(size=(alone, 384)).astype(np.float32)
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    with Session(engine) as session, session.begin():
        session.add_all(
            SuggestionVectorRow(
                suggestion_id=f"x:c{themes * 4 + k}", product=f"product-{k % 3}", model="bench",
                vector=pool[k].tobytes(),
            )
            for k in range(alone)
        )


def timed(call: Callable[[], object], n: int) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.99 * len(samples)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--themes", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--alone", type=int, default=6_000,
                        help="asks in no theme, spread over the 3 products (GET /themes/alone); 0: none")
    parser.add_argument("--repeats", type=int, default=0,
                        help="repeats in no theme of random theme members (listed in their theme's detail)")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--postgres", action="store_true", help="start a PostgreSQL server of its own")
    args = parser.parse_args()
    if args.postgres:
        from tests.postgres_support import postgres_server

        with postgres_server() as url:
            run(args, url)
    else:
        run(args, args.database_url)


def run(args: argparse.Namespace, database_url: str | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="youasked-latency-"))
    url = database_url or f"sqlite:///{folder / 'rm.db'}"
    print(f"database: {url.split(':', 1)[0]}")
    started = time.perf_counter()
    build(url, args.themes, args.alone, args.repeats)
    print(
        f"read model: {args.themes} themes, {args.themes * 4} suggestions in themes, {args.alone} in none, "
        f"{args.repeats} repeats in none of asks in themes, "
        f"in {time.perf_counter() - started:.1f} s"
    )
    engine = make_engine(url)
    key = create_key(engine, name="bench", role=Role.pm)
    app = create_api(  # the default embedder: the pipeline's MiniLM, loaded on the first search
        Settings(kafka_bootstrap="127.0.0.1:1", state_dir=folder),
        engine=engine,
        project=False,
        commands=False,
    )
    rng = random.Random(1)
    headers = {"X-API-Key": key}
    with TestClient(app) as client:

        def route(path: str, params: Callable[[], dict[str, object]]) -> Callable[[], object]:
            def call() -> object:
                response = client.get(path, params=params(), headers=headers)
                assert response.status_code == 200, response.text
                return response

            return call

        def floor_list() -> object:
            with Session(engine) as session:
                return session.scalars(
                    select(ThemeRow)
                    .where(ThemeRow.status == "active", ThemeRow.product == f"product-{rng.randrange(3)}")
                    .order_by(ThemeRow.priority.desc())
                    .limit(50)
                ).all()

        queries = [
            "please let me download maps for offline use",
            "a dark mode for the night",
            "export my routes as a csv file",
            "sync with my calendar",
        ]
        cases = [
            (
                "semantic search (embeds the query with MiniLM), one product",
                route(
                    "/themes/search",
                    lambda: {  # a number in each query: the embedder's exact-repeat cache never answers
                        "q": f"{rng.choice(queries)} {rng.choice(WORDS)} {rng.randrange(10**6)}",
                        "product": f"product-{rng.randrange(3)}",
                    },
                ),
            ),
            (
                "themes, by score, one product",
                route("/themes", lambda: {"product": f"product-{rng.randrange(3)}"}),
            ),
            ("themes, by authors, page 20", route("/themes", lambda: {"sort": "authors", "offset": 1000})),
            (
                "themes, quick wins, >= 50 people",
                route("/themes", lambda: {"quadrant": "quick_win", "min_authors": 50}),
            ),
            (
                "themes, by recency, platform x",
                route("/themes", lambda: {"sort": "recency", "platform": "x"}),
            ),
            ("themes, words", route("/themes", lambda: {"q": rng.choice(WORDS)})),
            ("theme detail", route(f"/themes/t-{rng.randrange(args.themes):06d}", dict)),
        ]
        detail_ids = [f"t-{rng.randrange(args.themes):06d}" for _ in range(args.requests)]
        detail_iter = iter(detail_ids * 2)

        def detail() -> object:
            response = client.get(f"/themes/{next(detail_iter)}", headers=headers)
            assert response.status_code == 200 and len(response.json()["suggestions"]) >= 4, response.text
            return response

        cases[-1] = ("theme detail (4 suggestions and their repeats, history)", detail)
        if args.alone:
            per = args.alone // 3
            cases.append((
                f"asks in no theme, one product ({per} alone; its {args.themes * 4 // 3} members' vectors "
                "give the centres)",
                route("/themes/alone", lambda: {"product": f"product-{rng.randrange(3)}"}),
            ))
            cases.append((
                f"asks in themes that may be one idea, one product ({args.themes // 3} themes; its "
                f"{args.themes * 4 // 3} members' vectors give the centres and their nearest themes)",
                route("/themes/pairs", lambda: {"product": f"product-{rng.randrange(3)}"}),
            ))
        floor = timed(floor_list, args.requests)
        print("\n| route | p50 | p99 | target |\n| --- | --- | --- | --- |")
        print(f"| floor: the list query alone on the database | {floor[0]:.1f} ms | {floor[1]:.1f} ms | |")
        for name, call in cases:
            call()  # warm
            # the alone route reads every member's vector: fewer calls keep the run short
            p50, p99 = timed(call, min(args.requests, 60) if name.startswith("asks") else args.requests)
            target = "p99 <= 50 ms" if name.startswith("themes") else ""
            target = "p99 <= 150 ms" if name.startswith("semantic") else target
            print(f"| {name} | {p50:.1f} ms | {p99:.1f} ms | {target} |")


if __name__ == "__main__":
    main()
