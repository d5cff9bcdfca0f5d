"""Dialogue measures: how the brand answers in reply threads, per thread and per week.

A thread is the conversation a comment belongs to (its ``thread_id``: the root post's id, as
X's conversation id is). The worker keeps each thread's first customer message, first brand
reply and whether a brand reply sent the customer to another channel, and publishes

* :class:`DialogueThreadMeasured`, the latest measures of one thread (compacted, keyed
  ``platform:thread_id``), and
* :class:`DialogueWeekMeasured`, a product's aggregate per platform and ISO week of the
  threads' first customer message (compacted, keyed ``product:platform:week``).

:class:`ServiceLevel` is a product's service level: the longest first response, counted in
working time (weekdays and hours in a time zone). Settings give a default and per-product ones.
"""

from __future__ import annotations

import zoneinfo
from datetime import time
from typing import Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from contracts.events import Event, Platform

ISO_WEEK = r"^\d{4}-W\d{2}$"


class ServiceLevel(Event):
    """A product's service level: a first response within ``response_s`` seconds of working time.

    Working time runs from ``work_start`` to ``work_end`` (local clock time in ``timezone``, an
    IANA name) on ``workdays`` (ISO weekdays, 1 = Monday). The default: 2 hours within
    09:00-17:00, Monday to Friday, UTC.
    """

    response_s: float = Field(default=7200.0, gt=0, description="Longest first response, in working seconds.")
    timezone: str = Field(default="UTC", description="IANA time zone of the working hours.")
    work_start: time = Field(default=time(9, 0))
    work_end: time = Field(default=time(17, 0))
    workdays: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5], min_length=1, max_length=7)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("workdays")
    @classmethod
    def _iso_weekdays(cls, value: list[int]) -> list[int]:
        if any(day < 1 or day > 7 for day in value) or len(set(value)) != len(value):
            raise ValueError("workdays are distinct ISO weekdays, 1 (Monday) to 7 (Sunday)")
        return sorted(value)

    @model_validator(mode="after")
    def _hours_in_order(self) -> ServiceLevel:
        if self.work_start >= self.work_end:
            raise ValueError("work_start must be before work_end")
        if self.work_start.tzinfo is not None or self.work_end.tzinfo is not None:
            raise ValueError("working hours are local clock times, without a zone of their own")
        return self


class DialogueThreadMeasured(Event):
    """The latest measures of one reply thread, on the compacted ``feedback.dialogue-threads``.

    ``first_inbound_at`` is the earliest customer message, ``first_reply_at`` the brand's first
    reply at or after it (None: not answered yet). ``response_s`` is the wall-clock time between
    them and ``working_response_s`` the working time (of ``service_level``); ``within_service_level``
    is None while unanswered. ``escalated`` is true once a brand reply sent the customer to
    another channel (``escalation``: the phrase found, see ``models/dialogue/escalation.py``).
    ``week`` is the ISO week (``2017-W44``) of ``first_inbound_at`` in the service level's time zone,
    None while the thread has no customer message.
    """

    schema_version: Literal[1] = 1
    key: str = Field(description="platform:thread_id")
    product: str
    platform: Platform
    thread_id: str
    week: str | None = Field(default=None, pattern=ISO_WEEK)
    first_inbound_at: AwareDatetime | None = None
    first_reply_at: AwareDatetime | None = None
    response_s: float | None = Field(default=None, ge=0)
    working_response_s: float | None = Field(default=None, ge=0)
    within_service_level: bool | None = None
    escalated: bool = False
    escalation: str | None = Field(default=None, description="The escalation phrase first seen.")
    inbound_count: int = Field(ge=0, description="Customer messages in the thread.")
    reply_count: int = Field(ge=0, description="Brand replies in the thread.")
    service_level: ServiceLevel
    measured_at: AwareDatetime


class DialogueWeekMeasured(Event):
    """A product's dialogue measures for one platform and ISO week, on the compacted
    ``feedback.dialogue-weeks`` (the week of each thread's first customer message).

    ``threads`` counts threads with a customer message; ``answered`` those with a brand reply;
    ``within_service_level`` those answered within the service level (working time), so
    ``share_within_service_level = within_service_level / threads`` (an unanswered thread counts
    against it; the latest week is provisional). ``closed_without_escalation`` counts answered
    threads in which no brand reply sent the customer to another channel;
    ``share_closed_without_escalation`` divides it by ``answered``. Percentiles (nearest rank) are
    of the answered threads' first response in seconds, wall clock and working time; None when
    no thread was answered.
    """

    schema_version: Literal[1] = 1
    key: str = Field(description="product:platform:week")
    product: str
    platform: Platform
    week: str = Field(pattern=ISO_WEEK)
    threads: int = Field(ge=0)
    answered: int = Field(ge=0)
    within_service_level: int = Field(ge=0)
    escalated: int = Field(ge=0)
    closed_without_escalation: int = Field(ge=0)
    share_within_service_level: float | None = Field(default=None, ge=0.0, le=1.0)
    share_closed_without_escalation: float | None = Field(default=None, ge=0.0, le=1.0)
    response_p50_s: float | None = Field(default=None, ge=0)
    response_p90_s: float | None = Field(default=None, ge=0)
    working_response_p50_s: float | None = Field(default=None, ge=0)
    working_response_p90_s: float | None = Field(default=None, ge=0)
    service_level: ServiceLevel
    measured_at: AwareDatetime
