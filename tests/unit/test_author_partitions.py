"""The per-author rate limit across workers: ingest puts one author's comments in one partition
of ``feedback.comments.accepted``, so workers that each keep their own limiter decide as one
process would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.events import CommentAccepted, SourceRef
from models.ingest import author_key, author_partition
from models.moderation import ModerationPolicy, RateLimitState, check_author_rate

T0 = datetime(2026, 3, 1, tzinfo=UTC)
POLICY = ModerationPolicy(max_posts_per_author=3, author_window_seconds=600.0, max_tracked_authors=10_000)


def accepted(index: int, author: str, *, platform: str = "x", seconds: float = 0.0) -> CommentAccepted:
    return CommentAccepted(
        comment_id=f"c{index}",
        platform=platform,
        product="trailmate",
        author_id=author,
        text=f"please add offline maps {index}",
        created_at=T0 + timedelta(seconds=seconds),
        key=f"{platform}:c{index}",
        received_at=T0,
        source=SourceRef(topic="feedback.comments", partition=0, offset=index),
    )


def test_an_authors_comments_share_a_partition_and_authors_spread() -> None:
    partitions = 12
    for author in ("ana", "bo", "user7"):
        homes = {author_partition(accepted(i, author), partitions) for i in range(50)}
        assert len(homes) == 1  # whatever the comment id, text or time
    spread = {author_partition(accepted(0, f"user{i}"), partitions) for i in range(200)}
    assert spread == set(range(partitions))
    assert author_partition(accepted(0, "ana"), 1) == 0


def test_the_author_is_the_platform_and_id_and_the_hash_is_stable() -> None:
    assert author_key(accepted(0, "ana", platform="forum")) == "forum:ana"
    # another platform's "ana" is another person and may be elsewhere; the hash never depends on
    # the process (Python's hash() would: it is salted per process)
    homes = {author_partition(accepted(0, f"user{i}", platform="forum"), 4) for i in range(40)}
    assert homes == {author_partition(accepted(0, f"user{i}", platform="forum"), 4) for i in range(40)}
    assert [author_partition(accepted(0, name), 12) for name in ("ana", "bo", "cy")] == [
        author_partition(accepted(9, name, seconds=99), 12) for name in ("ana", "bo", "cy")
    ]


def allowed_by_workers(
    comments: list[CommentAccepted], *, partition_of: dict[str, int], workers: int
) -> set[str]:
    """Run each partition's comments (in stream order) through the limiter of the worker that
    holds it (partition p on worker p % workers); the keys of the allowed comments."""
    states = [RateLimitState() for _ in range(workers)]
    allowed: set[str] = set()
    for comment in comments:
        worker = partition_of[comment.key] % workers
        states[worker], ok = check_author_rate(
            states[worker], author_key(comment), comment.created_at, policy=POLICY
        )
        if ok:
            allowed.add(comment.key)
    return allowed


@settings(max_examples=60, deadline=None)
@given(
    posts=st.lists(
        st.tuples(st.sampled_from(["ana", "bo", "cy", "dee", "eli"]), st.integers(0, 3000)),
        min_size=1,
        max_size=80,
    ),
    workers=st.integers(1, 4),
)
def test_workers_limit_authors_as_one_process_would(posts: list[tuple[str, int]], workers: int) -> None:
    comments = [accepted(i, author, seconds=t) for i, (author, t) in enumerate(posts)]
    one = allowed_by_workers(comments, partition_of={c.key: 0 for c in comments}, workers=1)
    by_author = {c.key: author_partition(c, 4) for c in comments}
    assert allowed_by_workers(comments, partition_of=by_author, workers=workers) == one


def test_comments_spread_by_their_own_key_let_an_author_past_the_limit() -> None:
    # the layout before: partitions by comment id, so an author's comments reach several workers
    comments = [accepted(i, "ana", seconds=i) for i in range(8)]
    one = allowed_by_workers(comments, partition_of={c.key: 0 for c in comments}, workers=1)
    assert len(one) == POLICY.max_posts_per_author
    by_comment = {c.key: i for i, c in enumerate(comments)}
    assert len(allowed_by_workers(comments, partition_of=by_comment, workers=2)) > len(one)
    by_author = {c.key: author_partition(c, 4) for c in comments}
    assert allowed_by_workers(comments, partition_of=by_author, workers=2) == one
