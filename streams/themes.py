"""The themes agent: place each valid suggestion in a theme; keep state in faust tables.

Reads ``feedback.suggestions``, ``feedback.theme-ticks``, ``feedback.theme-commands`` and
``feedback.praise``, all keyed by product, in one agent: one product's suggestions, time steps,
commands (a product manager's decisions, reviews of possible duplicates, erasures) and praise
reach one partition and one worker and change its state in one sequence. State lives in the
changelog-backed tables of :mod:`streams.theme_tables` (key layout: :mod:`models.themes.tables`).

Each input goes to :class:`~models.themes.service.ThemesService`, which returns its effects as
data; this module applies them in order (:class:`EffectSink`). Outputs go to the compacted
``feedback.themes`` (latest :class:`ThemeChanged` per theme) and ``feedback.theme-members``,
and for commands to ``feedback.closures`` and ``feedback.theme-outcomes`` (each exactly once,
through a ledger on its key: :func:`~streams.publish.send_once`). Outputs are sent and
acknowledged before the tables are written, and a command's closure goes out first, then its
snapshots, then its outcome, then its tables (:mod:`models.themes.command_effects`). A crash
anywhere in between re-delivers the input: a suggestion whose step both tables hold is passed
over (if the crash came first, or left its member entry stored without the state, it is
recomputed from the state to the same ids and snapshots:
:func:`~models.themes.service.stored_already`); a command derives the same closure key and
outcome, and the ledgers let nothing out twice. After each input,
:class:`~models.themes.impact_effects.ImpactService` follows the shipped closures for 12
event-time weeks and publishes ``feedback.closure-impact`` (each closure, week and version once).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import faust

from contracts.events import SuggestionDetected, event_json
from contracts.impact import PraiseDetected
from contracts.settings import Settings
from contracts.topics import (
    CLOSURE_IMPACT,
    CLOSURES,
    PRAISE,
    SUGGESTIONS,
    THEME_COMMANDS,
    THEME_MEMBERS,
    THEME_OUTCOMES,
    THEME_TICKS,
    THEMES,
)
from models.duplicates import DuplicateConfig
from models.embedding import Embedder
from models.factories import closure_templates, scoring_weights
from models.themes.command_effects import failed_command_effects
from models.themes.config import ThemeConfig
from models.themes.effects import MEMBERS, STATE, Effects, TableWrite
from models.themes.engine import ThemeEngine
from models.themes.impact_effects import ImpactService, ledger_entry
from models.themes.service import ThemesService
from streams import failpoints
from streams.continuity import continuity_guard
from streams.dead_letters import StageGuard, UnreadableRecordError
from streams.holding import held_events
from streams.ledger import OutputLedger
from streams.metrics import WorkerMetrics
from streams.publish import send_once
from streams.theme_tables import FaustThemeTables
from streams.topics import raw_topic

logger = logging.getLogger(__name__)

T = TypeVar("T")

MEMBERS_BEFORE_STATE = "themes-members-before-state"


class EffectSink:
    """Applies a service's :class:`Effects` in order: records to their topics, writes to the tables.

    Records that are not published once are sent without waiting; all of them are acknowledged
    before the next publish-once record or table write, and before :meth:`apply` returns.
    """

    def __init__(
        self,
        topics: dict[str, Any],
        ledgers: dict[str, OutputLedger],
        tables: FaustThemeTables,
        *,
        flush: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.topics = topics
        self.ledgers = ledgers
        self.tables = tables
        self.flush = flush  # waits until everything sent (table writes too) is acknowledged

    async def apply(self, effects: Effects) -> None:
        pending: list[Any] = []
        last_table: str | None = None
        for item in effects.items:
            if isinstance(item, TableWrite):
                await _settle(pending)
                if last_table == MEMBERS and item.table == STATE:
                    await self._between_tables()
                self.tables.apply(item)
                last_table = item.table
                continue
            topic = self.topics[item.topic.name]
            value = None if item.value is None else event_json(item.value)
            if not item.once:
                pending.append(
                    await topic.send(key=item.key.encode(), value=value, partition=item.partition, force=True)
                )
                continue
            await _settle(pending)
            assert item.partition is not None  # a record published once goes to its input's partition
            ledger = self.ledgers[item.topic.name]
            if await send_once(
                topic, key=item.key, value=value, partition=item.partition, ledger=ledger,
                ledger_key=item.ledger_key,
            ):
                if item.log:
                    logger.info("%s", item.log)
                if item.checkpoint:
                    failpoints.hit(item.checkpoint)
        await _settle(pending)

    async def _between_tables(self) -> None:
        """A crash test's point: the member entries of a step are on their changelog, the state's
        writes of the step are not (the two changelogs are written in no order between them).
        """
        if failpoints.armed(MEMBERS_BEFORE_STATE) and self.flush is not None:
            await self.flush()
            failpoints.hit(MEMBERS_BEFORE_STATE)


async def _settle(pending: list[Any]) -> None:
    await asyncio.gather(*pending)
    pending.clear()


def register_themes(
    app: faust.App,
    settings: Settings,
    *,
    metrics: WorkerMetrics | None = None,
    embedder: Embedder | None = None,
) -> None:
    """Declare the themes agent and its tables on ``app``; its dead letters are counted in ``metrics``.
    ``embedder`` (shared with the classify stage, so serialized) judges a closure's asks against
    what shipped; without it a closure applies the time rule alone.
    """
    metrics = metrics if metrics is not None else WorkerMetrics()
    suggestions_name, ticks_name = settings.topic_name(SUGGESTIONS), settings.topic_name(THEME_TICKS)
    commands_name, praise_name = settings.topic_name(THEME_COMMANDS), settings.topic_name(PRAISE)
    inputs = app.topic(
        suggestions_name,
        ticks_name,
        commands_name,
        praise_name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.topic_partitions,
    )
    ticks = raw_topic(app, THEME_TICKS, settings)
    outputs = {
        spec.name: raw_topic(app, spec, settings)
        for spec in (THEMES, THEME_MEMBERS, THEME_OUTCOMES, CLOSURES, CLOSURE_IMPACT)
    }
    ledgers = {
        spec.name: OutputLedger(bootstrap_servers=settings.bootstrap_servers, topic=settings.topic_name(spec))
        for spec in (CLOSURES, THEME_OUTCOMES)
    }
    ledgers[CLOSURE_IMPACT.name] = OutputLedger(
        bootstrap_servers=settings.bootstrap_servers,
        topic=settings.topic_name(CLOSURE_IMPACT),
        entry_of=ledger_entry,
    )
    impact = ImpactService(embedder=embedder)
    engine = ThemeEngine(
        ThemeConfig(recluster_interval=timedelta(seconds=settings.theme_recluster_interval_s))
    )
    service = ThemesService(
        engine=engine,
        templates=closure_templates(settings),
        duplicates=DuplicateConfig(),
        weights=scoring_weights(settings),
        embedder=embedder if settings.closure_relevance else None,
    )
    tables = FaustThemeTables(app, settings, dim=384, duplicates=service.duplicates)

    async def flush() -> None:
        await app.producer.flush()

    sink = EffectSink(outputs, ledgers, tables, flush=flush)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="youasked-themes")
    steps = metrics.steps("themes")
    guard = continuity_guard(
        app, settings, [suggestions_name, ticks_name, commands_name, praise_name], busy=steps.seconds
    )
    stage = StageGuard(
        app,
        settings,
        stage="themes",
        inputs=(SUGGESTIONS, THEME_TICKS, THEME_COMMANDS, PRAISE),
        metrics=metrics,
    )
    last_step: dict[str, float] = {}
    resumed: set[str] = set()  # products asked to load since the last assignment

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def _forget(app: faust.App, assigned: Any, **_: Any) -> None:
        tables.forget()
        resumed.clear()
        stage.forget()
        for ledger in ledgers.values():
            ledger.forget()

    async def in_thread(step: Callable[[], T]) -> T:
        """Run ``step`` in the themes thread, counted as a running step (a re-cluster of a large
        product takes a while, and the first UMAP a minute on a busy machine: busy, not stalled).
        """
        with steps.running():
            return await asyncio.get_running_loop().run_in_executor(executor, step)

    async def handle(message: Any) -> None:
        """One record of a commands, ticks, praise or suggestions partition."""
        now = datetime.now(UTC)
        partition = message.partition
        if message.topic == commands_name:
            effects = service.command(tables, message, now=now)
            await sink.apply(impact.after_command(tables, message, effects, partition=partition, now=now))
            return
        if message.topic == praise_name:
            try:
                praise = PraiseDetected.model_validate_json(message.value)
            except ValueError as exc:
                raise UnreadableRecordError(f"not a PraiseDetected: {exc}") from exc
            if (message.key or b"").decode("utf-8", "replace") != praise.comment.product:
                raise UnreadableRecordError("praise is keyed by its comment's product")
            followed = await in_thread(partial(impact.praise, tables, praise, partition=partition, now=now))
            if not followed.passed_over:
                await sink.apply(followed)
            return
        if message.topic == ticks_name:
            product = (message.key or b"").decode("utf-8", "replace")
            if not product:
                return
            idle = message.value == b"idle"  # "due" and "resume" re-cluster only when due
            effects = await in_thread(partial(service.tick, tables, product, idle=idle, now=now))
            followed = await in_thread(
                partial(impact.after_tick, tables, product, effects, partition=partition, now=now)
            )
        else:
            try:
                detected = SuggestionDetected.model_validate_json(message.value)
            except ValueError as exc:
                raise UnreadableRecordError(f"not a SuggestionDetected: {exc}") from exc
            product = detected.comment.product
            effects = await in_thread(partial(service.suggestion, tables, detected, now=now))
            followed = await in_thread(
                partial(impact.after_suggestion, tables, detected, effects, partition=partition, now=now),
            )
        if effects.passed_over:
            logger.info("%s", effects.passed_over)
            return
        await sink.apply(effects)
        await sink.apply(followed)
        last_step[product] = time.monotonic()

    async def handle_or_reload(message: Any) -> None:
        try:
            await handle(message)
        except Exception:
            # A step that raised may have left a product's loaded state half-changed: reload
            # every product from the tables (written only after a step's outputs) before going on.
            tables.forget()
            raise

    async def answer_failed_command(message: Any, error: BaseException) -> None:
        """A command set aside: tell the person waiting on it that it failed, and why."""
        failed = failed_command_effects(message, error, now=datetime.now(UTC))
        try:
            await stage.retrying(partial(sink.apply, failed), what="a failed command's outcome")
        except Exception:
            logger.exception("themes: the outcome of a set-aside command was not published")

    @app.agent(inputs, name="themes", concurrency=1)
    async def place(stream: Any) -> None:
        async for event in held_events(stream):
            async for message in guard.in_order(event.message):
                answer = partial(answer_failed_command, message) if message.topic == commands_name else None
                await stage.run(message, partial(handle_or_reload, message), on_set_aside=answer)

    @app.timer(interval=settings.theme_tick_interval_s)  # type: ignore[untyped-decorator]
    async def send_ticks() -> None:
        """Ask each product this worker holds to re-cluster when due by time (or never done)."""
        now = datetime.now(UTC)
        # A rebalance drops the loaded products, and a product is loaded again by its next input: one
        # with asks waiting for a re-cluster and no more input would wait for ever. Each stored product
        # not loaded gets one tick per assignment (to its own partition, so its holder loads it);
        # from then on it is loaded, and ticked when quiet as below.
        for product in sorted(tables.stored_products() - set(tables.loaded) - resumed):
            resumed.add(product)
            await ticks.send(key=product.encode(), value=b"resume")
        for product, work in list(tables.loaded.items()):
            state = work.themes
            quiet = time.monotonic() - last_step.get(product, 0.0) >= settings.theme_idle_recluster_s
            if quiet and state.unsettled:
                await ticks.send(key=product.encode(), value=b"idle")
            elif engine.recluster_due(state, now=now):
                await ticks.send(key=product.encode(), value=b"due")
