"""How often each moderation rule fires on real comments, and how often it is right to.

:func:`fired_counts` runs the rules over every comment of the shared files;
:func:`score_rules` reads the hand-labelled sample of past firings
(:mod:`models.moderation_labels`) twice: as labelled (the precision of the rules the sample was
drawn from) and against the rules of ``policy`` (which wrong firings they no longer make, which
right ones they lose). Precision after = right firings kept / labelled firings kept.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from models.moderation import ModerationPolicy, moderate
from models.moderation_labels import MODERATION_SOURCES, CommentSource, FiredLabel, read_source


def fired_counts(
    data_root: Path | str,
    policy: ModerationPolicy,
    *,
    sources: Sequence[CommentSource] = MODERATION_SOURCES,
) -> dict[str, dict[str, int]]:
    """``{rule: {source path: comments it removed}}`` over every comment of ``sources``."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for source in sources:
        per_rule = Counter(
            verdict.code.value
            for comment in read_source(Path(data_root), source)
            if (verdict := moderate(comment.text, policy)) is not None
        )
        for rule, count in per_rule.items():
            counts[rule][source.path] = count
    return dict(counts)


@dataclass(frozen=True, slots=True)
class RuleScore:
    """One rule's labelled sample, scored as labelled and against the current rules.

    ``kept_right`` / ``kept_wrong``: labelled firings the current rule still makes (by the same
    rule); ``dropped_wrong``: wrong firings it no longer makes; ``lost_right``: right ones it
    no longer makes; ``moved``: labelled firings now removed by another rule instead, by rule.
    """

    rule: str
    sampled: int
    right: int
    kept_right: int
    kept_wrong: int
    moved: dict[str, int]

    @property
    def precision_before(self) -> float | None:
        return self.right / self.sampled if self.sampled else None

    @property
    def kept(self) -> int:
        return self.kept_right + self.kept_wrong

    @property
    def precision_after(self) -> float | None:
        return self.kept_right / self.kept if self.kept else None

    @property
    def dropped_wrong(self) -> int:
        return self.sampled - self.right - self.kept_wrong

    @property
    def lost_right(self) -> int:
        return self.right - self.kept_right


def score_rules(labels: Iterable[FiredLabel], policy: ModerationPolicy) -> dict[str, RuleScore]:
    """Score every rule's labelled firings, as labelled and under ``policy``."""
    by_rule: dict[str, list[FiredLabel]] = defaultdict(list)
    for label in labels:
        by_rule[label.rule].append(label)
    scores: dict[str, RuleScore] = {}
    for rule, items in sorted(by_rule.items()):
        kept_right = kept_wrong = 0
        moved: Counter[str] = Counter()
        for label in items:
            verdict = moderate(label.comment.text, policy)
            now = None if verdict is None else verdict.code.value
            if now == rule:
                kept_right += label.correct
                kept_wrong += not label.correct
            elif now is not None:
                moved[now] += 1
        scores[rule] = RuleScore(
            rule=rule,
            sampled=len(items),
            right=sum(label.correct for label in items),
            kept_right=kept_right,
            kept_wrong=kept_wrong,
            moved=dict(sorted(moved.items())),
        )
    return scores
