"""Online theme engine: stateful steps ``(state, input) -> (state, events)``.

Each step mutates and returns the :class:`ProductThemes` it was given (copying a 100k-item
state per suggestion would be too slow); the clock (``now``) and the id factory
(``new_id``) are passed in, so runs are deterministic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import numpy as np
import numpy.typing as npt

from contracts.lifecycle import hash_author_key
from models.other_languages import reads_as_other_language
from models.themes.config import ThemeConfig
from models.themes.emerging import emerging_groups, is_emerging
from models.themes.events import (
    SuggestionPlaced,
    ThemeCreated,
    ThemeEvent,
    ThemeMerged,
    ThemeSplit,
    ThemeUpdated,
)
from models.themes.labels import relabel
from models.themes.recluster import plan_recluster
from models.themes.records import Member, Suggestion, ThemeRecord, iso_week
from models.themes.state import ProductThemes
from models.tone import NO_TONE, Tone

logger = logging.getLogger(__name__)

IdFactory = Callable[[], str]


def _updated(theme: ThemeRecord, *, at: datetime, suggestion_id: str | None) -> ThemeUpdated:
    return ThemeUpdated(
        product=theme.product,
        theme_id=theme.theme_id,
        member_count=theme.member_count,
        mention_count=theme.mention_count,
        author_count=theme.authors.count(),
        label=theme.label,
        representative_id=theme.representative_id,
        suggestion_id=suggestion_id,
        at=at,
    )


class ThemeEngine:
    """Assigns suggestions to themes online and re-clusters periodically (see :class:`ThemeConfig`).

    The engine holds only its config (plus scratch space during a re-cluster): all state is
    in the :class:`ProductThemes` passed to each step. Use one engine per thread.
    """

    def __init__(self, config: ThemeConfig | None = None) -> None:
        self.config = config or ThemeConfig()
        self._merged: dict[str, str] = {}

    def new_state(self, *, product: str, dim: int) -> ProductThemes:
        """An empty state for ``product`` with ``dim``-dimensional vectors."""
        return ProductThemes(product=product, dim=dim)

    # -- online steps --------------------------------------------------------------------
    def add_suggestion(
        self, state: ProductThemes, suggestion: Suggestion, *, now: datetime, new_id: IdFactory
    ) -> tuple[ProductThemes, list[ThemeEvent]]:
        """Place one suggestion: join the nearest theme at cosine >= ``join_threshold``, else pool.

        Then re-clusters if ``max(recluster_min_new, recluster_growth * seen_at_recluster)``
        suggestions arrived since the last re-cluster, or ``recluster_interval`` elapsed.
        Re-deliveries of a pooled suggestion are ignored; de-duplicating re-deliveries of
        suggestions already in a theme is the caller's job (it holds the id-to-theme map).
        """
        if suggestion.product != state.product:
            raise ValueError(f"suggestion of {suggestion.product!r} given to state of {state.product!r}")
        if suggestion.suggestion_id in state.pool:
            return state, []
        member = Member.from_suggestion(suggestion, max_text_chars=self.config.max_text_chars)
        state.seen += 1
        state.added_since_recluster += 1
        events: list[ThemeEvent] = []
        theme_id, sim = state.nearest(member.vector)
        if theme_id is not None and sim >= self.config.join_threshold:
            theme = state.themes[theme_id]
            theme.absorb(member, sample_size=self.config.sample_per_theme)
            state.refresh_centroid(theme_id)
            events.append(SuggestionPlaced(state.product, member.suggestion_id, theme_id, None, sim, now))
            events.append(_updated(theme, at=now, suggestion_id=member.suggestion_id))
        else:
            state.pool[member.suggestion_id] = member
            events.append(SuggestionPlaced(state.product, member.suggestion_id, None, None, None, now))
        if self.recluster_due(state, now=now):
            state, more = self.recluster(state, now=now, new_id=new_id, settle_all=False)
            events.extend(more)
        return state, events

    def add_mention(
        self,
        state: ProductThemes,
        *,
        target_id: str,
        theme_id: str | None,
        author_key: str,
        platform: str,
        at: datetime,
        now: datetime,
        engagement: int = 0,
        tone: Tone = NO_TONE,
    ) -> tuple[ProductThemes, list[ThemeEvent]]:
        """Count a duplicate of suggestion ``target_id``: one more mention and (if new) author.

        The target is found in the pool, in a theme's sample, or under ``theme_id`` (the
        caller's suggestion-to-theme map, for members that left the bounded sample).
        Unknown targets are ignored (logged).
        """
        hashed = hash_author_key(author_key)
        item = state.pool.get(target_id)
        if item is not None:
            item.add_mention(hashed_author=hashed, platform=platform, at=at, engagement=engagement, tone=tone)
            return state, []
        located = state.locate(target_id)
        tid = located if located not in (None, "pool") else theme_id
        if tid is None or tid not in state.themes:
            logger.warning("mention of unknown suggestion %s (theme %s) ignored", target_id, theme_id)
            return state, []
        theme = state.themes[tid]
        gained = True  # the theme counts an author once per held member that names them
        for held in theme.members:
            if held.suggestion_id == target_id:
                gained = hashed not in held.authors
                held.add_mention(hashed_author=hashed, platform=platform, at=at, engagement=engagement,
                                 tone=tone)
        theme.mention_count += 1
        theme.engagement += engagement
        theme.tone += tone
        if gained:
            theme.authors.add(hashed)
        theme.platforms[platform] = theme.platforms.get(platform, 0) + 1
        week = iso_week(at)
        theme.weeks[week] = theme.weeks.get(week, 0) + 1
        theme.last_seen = max(theme.last_seen, at)
        return state, [_updated(theme, at=now, suggestion_id=target_id)]

    def recluster_due(self, state: ProductThemes, *, now: datetime, pending: int = 0) -> bool:
        """Whether the count or the time trigger of a re-cluster fired (with ``pending`` more
        suggestions added: whether adding them may re-cluster).
        """
        added = state.added_since_recluster + pending
        if added == 0:
            return False
        by_count = max(self.config.recluster_min_new, self.config.recluster_growth * state.seen_at_recluster)
        if added >= by_count:
            return True
        last = state.last_recluster_at
        return last is not None and now - last >= self.config.recluster_interval

    def tick(
        self, state: ProductThemes, *, now: datetime, new_id: IdFactory
    ) -> tuple[ProductThemes, list[ThemeEvent]]:
        """Time step: re-cluster if due (also when no re-cluster ever ran and the pool is non-empty)."""
        if self.tick_due(state, now=now):
            return self.recluster(state, now=now, new_id=new_id)
        return state, []

    def tick_due(self, state: ProductThemes, *, now: datetime) -> bool:
        """Whether :meth:`tick` re-clusters now."""
        first_due = state.last_recluster_at is None and bool(state.pool)
        return first_due or self.recluster_due(state, now=now)

    # -- a person's decisions -----------------------------------------------------------
    def keep_apart(self, state: ProductThemes, *, theme_id: str, other_ids: tuple[str, ...]) -> None:
        """Record that a person read ``theme_id`` beside ``other_ids`` and found other ideas: no
        re-cluster merges them (a person's merge still may). Themes no longer live are skipped.
        """
        theme = state.themes.get(theme_id)
        for other_id in other_ids:
            other = state.themes.get(other_id)
            if theme is not None and other is not None and other_id != theme_id:
                theme.apart.add(other_id)
                other.apart.add(theme_id)

    def place(
        self,
        state: ProductThemes,
        *,
        member: Member,
        theme_id: str,
        from_theme: str | None,
        now: datetime,
        released: Member | None = None,
    ) -> list[ThemeEvent]:
        """Move ``member`` into ``theme_id`` because a person said it asks for that theme's idea,
        and pin it there: re-clusters leave it where it is put.

        ``from_theme`` is where it was (None: the pool). ``released`` is what leaves that theme
        when it no longer holds the member (a stand-in with its counts; the member itself when
        None).
        """
        sid = member.suggestion_id
        touched = [theme_id]
        if state.pool.pop(sid, None) is None and from_theme is not None and from_theme in state.themes:
            state.themes[from_theme].release(released or member)
            touched.append(from_theme)
        target = state.themes[theme_id]
        target.absorb(member, sample_size=self.config.sample_per_theme)
        target.pinned.add(sid)
        state.invalidate()
        records = [state.themes[tid] for tid in touched]
        relabel(records, top_n=self.config.label_words)
        events: list[ThemeEvent] = [SuggestionPlaced(state.product, sid, theme_id, from_theme, None, now)]
        events.extend(_updated(record, at=now, suggestion_id=sid) for record in records)
        return events

    def merge_themes(
        self, state: ProductThemes, *, source_ids: tuple[str, ...], into_id: str, now: datetime
    ) -> list[ThemeEvent]:
        """Fold ``source_ids`` into ``into_id`` because a person said they are one idea."""
        for old_id in source_ids:
            self._merge(state, old_id=old_id, into_id=into_id)
        state.invalidate()
        relabel([state.themes[into_id]], top_n=self.config.label_words)
        return [ThemeMerged(state.product, tuple(source_ids), into_id, now)]

    def split_theme(
        self,
        state: ProductThemes,
        *,
        theme_id: str,
        parts: list[tuple[str, list[Member]]],
        now: datetime,
    ) -> list[ThemeEvent]:
        """Move each part's members out of ``theme_id`` into a new theme with the given id.

        A member is a :class:`Member` with its vector when the theme holds it (sampled or
        provisional); for others the caller passes a stand-in whose counts move (mentions,
        platforms, weeks) and whose vector is the source's centroid. Authors stay counted in
        the source as well (they asked there too); the new theme counts its own.
        """
        source = state.themes[theme_id]
        events: list[ThemeEvent] = []
        for new_theme_id, members in parts:
            part = ThemeRecord.empty(
                theme_id=new_theme_id,
                product=state.product,
                dim=state.dim,
                at=min(m.created_at for m in members),
                author_cap=self.config.max_exact_authors,
            )
            for member in members:
                if member.suggestion_id in source.pinned:
                    part.pinned.add(member.suggestion_id)
                source.release(member)
                part.absorb(member, sample_size=self.config.sample_per_theme)
            state.themes[new_theme_id] = part
            moved = tuple(m.suggestion_id for m in members)
            events.append(ThemeCreated(state.product, new_theme_id, "", (), moved, now))
        relabel([source, *(state.themes[new_id] for new_id, _ in parts)], top_n=self.config.label_words)
        state.invalidate()
        events.append(
            ThemeSplit(
                state.product,
                theme_id,
                tuple(new_id for new_id, _ in parts),
                tuple((new_id, tuple(m.suggestion_id for m in members)) for new_id, members in parts),
                now,
            )
        )
        return events

    # -- re-cluster ----------------------------------------------------------------------
    def recluster(
        self, state: ProductThemes, *, now: datetime, new_id: IdFactory, settle_all: bool = True
    ) -> tuple[ProductThemes, list[ThemeEvent]]:
        """Re-cluster pool items and sampled theme members; apply merges, splits, new themes, joins.

        Input is bounded: the ``max_recluster_pool`` most recent pool items and provisional
        members plus each theme's sample (at most ``sample_per_theme``, thinned to fit
        ``max_recluster_rows``). Afterwards remaining pool items join their nearest theme at
        cosine >= ``reassign_threshold`` and labels are recomputed; without ``settle_all`` (a
        re-cluster while suggestions keep arriving) an item waits ``provisional_wait``
        re-clusters for that join.
        """
        cfg = self.config
        # an ask in another language founds nothing (ThemeConfig.other_languages_found): it stays in
        # the pool, out of the clustering, for the joins after it
        pool_items = [m for m in state.pool.values() if self._may_found(m)][-cfg.max_recluster_pool :]
        rows: list[Member] = list(pool_items)
        owners: list[str | None] = [None] * len(pool_items)
        # Provisional members cluster like pool items (owner None) but remember their home.
        # Both are bounded together by ``max_recluster_pool`` (the most recent provisional
        # members are fed; the others stay provisional until a later re-cluster).
        homes: dict[str, str] = {}
        provisional = [
            (m, tid) for tid, theme in state.themes.items() for m in theme.provisional if self._may_found(m)
        ]
        room = max(0, cfg.max_recluster_pool - len(pool_items))
        provisional.sort(key=lambda pair: pair[0].created_at)
        for m, theme_id in provisional[-room:] if room else []:
            rows.append(m)
            owners.append(None)
            homes[m.suggestion_id] = theme_id
        per_theme = cfg.sample_per_theme
        if state.themes:
            budget = (cfg.max_recluster_rows - len(rows)) // len(state.themes)
            per_theme = max(2 * cfg.min_cluster_size, min(per_theme, budget))
        for theme_id, theme in state.themes.items():
            # members a person placed stay out of the clustering: nothing could move them
            fed = [m for m in theme.sample if m.suggestion_id not in theme.pinned][:per_theme]
            rows.extend(fed)
            owners.extend([theme_id] * len(fed))
        events: list[ThemeEvent] = []
        touched: set[str] = set()
        self._merged = {}
        if rows:
            vectors = np.stack([m.vector for m in rows]).astype(np.float32)
            plan = plan_recluster(vectors=vectors, owners=owners, config=cfg)
            for old, new in sorted(plan.merges.items()):
                if kept_apart(state, old, new):
                    continue
                self._merge(state, old_id=old, into_id=new)
                self._merged[old] = new
                events.append(ThemeMerged(state.product, (old,), new, now))
                touched.add(new)
            for move_rows, target in plan.moves:
                events.extend(
                    self._move(
                        state,
                        [rows[i] for i in move_rows],
                        [owners[i] for i in move_rows],
                        target,
                        now,
                        touched,
                    )
                )
            for member_rows, origin in zip(plan.new_themes, plan.new_origins, strict=True):
                events.extend(
                    self._create(state, [rows[i] for i in member_rows], origin, homes, now, new_id, touched)
                )
            for i, theme_id in sorted(plan.joins.items()):
                events.extend(self._settle(state, rows[i], homes, theme_id, now, touched))
            state.invalidate()
        events.extend(self._merge_close(state, now=now, touched=touched))
        settled = [sid for sid, m in state.pool.items() if settle_all or m.waited >= cfg.provisional_wait]
        events.extend(self._reassign_pool(state, now=now, touched=touched, settle_all=settle_all))
        founded = self._found_emerging(state, settled, now=now, new_id=new_id, touched=touched)
        events.extend(founded)
        if founded and cfg.settle_after_emerging:
            still = set(settled) & set(state.pool)
            events.extend(self._reassign_pool(state, now=now, touched=touched, settle_all=True, only=still))
        if cfg.merge_emerging:
            events.extend(self._merge_emerging(state, now=now, touched=touched))
        themes = list(state.themes.values())
        changed = set(relabel(themes, top_n=cfg.label_words)) if themes else set()
        for theme_id in sorted((touched | changed) & set(state.themes)):
            events.append(_updated(state.themes[theme_id], at=now, suggestion_id=None))
        state.seen_at_recluster = state.seen
        state.added_since_recluster = 0
        # asks that waited their turn (a re-cluster while suggestions keep arriving): the pause after
        # the stream re-clusters for them even if nothing new but repeats came (ProductThemes.unsettled)
        ready = set(settled)
        state.waiting_since_recluster = sum(1 for sid in state.pool if sid not in ready)
        state.last_recluster_at = now
        logger.info(
            "recluster %s: %d rows, %d themes, %d pooled",
            state.product,
            len(rows),
            len(state.themes),
            len(state.pool),
        )
        return state, events

    def _merge(self, state: ProductThemes, *, old_id: str, into_id: str) -> None:
        old = state.themes.pop(old_id)
        into = state.themes[into_id]
        into.vector_sum += old.vector_sum
        into.member_count += old.member_count
        into.mention_count += old.mention_count
        into.engagement += old.engagement
        into.tone += old.tone
        into.authors.update(old.authors)
        for key, n in old.platforms.items():
            into.platforms[key] = into.platforms.get(key, 0) + n
        for key, n in old.weeks.items():
            into.weeks[key] = into.weeks.get(key, 0) + n
        into.first_seen = min(into.first_seen, old.first_seen)
        into.last_seen = max(into.last_seen, old.last_seen)
        into.name = into.name or old.name  # a name a person gave survives the merge
        # themes kept apart from the old one are kept apart from what holds its asks now
        into.apart |= old.apart
        into.apart.discard(into_id)
        into.pinned |= old.pinned
        for theme in state.themes.values():
            if old_id in theme.apart:
                theme.apart.discard(old_id)
                if theme.theme_id != into_id:
                    theme.apart.add(into_id)
        # Keep the merged sample proportional to each side's member count.
        k = self.config.sample_per_theme
        total = max(into.member_count, 1)
        keep_old = min(len(old.sample), round(k * old.member_count / total))
        keep_into = min(len(into.sample), k - keep_old)
        keep_old = min(len(old.sample), k - keep_into)
        into.sample = into.sample[:keep_into] + old.sample[:keep_old]
        combined = into.provisional + old.provisional
        into.provisional = combined[-2 * k :]
        for extra in combined[: -2 * k]:
            into.promote(extra, sample_size=k)

    def _create(
        self,
        state: ProductThemes,
        members: list[Member],
        origin: str | None,
        homes: dict[str, str],
        now: datetime,
        new_id: IdFactory,
        touched: set[str],
    ) -> list[ThemeEvent]:
        if origin is not None and origin not in state.themes:
            return []
        theme_id = new_id()
        theme = ThemeRecord.empty(
            theme_id=theme_id,
            product=state.product,
            dim=state.dim,
            at=now,
            author_cap=self.config.max_exact_authors,
        )
        placed: list[ThemeEvent] = []
        moved: list[str] = []
        for member in sorted(members, key=lambda m: m.created_at):
            sid = member.suggestion_id
            home = self._home(state, sid, homes)
            if sid in state.pool:
                del state.pool[sid]
                placed.append(SuggestionPlaced(state.product, sid, theme_id, None, None, now))
            elif home is not None:
                state.themes[home].release(member)
                placed.append(SuggestionPlaced(state.product, sid, theme_id, home, None, now))
                touched.add(home)
            elif origin is not None and state.themes[origin].holds(sid):
                state.themes[origin].release(member)
                moved.append(sid)
            else:
                continue
            theme.absorb(member, sample_size=self.config.sample_per_theme)
        if theme.member_count == 0:
            return []
        state.themes[theme_id] = theme
        relabel([theme], top_n=self.config.label_words)
        events: list[ThemeEvent] = [
            ThemeCreated(
                state.product,
                theme_id,
                theme.label,
                tuple(theme.keywords),
                tuple(m.suggestion_id for m in members),
                now,
            )
        ]
        if origin is not None:
            events.append(ThemeSplit(state.product, origin, (theme_id,), ((theme_id, tuple(moved)),), now))
            touched.add(origin)
        touched.add(theme_id)
        return events + placed

    def _found_emerging(
        self, state: ProductThemes, settled: list[str], *, now: datetime, new_id: IdFactory, touched: set[str]
    ) -> list[ThemeEvent]:
        """Pool items that waited their turn and are still alone: groups that agree found themes
        (see :func:`models.themes.emerging.emerging_groups`).
        """
        alone = [state.pool[sid] for sid in settled if sid in state.pool and self._may_found(state.pool[sid])]
        alone = alone[-self.config.max_recluster_pool :]
        if len(alone) < 2:
            return []
        vectors = np.stack([m.vector for m in alone]).astype(np.float32)
        groups = emerging_groups(
            vectors,
            [m.authors for m in alone],
            threshold=self.config.emerging_threshold,
            min_authors=self.config.emerging_min_authors,
        )
        events: list[ThemeEvent] = []
        for rows in groups:
            events.extend(self._create(state, [alone[i] for i in rows], None, {}, now, new_id, touched))
        if groups:
            state.invalidate()
        return events

    def _may_found(self, member: Member) -> bool:
        """Whether ``member`` may take part in founding a theme (ThemeConfig.other_languages_found)."""
        return self.config.other_languages_found or not reads_as_other_language(member.text)

    def _home(self, state: ProductThemes, suggestion_id: str, homes: dict[str, str]) -> str | None:
        """Current theme of a provisional member (following this re-cluster's merges), else ``None``."""
        home = homes.get(suggestion_id)
        while home is not None and home in self._merged:
            home = self._merged[home]
        if home is None or home not in state.themes:
            return None
        return home if any(m.suggestion_id == suggestion_id for m in state.themes[home].provisional) else None

    def _settle(
        self,
        state: ProductThemes,
        member: Member,
        homes: dict[str, str],
        target: str,
        now: datetime,
        touched: set[str],
    ) -> list[ThemeEvent]:
        """A pool item or provisional member that HDBSCAN put in ``target``'s cluster joins it, confirmed."""
        sid = member.suggestion_id
        if target not in state.themes:
            return []
        home = self._home(state, sid, homes)
        if sid in state.pool:
            del state.pool[sid]
        elif home == target:
            state.themes[target].promote(member, sample_size=self.config.sample_per_theme)
            return []
        elif home is not None and self.config.provisional_drift:
            state.themes[home].release(member)
            touched.add(home)
        else:
            return []
        state.themes[target].absorb(member, sample_size=self.config.sample_per_theme)
        touched.add(target)
        return [SuggestionPlaced(state.product, sid, target, home, None, now)]

    def _move(
        self,
        state: ProductThemes,
        members: list[Member],
        owners: list[str | None],
        target: str,
        now: datetime,
        touched: set[str],
    ) -> list[ThemeEvent]:
        events: list[ThemeEvent] = []
        if target not in state.themes:
            return events
        for member, owner in zip(members, owners, strict=True):
            if owner is None or owner not in state.themes:
                continue
            source = state.themes[owner]
            if not any(m.suggestion_id == member.suggestion_id for m in source.sample):
                continue
            source.release(member)
            state.themes[target].absorb(member, sample_size=self.config.sample_per_theme)
            events.append(SuggestionPlaced(state.product, member.suggestion_id, target, owner, None, now))
            touched.update((owner, target))
        return events

    def _merge_close(self, state: ProductThemes, *, now: datetime, touched: set[str]) -> list[ThemeEvent]:
        """Merge themes whose centroids have cosine >= ``merge_similarity`` (smaller into larger)."""
        events: list[ThemeEvent] = []
        while True:
            ids, matrix = state.centroid_index()
            if len(ids) < 2:
                return events
            sims = matrix @ matrix.T
            np.fill_diagonal(sims, -1.0)
            position = {tid: k for k, tid in enumerate(ids)}
            for k, tid in enumerate(ids):
                for other in state.themes[tid].apart & position.keys():
                    sims[k, position[other]] = sims[position[other], k] = -1.0
            a, b = np.unravel_index(int(np.argmax(sims)), sims.shape)
            if sims[a, b] < self.config.merge_similarity:
                return events
            first, second = state.themes[ids[int(a)]], state.themes[ids[int(b)]]
            keep, drop = (first, second) if first.member_count >= second.member_count else (second, first)
            events.append(self._merge_pair(state, keep=keep, drop=drop, now=now, touched=touched))

    def _merge_pair(
        self, state: ProductThemes, *, keep: ThemeRecord, drop: ThemeRecord, now: datetime, touched: set[str]
    ) -> ThemeMerged:
        """A merge of this re-cluster: ``drop`` into ``keep``, remembered for the provisional members."""
        self._merge(state, old_id=drop.theme_id, into_id=keep.theme_id)
        self._merged[drop.theme_id] = keep.theme_id
        touched.discard(drop.theme_id)
        touched.add(keep.theme_id)
        state.invalidate()
        return ThemeMerged(state.product, (drop.theme_id,), keep.theme_id, now)

    def _merge_emerging(self, state: ProductThemes, *, now: datetime, touched: set[str]) -> list[ThemeEvent]:
        """Merge an emerging theme into the nearest theme it would have been founded with: the two
        centres at ``found_threshold`` or more, and every sampled member of the smaller theme (of
        both, when both are emerging) at ``found_threshold`` or more to their joint centre, the test
        a theme born in the pool passes. Closest pairs first, until no pair passes.
        """
        cfg = self.config
        events: list[ThemeEvent] = []
        while True:
            ids, matrix = state.centroid_index()
            small = [i for i, tid in enumerate(ids) if is_emerging(state.themes[tid], cfg)]
            if not small or len(ids) < 2:
                return events
            sims = matrix[small] @ matrix.T
            sims[np.arange(len(small)), small] = -1.0
            rows, cols = np.nonzero(sims >= cfg.found_threshold)
            for k in np.argsort(-sims[rows, cols], kind="stable"):
                first, second = state.themes[ids[small[rows[k]]]], state.themes[ids[cols[k]]]
                if kept_apart(state, first.theme_id, second.theme_id):
                    continue
                keep, drop = (first, second) if first.member_count >= second.member_count else (second, first)
                centre = keep.vector_sum + drop.vector_sum
                centre = centre / max(float(np.linalg.norm(centre)), 1e-12)
                checked = drop.members
                if is_emerging(second, cfg):
                    checked = checked + keep.members
                if not checked:
                    continue
                vectors = np.stack([m.vector for m in checked]).astype(np.float64)
                if float((vectors @ centre).min()) >= cfg.found_threshold:
                    events.append(self._merge_pair(state, keep=keep, drop=drop, now=now, touched=touched))
                    break
            else:
                return events

    def _reassign_pool(
        self,
        state: ProductThemes,
        *,
        now: datetime,
        touched: set[str],
        settle_all: bool,
        only: set[str] | None = None,
    ) -> list[ThemeEvent]:
        """Pool items join their nearest theme provisionally at cosine >= ``reassign_threshold``
        (unless ``settle_all`` is off and they have not waited ``provisional_wait`` re-clusters);
        provisional members move to a nearer theme if one now exists.
        """
        items: list[tuple[Member, str | None]] = []
        for member in state.pool.values():
            if only is not None and member.suggestion_id not in only:
                continue
            if not settle_all and member.waited < self.config.provisional_wait:
                member.waited += 1
            else:
                items.append((member, None))
        ids, matrix = state.centroid_index()
        if not ids:
            return []
        if self.config.provisional_drift and only is None:
            for theme_id, theme in state.themes.items():
                items.extend((m, theme_id) for m in theme.provisional)
        if not items:
            return []
        item_vectors = np.stack([m.vector for m, _ in items])
        sims = item_vectors @ matrix.T
        best = sims.argmax(axis=1)
        partner = np.full(len(items), -1.0)
        first_authors = [m.authors[0] if m.authors else "" for m, _ in items]
        if only is None and self.config.wait_for_partner:
            # A pool item's own paraphrase by another person, still in the pool: they found an
            # emerging theme together rather than the item joining a theme it resembles less.
            alone = np.array([home is None for _, home in items])
            joining = alone & (sims[np.arange(len(items)), best] >= self.config.reassign_threshold)
            partner = _best_other_person(item_vectors, first_authors, queries=joining, corpus=alone)
        events: list[ThemeEvent] = []
        waiting: list[int] = []  # items that wait for a partner to found a theme with

        def join(k: int) -> None:
            item, home = items[k]
            sim, theme_id = float(sims[k, best[k]]), ids[int(best[k])]
            if home is None:
                del state.pool[item.suggestion_id]
            else:
                state.themes[home].release(item)
                touched.add(home)
            state.themes[theme_id].absorb(item, sample_size=self.config.sample_per_theme, provisional=True)
            events.append(SuggestionPlaced(state.product, item.suggestion_id, theme_id, home, sim, now))
            touched.add(theme_id)

        for k, ((_, home), row, j, mate) in enumerate(zip(items, sims, best, partner, strict=True)):
            sim = float(row[j])
            if sim < self.config.reassign_threshold or ids[int(j)] == home:
                continue
            if mate >= self.config.join_threshold and mate > sim:
                waiting.append(k)
                continue
            join(k)
        # A partner that joined a theme itself founds nothing with the item waiting for it: the item
        # is judged again against the partners still in the pool (a chain of them, one link a pass),
        # so that it does not stay alone until the next re-cluster, which may be a day away.
        while waiting:
            still = np.array([home is None and m.suggestion_id in state.pool for m, home in items])
            asking = np.zeros(len(items), dtype=bool)
            asking[waiting] = True
            mates = _best_other_person(item_vectors, first_authors, queries=asking, corpus=still)
            bound = self.config.join_threshold
            free = [k for k in waiting if not (mates[k] >= bound and mates[k] > sims[k, best[k]])]
            if not free:
                break
            for k in free:
                join(k)
            waiting = [k for k in waiting if k not in free]
        state.invalidate()
        return events


def _best_other_person(
    vectors: npt.NDArray[np.float32],
    authors: list[str],
    *,
    queries: npt.NDArray[np.bool_],
    corpus: npt.NDArray[np.bool_],
    chunk: int = 1024,
) -> npt.NDArray[np.float64]:
    """Each ``queries`` row's best cosine to a ``corpus`` row of another author (``-1`` when none);
    ``-1`` for the other rows. Computed in blocks of ``chunk`` query rows.
    """
    out = np.full(len(vectors), -1.0)
    asking, among = np.flatnonzero(queries), np.flatnonzero(corpus)
    if len(asking) == 0 or len(among) == 0:
        return out
    _, codes = np.unique(np.array(authors), return_inverse=True)
    for start in range(0, len(asking), chunk):
        rows = asking[start : start + chunk]
        sims = vectors[rows] @ vectors[among].T
        sims[codes[rows][:, None] == codes[among][None, :]] = -1.0
        out[rows] = sims.max(axis=1)
    return out


def kept_apart(state: ProductThemes, first: str, second: str) -> bool:
    """Whether a person kept the two themes apart (either record says so)."""
    one, other = state.themes.get(first), state.themes.get(second)
    return (one is not None and second in one.apart) or (other is not None and first in other.apart)
