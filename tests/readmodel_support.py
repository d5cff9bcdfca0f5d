"""Events for read-model and API tests: a small product with themes, members, verdicts, a closure."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from contracts.events import (
    CommentAccepted,
    CommentClassified,
    DuplicateKind,
    LifecycleStatus,
    SourceRef,
    SuggestionDetected,
    SuggestionThemed,
    ThemeChanged,
    ThemeScore,
    ThemeStatus,
    Verdict,
    event_json,
)
from contracts.lifecycle import (
    ClosureAsker,
    ClosureComment,
    ClosureEvent,
    ClosurePost,
    ClosureReply,
    CommandKind,
    CommandOutcome,
    HistoryChange,
    MonthlyItem,
    MonthlyUpdate,
)
from tests.fakes import whole_ask

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def theme(
    theme_id: str,
    *,
    product: str = "trailmate",
    label: str = "offline / maps / download",
    title: str = "",
    authors: int = 5,
    priority: float = 0.5,
    quadrant: str = "quick_win",
    lifecycle: LifecycleStatus = LifecycleStatus.NEW,
    status: ThemeStatus = ThemeStatus.ACTIVE,
    changed_at: datetime = T0,
    merged_into: str | None = None,
    platforms: dict[str, int] | None = None,
) -> ThemeChanged:
    return ThemeChanged(
        theme_id=theme_id,
        product=product,
        status=status,
        merged_into=merged_into,
        label=label,
        keywords=label.split(" / "),
        title=title,
        representative_id=f"rep-{theme_id}",
        representative_text=representative(label),
        member_count=authors,
        mention_count=authors + 1,
        author_count=authors,
        first_seen=T0 - timedelta(days=30),
        last_seen=T0,
        platform_counts=platforms if platforms is not None else {"x": authors},
        weekly_counts={"2026-W09": authors},
        change="updated",
        changed_at=changed_at,
        lifecycle_status=lifecycle,
        score=ThemeScore(
            formula_version="impact-cost/1",
            impact=min(priority, 1.0),
            priority=priority,
            cost_points_used=8 if quadrant in ("big_bet", "money_pit") else 3,
            cost_normalized=0.3,
            cost_assumed=quadrant == "unknown_cost",
            quadrant=quadrant,  # type: ignore[arg-type]
            hot_plan=quadrant == "quick_win",
            high_impact_threshold=0.5,
            factors=[],
            as_of=changed_at,
        ),
    )


def representative(label: str) -> str:
    return f"Please add {label.replace(' / ', ' ')} support"


class WordHashEmbedder:
    """An :class:`~models.embedding.Embedder` for tests: each word hashed to a dimension, so texts
    sharing words are near (the real model is exercised by the broker and benchmark runs)."""

    dim = 384

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


def representative_vector(theme_id: str, label: str, product: str = "trailmate") -> SuggestionDetected:
    text = representative(label)
    comment = CommentAccepted(
        comment_id=f"rep-{theme_id}",
        platform="x",  # type: ignore[arg-type]
        product=product,
        author_id="someone",
        text=text,
        created_at=T0,
        key=f"x:rep-{theme_id}",
        received_at=T0,
        source=SourceRef(topic="feedback.comments", partition=0, offset=0),
    )
    return SuggestionDetected(
        suggestion_id=f"rep-{theme_id}",
        comment=comment,
        ask=whole_ask(text),
        score=0.9,
        embedding=[float(x) for x in WordHashEmbedder().embed([text])[0]],
        embedding_model="word-hash",
        detected_at=T0,
    )


def member(
    index: int,
    theme_id: str,
    *,
    product: str = "trailmate",
    platform: str = "x",
    review_of: str | None = None,
    similarity: float | None = None,
) -> SuggestionThemed:
    return SuggestionThemed(
        duplicate_of=review_of,
        duplicate_kind=DuplicateKind.REVIEW if review_of else None,
        similarity=similarity,
        suggestion_id=f"{platform}:c{index}",
        product=product,
        theme_id=theme_id,
        platform=platform,  # type: ignore[arg-type]
        comment_id=f"c{index}",
        author_id=f"user{index}",
        author_handle=f"@person{index}",
        url=f"https://x.com/person{index}/status/{index}",
        text=f"please add offline maps, idea {index}",
        ask_start=0,
        ask_end=len(f"please add offline maps, idea {index}"),
        comment_text=f"please add offline maps, idea {index}",
        asked_at=T0 - timedelta(days=index),
        placed_at=T0,
    )


def classified(
    index: int, verdict: Verdict, *, reason: str = "classifier", month: int = 3
) -> CommentClassified:
    created = datetime(2026, month, 1 + index % 27, tzinfo=UTC)
    comment = CommentAccepted(
        comment_id=f"k{index}",
        platform="x",  # type: ignore[arg-type]
        product="trailmate",
        author_id=f"user{index % 4}",
        author_handle=f"@person{index % 4}",
        text="please add dark mode",
        created_at=created,
        key=f"x:k{index}",
        received_at=created,
        source=SourceRef(topic="feedback.comments", partition=0, offset=index),
    )
    return CommentClassified(
        key=comment.key,
        comment=comment,
        verdict=verdict,
        reason=reason,
        score=0.9,
        threshold=0.5,
        classifier_version="test",
        classified_at=created,
    )


def closure(theme_id: str, *, product: str = "trailmate") -> ClosureEvent:
    return ClosureEvent(
        closure_id="cl-1",
        closure_key=f"closure:{theme_id}:none",
        theme_id=theme_id,
        product=product,
        title="Offline maps",
        outcome="shipped",
        command_id="cmd-ship",
        people_count=1,
        comment_count=1,
        people=[
            ClosureAsker(
                platform="x",  # type: ignore[arg-type]
                author_id="user1",
                handle="@person1",
                comments=[ClosureComment(comment_id="c1", asked_at=T0)],
            )
        ],
        public_posts=[
            ClosurePost(
                platform="x",  # type: ignore[arg-type]
                text="You asked, we did: offline maps. Thanks @person1",
                length=48,
                limit=280,
                mentioned_handles=["@person1"],
                people_on_platform=1,
            )
        ],
        replies=[
            ClosureReply(platform="x", author_id="user1", comment_id="c1", text="It shipped.")  # type: ignore[arg-type]
        ],
        generated_at=T0,
        templates="default/1",
    )


def outcome(command_id: str, theme_id: str, *, accepted: bool = True) -> CommandOutcome:
    changes = (
        [
            HistoryChange(
                theme_id=theme_id,
                kind="set_status",
                from_status=LifecycleStatus.NEW,
                to_status=LifecycleStatus.PLANNED,
                actor="ana",
                reason="many people ask",
                at=T0,
                issued_at=T0,
            )
        ]
        if accepted
        else []
    )
    return CommandOutcome(
        command_id=command_id,
        product="trailmate",
        theme_id=theme_id,
        kind=CommandKind.SET_STATUS,
        accepted=accepted,
        code=None if accepted else "illegal_transition",
        message=None if accepted else "shipped -> new is not allowed",
        changes=changes,
        decided_at=T0,
    )


class MemoryPublisher:
    """Records kept in memory instead of sent to Kafka (the broker tests send them for real)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        self.sent.append((topic, key, value))

    async def reachable(self) -> bool:
        return True


def monthly(product: str = "trailmate", month: str = "2026-03") -> MonthlyUpdate:
    return MonthlyUpdate(
        product=product,
        month=month,
        items=[MonthlyItem(theme_id="t-maps", title="Offline maps", people_count=7)],
        releases=[],
        distinct_people=7,
        text="In March we shipped offline maps, asked for by 7 people.",
        published_at=T0,
    )


def sample_records() -> list[tuple[str, bytes]]:
    """A small product's records, as the projection reads them: ``(kind, value)``."""
    records: list[tuple[str, bytes]] = [
        ("themes", event_json(theme("t-maps", authors=7, priority=0.8))),
        (
            "themes",
            event_json(
                theme(
                    "t-dark",
                    label="dark / mode / theme",
                    authors=3,
                    priority=0.4,
                    quadrant="fill_in",
                    platforms={"forum": 1, "x": 2},
                )
            ),
        ),
        ("themes", event_json(theme("t-old", status=ThemeStatus.MERGED, merged_into="t-maps"))),
        (
            "themes",
            event_json(theme("t-other", product="otherapp", label="export / csv", authors=9, priority=0.9)),
        ),
    ]
    records += [("theme-members", event_json(member(i, "t-maps"))) for i in range(1, 4)]
    records += [("theme-members", event_json(member(9, "t-dark", platform="forum")))]
    records += [  # possible duplicates: one of a suggestion in another theme, one in its own
        ("theme-members", event_json(member(12, "t-dark", review_of="x:c1", similarity=0.71))),
        ("theme-members", event_json(member(13, "t-dark", review_of="forum:c9", similarity=0.64))),
    ]
    records += [("comments.classified", event_json(classified(i, Verdict.SUGGESTION))) for i in range(6)]
    records += [("comments.classified", event_json(classified(10, Verdict.SUGGESTION, month=4)))]
    records += [("comments.classified", event_json(classified(20, Verdict.NOT_SUGGESTION, reason="praise")))]
    records += [("closures", event_json(closure("t-maps")))]
    records += [("theme-outcomes", event_json(outcome("cmd-1", "t-maps")))]
    records += [("theme-outcomes", event_json(outcome("cmd-2", "t-maps", accepted=False)))]
    records += [("monthly-updates", event_json(monthly()))]
    records += [
        ("suggestions", event_json(representative_vector("t-maps", "offline / maps / download"))),
        ("suggestions", event_json(representative_vector("t-dark", "dark / mode / theme"))),
        ("suggestions", event_json(representative_vector("t-other", "export / csv", product="otherapp"))),
    ]
    return records
