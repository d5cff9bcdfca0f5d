"""What the API prepares in the background at start-up, so no request waits for it.

* :class:`ModelLoader` loads the embedding model semantic search needs (seconds) as soon as the
  app starts; ``/ready`` reports not ready until it has.
* :func:`keep_starting` starts the Kafka producer, trying again with backoff while the broker is
  unreachable (requests that need it answer 503 meanwhile), and :func:`keep_ensuring_topics`
  creates the declared topics that do not exist yet, so a send never waits on a topic nobody
  created.

Blocking work runs in daemon threads (:func:`in_daemon_thread`): a model still loading or a
broker still refusing does not hold up the process's shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from api.publisher import Publisher
from contracts.settings import Settings
from messaging.admin import ensure_topics
from models.embedding import Embedder

logger = logging.getLogger(__name__)

T = TypeVar("T")
FIRST_RETRY_S = 0.5
LAST_RETRY_S = 30.0


async def in_daemon_thread(function: Callable[[], T], *, name: str) -> T:
    """``function()`` run in a daemon thread, awaited without blocking the event loop."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def target() -> None:
        try:
            result = function()
        except BaseException as error:  # handed to the awaiting task, which decides
            outcome: tuple[T | None, BaseException | None] = (None, error)
        else:
            outcome = (result, None)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:
            pass  # the loop closed first: nobody waits for the answer any more

    threading.Thread(target=target, name=name, daemon=True).start()
    return await future


class ModelLoader:
    """The embedding model, loaded once by :meth:`load` (at start-up) and handed out after.

    Called like the factory it wraps: a search before the load finished waits for it.
    """

    def __init__(self, factory: Callable[[], Embedder]) -> None:
        self.factory = factory
        self._model: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """True once the model is in memory."""
        return self._model is not None

    def load(self) -> Embedder:
        """Load the model unless it is loaded; return it."""
        with self._lock:
            if self._model is None:
                self._model = self.factory()
                logger.info("search model loaded")
            return self._model

    __call__ = load


async def load_model(loader: ModelLoader) -> None:
    """Load the search model in the background; a failure is logged (searches try again)."""
    try:
        await in_daemon_thread(loader.load, name="youasked-model")
    except Exception:
        logger.exception("the search model did not load; semantic search will try again")


async def keep_starting(publisher: Publisher, *, on_started: Callable[[Publisher], None]) -> None:
    """Start ``publisher``, again with backoff until it starts, then hand it to ``on_started``."""
    delay = FIRST_RETRY_S
    while True:
        try:
            await publisher.start()
        except Exception as error:
            logger.warning(
                "Kafka producer unavailable (%s); sends answer 503, retrying in %.1f s", error, delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, LAST_RETRY_S)
            continue
        on_started(publisher)
        return


async def keep_ensuring_topics(settings: Settings) -> None:
    """Create the declared topics missing on the broker, trying again with backoff until done."""
    delay = FIRST_RETRY_S
    while True:
        try:
            created = await in_daemon_thread(
                lambda: ensure_topics(settings, timeout_s=settings.api_send_timeout_s), name="youasked-topics"
            )
        except Exception as error:
            logger.warning("topics not checked (%s); retrying in %.1f s", error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, LAST_RETRY_S)
            continue
        logger.info("topics ready (%d created)", len(created))
        return
