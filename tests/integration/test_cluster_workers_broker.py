"""Three workers share a three-node cluster; one dies by SIGKILL mid-stream and a fourth joins.
Every comment is classified exactly once, every ask is placed, and the themes carry on.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from contracts.events import CommentClassified, SuggestionThemed, suggestion_id_of
from contracts.settings import Settings
from contracts.topics import COMMENTS, COMMENTS_CLASSIFIED, COMMENTS_DLQ, THEME_MEMBERS
from messaging.admin import ensure_topics
from messaging.readback import Record, read_topic
from tests.integration.test_cluster_broker import cluster  # noqa: F401  (the fixture)
from tests.kafka_support import WorkerProcess, free_port, produce

pytestmark = [pytest.mark.integration, pytest.mark.model]

COMMENTS_SENT = 3000
PRODUCTS = ("trailmate", "brewbuddy", "notely", "pixelpal", "fitloop", "budgetly")
IDEAS = (
    ("Please add offline maps", "Could you let me download maps for use without signal",
     "I need the maps to work offline when I have no reception", "Offline map downloads would be great",
     "Add an option to save maps to the phone for offline use"),
    ("Please add a dark mode", "A dark theme would be easier on my eyes at night",
     "Could you make a night mode with dark colours", "I wish the app had a dark mode",
     "Add a dark theme that follows the system setting"),
    ("Let me export my data as a CSV file", "Please add an export to spreadsheet",
     "I would like to download all my entries as CSV", "Could you add a way to export everything to Excel",
     "An export button for my data would help a lot"),
    ("Please add a home screen widget", "I wish there was a widget for my phone's home screen",
     "A widget showing today's summary would be great", "Could you make a small widget for the lock screen",
     "Add widgets so I do not have to open the app"),
)
CONTEXT = ("", " Thanks!", " Love the app otherwise.", " It is my daily tool.", " Keep up the good work.",
           " Been using it for a year.", " Five stars if you do.", " My whole team wants this.")


def comment(index: int) -> bytes:
    # every product gets every idea, in every phrasing, with varied endings
    phrasings = IDEAS[(index // len(PRODUCTS)) % len(IDEAS)]
    turn = index // (len(PRODUCTS) * len(IDEAS))
    text = phrasings[turn % len(phrasings)] + CONTEXT[(turn // len(phrasings)) % len(CONTEXT)]
    return json.dumps({
        "comment_id": f"c{index}", "platform": "x", "product": PRODUCTS[index % len(PRODUCTS)],
        "author_id": f"a{index}", "text": text, "created_at": "2026-06-01T08:00:00+00:00",
    }).encode()


def latest_members(records: list[Record]) -> dict[str, SuggestionThemed]:
    """Each suggestion's last member record (a compacted topic read from the start)."""
    latest: dict[str, SuggestionThemed] = {}
    for record in records:
        if record.value:
            member = SuggestionThemed.model_validate_json(record.value)
            latest[member.suggestion_id] = member
    return latest


def themes_per_product(latest: dict[str, SuggestionThemed]) -> Counter[str]:
    return Counter(product for product, _ in {(m.product, m.theme_id) for m in latest.values() if m.theme_id})


def worker(settings: Settings, tmp_path: Path, name: str) -> WorkerProcess:
    own = settings.model_copy(update={"worker_web_port": free_port(), "worker_metrics_port": free_port()})
    return WorkerProcess(own, tmp_path / f"{name}.log").start()


def test_workers_share_the_cluster_and_one_dying_loses_and_doubles_nothing(
    cluster: Settings,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = cluster
    ensure_topics(settings)
    workers = [worker(settings, tmp_path, f"worker-{n}") for n in range(3)]
    try:
        produce(settings, COMMENTS, [(f"x:c{i}".encode(), comment(i)) for i in range(COMMENTS_SENT // 2)])
        read_topic(settings, COMMENTS_CLASSIFIED, expect=200, timeout=300, settle=0)
        workers[1].kill()  # SIGKILL mid-stream: its partitions move to the others
        produce(settings, COMMENTS, [(f"x:c{i}".encode(), comment(i))
                                     for i in range(COMMENTS_SENT // 2, COMMENTS_SENT)])
        time.sleep(5)
        workers.append(worker(settings, tmp_path, "worker-3"))  # and a new one joins
        classified = read_topic(settings, COMMENTS_CLASSIFIED, expect=COMMENTS_SENT, timeout=600, settle=5)
        dead = read_topic(settings, COMMENTS_DLQ, timeout=5, settle=2)
        judged = [CommentClassified.model_validate_json(r.value) for r in classified]
        expected_asks = {
            suggestion_id_of(event.key, ordinal)
            for event in judged
            for ordinal in range(1, len(event.asks) + 1)
        }
        deadline = time.monotonic() + 300  # the idle re-cluster founds the themes once input pauses
        while True:
            members = read_topic(settings, THEME_MEMBERS, expect=len(expected_asks), timeout=120, settle=3)
            latest = latest_members(members)
            founded = themes_per_product(latest)
            if all(founded[product] >= len(IDEAS) for product in PRODUCTS) or time.monotonic() > deadline:
                break
            time.sleep(10)
    finally:
        for each in workers:
            each.stop()
    logs = "\n".join(each.log_tail(1500) for each in workers)
    assert not dead, [r.value[:200] for r in dead]
    keys = Counter(CommentClassified.model_validate_json(r.value).key for r in classified)
    assert len(keys) == COMMENTS_SENT, (COMMENTS_SENT - len(keys), logs)
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1][:5]
    assert len(expected_asks) >= COMMENTS_SENT * 0.8, "the judge missed most of the plain asks"
    assert expected_asks <= set(latest), (len(expected_asks - set(latest)), logs)
    per_product = themes_per_product(latest)
    # each product's four ideas became themes, whichever worker held the product when
    assert set(per_product) == set(PRODUCTS), per_product
    assert all(count >= len(IDEAS) for count in per_product.values()), per_product
