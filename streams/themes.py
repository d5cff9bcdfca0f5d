"""The themes agent: place each valid suggestion in a theme; keep state in faust tables.

Reads ``feedback.suggestions`` (keyed by product, so one product's suggestions reach one
partition and one worker). State lives in changelog-backed tables partitioned like that topic:

* ``theme-state``: ``meta:<product>``, ``theme:<id>``, ``pool:<id>`` and ``lineage:<product>``
  records (each well below 1 MB), from which a restarted or moved worker rebuilds the engine;
  ``life:<theme>`` and ``outcome:<command>`` of the commands; ``erased:<product>:<author hash>``,
  when a person was erased (their earlier suggestions, delivered again, stay out);
* ``theme-members``: suggestion id -> its :class:`SuggestionThemed` record (who asked, where).

Outputs go to the compacted ``feedback.themes`` (latest :class:`ThemeChanged` per theme) and
``feedback.theme-members``. Outputs are sent and acknowledged before the tables are written;
a suggestion re-delivered after a crash is recognised by its id in ``theme-members`` (or, if
the crash came first, recomputed from the same state to the same ids and snapshots).

The same agent reads ``feedback.theme-commands`` (keyed by product too), so a product
manager's decisions and the clustering change one product's state in one sequence. Reviews
of possible duplicates and erasures (:mod:`models.people_commands`) come the same way. Per
command (:func:`models.theme_commands.apply_theme_command`): the closure it causes is
published first (``feedback.closures``, exactly once through a ledger on the closure key),
then the theme snapshots, then the outcome (``feedback.theme-outcomes``, ledgered on the
command id), and last the tables (``life:<theme>``, ``outcome:<command>``). A crash anywhere
in between re-delivers the command, which derives the same closure key and outcome, and the
ledgers let nothing out twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import faust
import numpy as np
from pydantic import ValidationError

from contracts.events import (
    DuplicateKind,
    SuggestionDetected,
    SuggestionThemed,
    ThemeStatus,
    event_json,
)
from contracts.lifecycle import CommandKind, CommandOutcome, ThemeCommand, hash_author
from contracts.settings import Settings
from contracts.topics import (
    CLOSURES,
    SUGGESTIONS,
    THEME_COMMANDS,
    THEME_MEMBERS,
    THEME_OUTCOMES,
    THEME_TICKS,
    THEMES,
)
from models.duplicates import DuplicateConfig
from models.factories import closure_templates, scoring_weights
from models.lifecycle import ThemeState
from models.people_commands import REVIEW_KINDS, apply_erasure, apply_review_command
from models.theme_commands import (
    apply_theme_command,
    closure_event,
    lifecycle_of,
)
from models.themes.config import ThemeConfig
from models.themes.engine import ThemeEngine
from models.themes.records import Suggestion, ThemeRecord
from models.themes.workflow import Lineage, ProductWork, StepResult, place_suggestion, tick
from streams import failpoints
from streams.continuity import continuity_guard
from streams.dead_letters import StageGuard, UnreadableRecordError
from streams.ledger import OutputLedger
from streams.metrics import WorkerMetrics
from streams.theme_records import ThemeStore, default_title, theme_snapshot, unreadable_command
from streams.topics import raw_topic

logger = logging.getLogger(__name__)


def register_themes(app: faust.App, settings: Settings, *, metrics: WorkerMetrics | None = None) -> None:
    """Declare the themes agent and its tables on ``app``; its dead letters are counted in ``metrics``."""
    metrics = metrics if metrics is not None else WorkerMetrics()
    suggestions_name, ticks_name = settings.topic_name(SUGGESTIONS), settings.topic_name(THEME_TICKS)
    commands_name = settings.topic_name(THEME_COMMANDS)
    # One agent reads the three topics, so a product's suggestions, time steps and commands
    # never interleave.
    inputs = app.topic(
        suggestions_name,
        ticks_name,
        commands_name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.topic_partitions,
    )
    ticks = raw_topic(app, THEME_TICKS, settings)
    themes_out = raw_topic(app, THEMES, settings)
    members_out = raw_topic(app, THEME_MEMBERS, settings)
    outcomes_out = raw_topic(app, THEME_OUTCOMES, settings)
    closures_out = raw_topic(app, CLOSURES, settings)
    closures_done = OutputLedger(
        bootstrap_servers=settings.bootstrap_servers, topic=settings.topic_name(CLOSURES)
    )
    outcomes_done = OutputLedger(
        bootstrap_servers=settings.bootstrap_servers, topic=settings.topic_name(THEME_OUTCOMES)
    )
    templates = closure_templates(settings)
    weights = scoring_weights(settings)
    partitions = settings.topic_partitions
    state_table = app.Table("theme-state", default=None, partitions=partitions, key_type=str)
    members_table = app.Table("theme-members", default=None, partitions=partitions, key_type=str)
    engine = ThemeEngine(
        ThemeConfig(recluster_interval=timedelta(seconds=settings.theme_recluster_interval_s))
    )
    duplicates = DuplicateConfig()
    store = ThemeStore(state_table, dim=384, duplicates=duplicates)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="youasked-themes")
    guard = continuity_guard(app, settings, [suggestions_name, ticks_name, commands_name])
    stage = StageGuard(
        app, settings, stage="themes", inputs=(SUGGESTIONS, THEME_TICKS, THEME_COMMANDS), metrics=metrics
    )

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def _forget(app: faust.App, assigned: Any, **_: Any) -> None:
        store.forget()
        stage.forget()
        closures_done.forget()
        outcomes_done.forget()

    def life_of(theme_id: str) -> ThemeState | None:
        stored = state_table.get(f"life:{theme_id}")
        return None if stored is None else ThemeState.from_dict(stored)

    async def publish(
        work: ProductWork,
        result: StepResult,
        detected: SuggestionDetected | None,
        now: datetime,
        retired: dict[str, dict[str, Any]],
    ) -> dict[str, dict[str, Any]]:
        """Send the snapshots and member records of ``result``; return the member records to store."""
        pending = []
        state = work.themes
        for theme_id, change in sorted(result.changed.items()):
            if theme_id in state.themes:
                snapshot = theme_snapshot(
                    state.themes[theme_id],
                    work.lineage.get(theme_id, Lineage()),
                    change=change,
                    now=now,
                    life=life_of(theme_id),
                    weights=weights,
                )
                pending.append(
                    await themes_out.send(key=theme_id.encode(), value=event_json(snapshot), force=True)
                )
        for old, new in result.merged.items():
            record = ThemeRecord.from_dict(retired[old]) if old in retired else None
            if record is None:
                continue
            snapshot = theme_snapshot(
                record,
                work.lineage.get(old, Lineage(merged_into=new)),
                change="merged",
                now=now,
                status=ThemeStatus.MERGED,
                life=life_of(old),
            )
            pending.append(await themes_out.send(key=old.encode(), value=event_json(snapshot), force=True))
        members: dict[str, dict[str, Any]] = {}
        for placement in result.placements:
            if detected is not None and placement.suggestion_id == detected.suggestion_id:
                comment = detected.comment
                record_out = SuggestionThemed(
                    suggestion_id=detected.suggestion_id,
                    product=comment.product,
                    theme_id=placement.theme_id,
                    duplicate_of=placement.duplicate_of,
                    duplicate_kind=DuplicateKind(placement.duplicate_kind)
                    if placement.duplicate_kind
                    else None,
                    similarity=placement.similarity,
                    platform=comment.platform,
                    comment_id=comment.comment_id,
                    author_id=comment.author_id,
                    author_handle=comment.author_handle,
                    url=comment.url,
                    thread_id=comment.thread_id,
                    text=comment.text,
                    asked_at=comment.created_at,
                    engagement=comment.engagement,
                    placed_at=now,
                )
            else:
                known = members_table.get(placement.suggestion_id)
                if known is None:
                    continue
                update: dict[str, Any] = {"theme_id": placement.theme_id, "placed_at": now.isoformat()}
                if placement.duplicate_kind is not None:  # a person's review of a possible duplicate
                    update.update(
                        duplicate_of=placement.duplicate_of, duplicate_kind=placement.duplicate_kind
                    )
                record_out = SuggestionThemed.model_validate({**known, **update})
            payload = record_out.model_dump(mode="json")
            members[record_out.suggestion_id] = payload
            pending.append(
                await members_out.send(
                    key=record_out.suggestion_id.encode(), value=event_json(record_out), force=True
                )
            )
        await asyncio.gather(*pending)
        return members

    def member_record(suggestion_id: str) -> SuggestionThemed | None:
        stored = members_table.get(suggestion_id)
        return None if stored is None else SuggestionThemed.model_validate(stored)

    def askers_of(theme_ids: set[str]) -> list[SuggestionThemed]:
        """Member records of ``theme_ids``, and (transitively) the duplicates attached to them."""
        attaching = (DuplicateKind.EXACT.value, DuplicateKind.AUTO.value)
        chosen: dict[str, dict[str, Any]] = {}
        duplicates: list[dict[str, Any]] = []
        for raw in members_table.values():  # plain dicts: validate only what is chosen
            if raw is None:
                continue
            if raw.get("theme_id") in theme_ids:
                chosen[raw["suggestion_id"]] = raw
            elif raw.get("duplicate_of") and raw.get("duplicate_kind") in attaching:
                duplicates.append(raw)
        grew = True
        while grew:
            extra = {
                raw["suggestion_id"]: raw
                for raw in duplicates
                if raw["suggestion_id"] not in chosen and raw["duplicate_of"] in chosen
            }
            chosen.update(extra)
            grew = bool(extra)
        return [SuggestionThemed.model_validate(raw) for raw in chosen.values()]

    def members_of_theme(theme_id: str) -> list[SuggestionThemed]:
        return [
            SuggestionThemed.model_validate(raw)
            for raw in members_table.values()
            if raw is not None and raw.get("theme_id") == theme_id
        ]

    async def run_erasure(
        command: ThemeCommand, work: ProductWork, lifecycle: Any, partition: int, *, now: datetime
    ) -> None:
        """Forget one person in one product: theme state, member records (tombstoned on
        ``feedback.theme-members``), emptied themes (tombstoned on ``feedback.themes``); then
        remember the erasure so that their older suggestions, if delivered again, stay out.
        """
        hashed = command.author_hash
        assert hashed is not None
        previous_pool = set(work.themes.pool)
        relevant: dict[str, dict[str, Any]] = {}
        for raw in members_table.values():
            if (
                raw is not None
                and raw.get("product") == command.product
                and hash_author(str(raw.get("platform")), str(raw.get("author_id"))) == hashed
            ):
                relevant[raw["suggestion_id"]] = raw
        for raw in members_table.values():
            if raw is not None and raw.get("duplicate_of") in relevant:
                relevant.setdefault(raw["suggestion_id"], raw)
        records = [SuggestionThemed.model_validate(raw) for raw in relevant.values()]
        done = apply_erasure(
            work, lifecycle, command, engine=engine, duplicates=duplicates, members=records, now=now
        )
        erased = done.erasure
        pending = []
        for theme_id in erased.removed_themes:
            pending.append(await themes_out.send(key=theme_id.encode(), value=None, force=True))
        members = await publish(work, done.result.step, None, now, {})
        for old, heir in erased.handed_over.items():  # the first repeat now holds the item
            for raw in relevant.values():
                if raw["suggestion_id"] in erased.forgotten:
                    continue
                if raw["suggestion_id"] == heir or raw.get("duplicate_of") == old:
                    mine = raw["suggestion_id"] == heir
                    record = SuggestionThemed.model_validate(
                        {
                            **raw,
                            "duplicate_of": None if mine else heir,
                            "duplicate_kind": None if mine else raw.get("duplicate_kind"),
                            "placed_at": now.isoformat(),
                        }
                    )
                    members[record.suggestion_id] = record.model_dump(mode="json")
                    pending.append(
                        await members_out.send(
                            key=record.suggestion_id.encode(), value=event_json(record), force=True
                        )
                    )
        for suggestion_id in erased.forgotten:
            pending.append(await members_out.send(key=suggestion_id.encode(), value=None, force=True))
        await asyncio.gather(*pending)
        for suggestion_id, payload in members.items():
            members_table[suggestion_id] = payload
        for suggestion_id in erased.forgotten:
            members_table.pop(suggestion_id, None)
        for theme_id in erased.removed_themes:
            state_table.pop(f"theme:{theme_id}", None)
            state_table.pop(f"life:{theme_id}", None)
        marker = f"erased:{command.product}:{hashed}"
        state_table[marker] = max(state_table.get(marker) or "", now.isoformat())
        await emit_outcome(done.result.outcome, partition)
        state_table[f"outcome:{command.command_id}"] = done.result.outcome.model_dump(mode="json")
        store.save(work, done.result.step, previous_pool=previous_pool, everything=True)

    def erased_before(detected: SuggestionDetected) -> bool:
        """Whether the author of ``detected`` was erased after writing it (a late or repeated
        delivery of what they asked to have forgotten).
        """
        comment = detected.comment
        who = hash_author(comment.platform.value, comment.author_id)
        stamp = state_table.get(f"erased:{comment.product}:{who}")
        return stamp is not None and comment.created_at <= datetime.fromisoformat(stamp)

    async def emit_outcome(outcome: CommandOutcome, partition: int) -> bool:
        """Publish ``outcome`` unless it is already on the topic; True when sent now."""
        if await outcomes_done.contains(partition, outcome.command_id):
            return False
        sent = await outcomes_out.send(
            key=outcome.command_id.encode(), value=event_json(outcome), partition=partition, force=True
        )
        await sent
        await outcomes_done.add(partition, outcome.command_id)
        logger.info(
            "command %s on %s: %s",
            outcome.command_id,
            outcome.theme_id,
            "accepted" if outcome.accepted else f"rejected ({outcome.code})",
        )
        return True

    async def run_command(message: Any) -> None:
        now = datetime.now(UTC)
        partition = message.partition
        try:
            command = ThemeCommand.model_validate_json(message.value)
        except ValidationError as error:
            await emit_outcome(unreadable_command(message, error, now=now), partition)
            return
        stored = state_table.get(f"outcome:{command.command_id}")
        if stored is not None:  # applied before a crash: report it again (the ledger keeps one copy)
            await emit_outcome(CommandOutcome.model_validate(stored), partition)
            return
        key = (message.key or b"").decode("utf-8", "replace")
        if key != command.product:
            outcome = CommandOutcome(
                command_id=command.command_id,
                product=command.product,
                theme_id=command.theme_id,
                kind=command.kind,
                accepted=False,
                code="wrong_key",
                message=f"theme commands are keyed by product: key {key!r} is not {command.product!r}",
                decided_at=now,
            )
            await emit_outcome(outcome, partition)
            return
        work = store.load(command.product)
        previous_pool = set(work.themes.pool)
        before = {tid: rec.to_dict() for tid, rec in work.themes.themes.items()}
        known = set(work.lineage) | set(work.themes.themes)
        lifecycle = lifecycle_of(
            {tid: stored for tid in known if (stored := state_table.get(f"life:{tid}")) is not None}
        )
        if command.kind is CommandKind.ERASE_AUTHOR:
            await run_erasure(command, work, lifecycle, partition, now=now)
            return
        if command.kind in REVIEW_KINDS:
            result = apply_review_command(
                work,
                lifecycle,
                command,
                engine=engine,
                member_of=member_record,
                members_of=members_of_theme,
                now=now,
            )
        else:
            result = apply_theme_command(
                work, lifecycle, command, engine=engine, member_of=member_record, now=now
            )
        if result.closure is not None:
            trigger = result.closure
            if not await closures_done.contains(partition, trigger.closure_key):
                live = work.themes.themes.get(trigger.theme_id)
                closure = closure_event(
                    trigger,
                    product=command.product,
                    title=command.title or default_title(live),
                    members=askers_of({trigger.theme_id, *trigger.merged_theme_ids}),
                    templates=templates,
                    command_id=command.command_id,
                    now=now,
                )
                sent = await closures_out.send(
                    key=trigger.closure_key.encode(),
                    value=event_json(closure),
                    partition=partition,
                    force=True,
                )
                await sent
                await closures_done.add(partition, trigger.closure_key)
                logger.info(
                    "closure %s: %s, %d people, %d comments",
                    trigger.closure_key,
                    trigger.outcome,
                    closure.people_count,
                    closure.comment_count,
                )
                failpoints.hit("after-closure-published")
        for theme_id in result.changed:
            if theme_id in result.lifecycle.themes:
                state_table[f"life:{theme_id}"] = result.lifecycle.themes[theme_id].to_dict()
        retired = {old: before[old] for old in result.step.merged if old in before}
        members = await publish(work, result.step, None, now, retired)
        for suggestion_id, payload in members.items():
            members_table[suggestion_id] = payload
        if await emit_outcome(result.outcome, partition):
            failpoints.hit("after-outcome-published")
        state_table[f"outcome:{command.command_id}"] = result.outcome.model_dump(mode="json")
        store.save(
            work,
            result.step,
            previous_pool=previous_pool,
            everything=bool(result.step.merged) or result.step.reclustered,
        )

    async def run_step(product: str, detected: SuggestionDetected | None, *, idle: bool = False) -> None:
        await _run_step(product, detected, idle=idle)
        store.last_step[product] = time.monotonic()

    async def _run_step(product: str, detected: SuggestionDetected | None, *, idle: bool) -> None:
        work = store.load(product)
        previous_pool = set(work.themes.pool)
        before = {tid: rec.to_dict() for tid, rec in work.themes.themes.items()}
        now = datetime.now(UTC)
        loop = asyncio.get_running_loop()
        if detected is not None:
            comment = detected.comment
            suggestion = Suggestion(
                suggestion_id=detected.suggestion_id,
                product=product,
                author_key=f"{comment.platform.value}:{comment.author_id}",
                platform=comment.platform.value,
                created_at=comment.created_at,
                text=comment.text,
                vector=np.asarray(detected.embedding, dtype=np.float32),
            )

            def theme_of(suggestion_id: str) -> str | None:
                known = members_table.get(suggestion_id)
                return None if known is None else known.get("theme_id")

            result = await loop.run_in_executor(
                executor,
                lambda: place_suggestion(
                    work, suggestion, engine=engine, duplicates=duplicates, theme_of=theme_of, now=now
                ),
            )
        else:
            result = await loop.run_in_executor(
                executor, lambda: tick(work, engine=engine, now=now, idle=idle)
            )
        retired = {old: before[old] for old in result.merged if old in before}
        members = await publish(work, result, detected, now, retired)
        for suggestion_id, payload in members.items():
            members_table[suggestion_id] = payload
        store.save(
            work, result, previous_pool=previous_pool, everything=result.reclustered or bool(result.merged)
        )

    async def handle(message: Any) -> None:
        """One record of a commands, ticks or suggestions partition."""
        if message.topic == commands_name:
            await run_command(message)
            return
        if message.topic == ticks_name:
            product = (message.key or b"").decode("utf-8", "replace")
            if product:
                await run_step(product, None, idle=message.value == b"idle")
            return
        try:
            detected = SuggestionDetected.model_validate_json(message.value)
        except ValueError as exc:
            raise UnreadableRecordError(f"not a SuggestionDetected: {exc}") from exc
        if members_table.get(detected.suggestion_id) is not None:
            logger.info("re-delivered suggestion %s passed over", detected.suggestion_id)
            return
        if erased_before(detected):
            logger.info("suggestion %s of an erased author passed over", detected.suggestion_id)
            return
        await run_step(detected.comment.product, detected)
        logger.debug("placed %s", detected.suggestion_id)

    async def handle_or_reload(message: Any) -> None:
        try:
            await handle(message)
        except Exception:
            # A step that raised may have left a product's loaded state half-changed: reload
            # every product from the tables (written only after a step's outputs) before going on.
            store.forget()
            raise

    @app.agent(inputs, name="themes", concurrency=1)
    async def place(stream: Any) -> None:
        async for event in stream.events():
            async for message in guard.in_order(event.message):
                await stage.run(message, partial(handle_or_reload, message))

    @app.timer(interval=settings.theme_tick_interval_s)  # type: ignore[untyped-decorator]
    async def send_ticks() -> None:
        """Ask each product this worker holds to re-cluster when due by time (or never done)."""
        now = datetime.now(UTC)
        for product, work in list(store.loaded.items()):
            state = work.themes
            quiet = time.monotonic() - store.last_step.get(product, 0.0) >= settings.theme_idle_recluster_s
            if quiet and state.added_since_recluster > 0:
                await ticks.send(key=product.encode(), value=b"idle")
            elif engine.recluster_due(state, now=now):
                await ticks.send(key=product.encode(), value=b"due")
