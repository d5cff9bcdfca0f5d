"""Escalation: a brand reply that sends the customer to another channel.

A thread the brand closes in public is a dialogue; one it moves to direct messages, a phone
line or a support site is an escalation (it may well be solved there, but not in the thread).
The phrases below are the common ways support accounts say so; each is a regular expression
matched case-insensitively on word boundaries. Extend the list when a brand words it otherwise.

* direct messages: "DM us", "send us a DM", "shoot us a DM", "drop us a DM", "via DM",
  "in a DM", "direct message", "private message", "PM us", "message us privately";
* other channels: "contact support", "contact our support", "contact us", "reach out to us",
  "call us", "give us a call", "call our ... team/line", "phone us", "email us", "chat with us",
  "live chat", "visit/head to ... support/help", "fill in/out ... form";
* a link to a support page: a URL whose host or path names support, help, contact or care.
"""

from __future__ import annotations

import re
from typing import Final

ESCALATION_PHRASES: Final[tuple[tuple[str, str], ...]] = (
    ("dm us", r"\b(?:dm|pm)\s+(?:us|me)\b"),
    ("send us a dm", r"\b(?:send|shoot|drop|flick|slide)\s+(?:us|me)\s+(?:a\s+)?(?:dm|pm|message)\b"),
    ("via dm", r"\b(?:via|by|in|over|through)\s+(?:a\s+)?(?:dm|dms|pm)\b"),
    ("direct message", r"\bdirect\s+message"),
    ("private message", r"\bprivate(?:ly)?\s+message|\bmessage\s+us\s+privately\b"),
    ("contact support", r"\bcontact\s+(?:our\s+|the\s+)?(?:support|customer\s+(?:service|care)|team|us)\b"),
    ("reach out to us", r"\breach\s+out\s+to\s+(?:us|our)\b"),
    ("call us", r"\b(?:call|phone|ring)\s+us\b|\bgive\s+us\s+a\s+(?:call|ring)\b"),
    ("call our line", r"\bcall\s+(?:our|the)\s+(?:\w+\s+){0,3}(?:team|line|number)\b"),
    ("email us", r"\be-?mail\s+us\b"),
    ("chat with us", r"\bchat\s+with\s+us\b|\blive\s+chat\b"),
    ("support site", r"\b(?:visit|head\s+(?:over\s+)?to|go\s+to)\s+(?:our\s+)?(?:\w+\s+)?(?:support|help)\b"),
    ("form", r"\bfill\s+(?:in|out)\s+(?:\w+\s+){0,3}form\b"),
    ("support link", r"https?://\S*(?:support|help|contact|care)\S*"),
)
"""``(name, pattern)`` of each escalation phrase, in the order they are tried."""

_COMPILED: Final = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in ESCALATION_PHRASES)


def escalation_in(text: str) -> str | None:
    """The name of the first escalation phrase found in ``text`` (a brand reply), or None."""
    for name, pattern in _COMPILED:
        if pattern.search(text):
            return name
    return None
