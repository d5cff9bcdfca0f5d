"""'You asked, we did': the closure that thanks every person who asked, and the monthly update.

:func:`build_closure` takes everyone who asked for a theme (the caller includes the askers of
duplicates and of themes merged into it), counts each person once per platform and author id
while keeping every comment of theirs, and renders from brand-owned templates
(:func:`load_templates`, a TOML file of ``string.Template`` texts):

- one public post per platform where someone asked, within that platform's limit
  (:data:`PLATFORM_LIMITS`), mentioning handles where the platform supports mentions and they
  fit, otherwise saying how many asked;
- one short reply per original comment, to post in its thread.

Fitting a limit never cuts a word or a handle: handles are dropped first (whole), then the
note (or the decline reason) is shortened on a word boundary with an ellipsis, then dropped,
then the link, then the title is shortened; the template's ``minimal`` text is the last resort.
Lengths are counted as the platform counts them: X weights code points outside Latin and
common punctuation as 2 and every URL as 23 (twitter-text); elsewhere one per code point.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from contracts.events import CommentFields, Platform
from models.lifecycle import ReleaseInfo, closure_key
from models.templates import ClosureTemplates, Outcome, TemplateError, load_templates, render

__all__ = [
    "MENTION_PLATFORMS",
    "PLATFORM_LIMITS",
    "Asker",
    "ClosureContent",
    "ClosureTemplates",
    "ClosureTheme",
    "CommentRef",
    "MonthlyUpdateContent",
    "Person",
    "PublicPost",
    "Reply",
    "ShippedTheme",
    "TemplateError",
    "build_closure",
    "distinct_askers",
    "load_templates",
    "monthly_update",
    "platform_length",
]

logger = logging.getLogger(__name__)

ELLIPSIS = "…"

PLATFORM_LIMITS: Mapping[Platform, int] = {
    Platform.X: 280,
    Platform.INSTAGRAM: 2200,
    Platform.FACEBOOK: 63206,
    Platform.TIKTOK: 2200,
    Platform.YOUTUBE: 10000,
    Platform.APP_STORE: 5970,
    Platform.GOOGLE_PLAY: 350,
    Platform.FORUM: 30000,
    Platform.OTHER: 2000,
}
"""Characters allowed in a post or reply (app_store and google_play: a developer reply)."""

MENTION_PLATFORMS = frozenset(
    {Platform.X, Platform.INSTAGRAM, Platform.TIKTOK, Platform.YOUTUBE, Platform.FORUM}
)
"""Platforms where an ``@handle`` in a public post notifies the person."""

_X_URL = re.compile(r"https?://\S+")
_X_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def platform_length(platform: Platform, text: str) -> int:
    """Length of ``text`` as ``platform`` counts it against :data:`PLATFORM_LIMITS`."""
    if platform is not Platform.X:
        return len(text)
    urls = _X_URL.findall(text)
    rest = _X_URL.sub("", text)
    weight = sum(1 if any(low <= ord(char) <= high for low, high in _X_LIGHT) else 2 for char in rest)
    return weight + 23 * len(urls)


@dataclass(frozen=True)
class Person:
    """One ask: who (platform + author id, handle if public), which comment (when, where) and,
    when known, the ask's own words in it.
    """

    platform: Platform
    author_id: str
    handle: str | None
    comment_id: str
    comment_url: str | None
    thread_id: str | None
    asked_at: datetime
    ask: str | None = None

    @classmethod
    def from_comment(cls, comment: CommentFields) -> Person:
        """The ask in an accepted comment (thread: its ``thread_id``, else the comment itself)."""
        return cls(
            platform=comment.platform, author_id=comment.author_id, handle=comment.author_handle,
            comment_id=comment.comment_id, comment_url=comment.url,
            thread_id=comment.thread_id or comment.comment_id, asked_at=comment.created_at,
        )


@dataclass(frozen=True)
class CommentRef:
    """One comment to reply under, and the asks of the theme it holds (each once, in order)."""

    comment_id: str
    comment_url: str | None
    thread_id: str | None
    asked_at: datetime
    asks: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"comment_id": self.comment_id, "comment_url": self.comment_url,
                "thread_id": self.thread_id, "asked_at": self.asked_at.isoformat(), "asks": list(self.asks)}


@dataclass(frozen=True)
class Asker:
    """A distinct person (platform + author id) and every comment in which they asked, oldest first."""

    platform: Platform
    author_id: str
    handle: str | None
    comments: tuple[CommentRef, ...]

    @property
    def first_asked_at(self) -> datetime:
        return self.comments[0].asked_at

    def to_dict(self) -> dict[str, Any]:
        return {"platform": self.platform.value, "author_id": self.author_id, "handle": self.handle,
                "comments": [comment.to_dict() for comment in self.comments]}


def _clean_handle(handle: str | None) -> str | None:
    if handle is None:
        return None
    bare = handle.strip().lstrip("@")
    if not bare or any(char.isspace() for char in bare):
        return None
    return f"@{bare}"


def distinct_askers(people: Sequence[Person]) -> list[Asker]:
    """One :class:`Asker` per (platform, author_id), each comment once (with the asks of it that
    are among ``people``: two asks of one comment are one reference); ordered by who asked first.

    The same human on two platforms counts twice: nothing links their accounts.
    """
    grouped: dict[tuple[Platform, str], list[Person]] = {}
    for person in people:
        if person.asked_at.tzinfo is None:
            raise ValueError("asked_at must be timezone-aware")
        grouped.setdefault((person.platform, person.author_id), []).append(person)
    askers = []
    for (platform, author_id), asks in grouped.items():
        asks.sort(key=lambda p: (p.asked_at, p.comment_id))
        comments: dict[str, CommentRef] = {}
        for ask in asks:
            reference = comments.setdefault(
                ask.comment_id, CommentRef(ask.comment_id, ask.comment_url, ask.thread_id, ask.asked_at)
            )
            if ask.ask is not None and ask.ask not in reference.asks:
                comments[ask.comment_id] = replace(reference, asks=(*reference.asks, ask.ask))
        handle = next((h for h in (_clean_handle(ask.handle) for ask in reversed(asks)) if h), None)
        askers.append(Asker(platform, author_id, handle, tuple(comments.values())))
    askers.sort(key=lambda a: (a.first_asked_at, a.platform.value, a.author_id))
    return askers


@dataclass(frozen=True)
class ClosureTheme:
    """What the closure is about.

    ``title`` is the human name of the change ("dark mode"); ``reason`` says why a declined
    theme was declined (required then).
    """

    theme_id: str
    product: str
    title: str
    outcome: Outcome
    reason: str = ""


@dataclass(frozen=True)
class PublicPost:
    platform: Platform
    text: str
    length: int
    limit: int
    mentioned_handles: tuple[str, ...]
    people_on_platform: int

    def to_dict(self) -> dict[str, Any]:
        return {"platform": self.platform.value, "text": self.text, "length": self.length,
                "limit": self.limit, "mentioned_handles": list(self.mentioned_handles),
                "people_on_platform": self.people_on_platform}


@dataclass(frozen=True)
class Reply:
    """A reply to post under one original comment."""

    platform: Platform
    author_id: str
    comment_id: str
    thread_id: str | None
    comment_url: str | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"platform": self.platform.value, "author_id": self.author_id, "comment_id": self.comment_id,
                "thread_id": self.thread_id, "comment_url": self.comment_url, "text": self.text}


@dataclass(frozen=True)
class ClosureContent:
    """Everything to publish for one closure; ``closure_key`` is the publisher's de-duplication key."""

    closure_id: str
    closure_key: str
    theme: ClosureTheme
    release: ReleaseInfo | None
    people: tuple[Asker, ...]
    public_posts: tuple[PublicPost, ...]
    replies: tuple[Reply, ...]
    generated_at: datetime
    templates: str

    @property
    def people_count(self) -> int:
        return len(self.people)

    @property
    def comment_count(self) -> int:
        return sum(len(asker.comments) for asker in self.people)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict."""
        return {
            "closure_id": self.closure_id,
            "closure_key": self.closure_key,
            "theme_id": self.theme.theme_id,
            "product": self.theme.product,
            "title": self.theme.title,
            "outcome": self.theme.outcome,
            "reason": self.theme.reason,
            "release": self.release.to_dict() if self.release else None,
            "people_count": self.people_count,
            "comment_count": self.comment_count,
            "people": [asker.to_dict() for asker in self.people],
            "public_posts": [post.to_dict() for post in self.public_posts],
            "replies": [reply.to_dict() for reply in self.replies],
            "generated_at": self.generated_at.isoformat(),
            "templates": self.templates,
        }


def _shorten(text: str, words: int) -> str:
    """The first ``words`` words of ``text`` and an ellipsis (whole words only)."""
    parts = text.split()
    if words >= len(parts):
        return text
    return " ".join(parts[:words]).rstrip(",;:-") + ELLIPSIS


def _longest_fitting(text: str, fits: Callable[[str], bool]) -> str | None:
    """The longest word-prefix shortening of ``text`` for which ``fits`` holds (None if none)."""
    low, high, best = 1, len(text.split()) - 1, None
    while low <= high:
        middle = (low + high) // 2
        if fits(_shorten(text, middle)):
            best, low = middle, middle + 1
        else:
            high = middle - 1
    return None if best is None else _shorten(text, best)


@dataclass(frozen=True)
class _Draft:
    """Renders one text for given parts: ``handles[:count]`` mentioned, a note, a link or not, a title."""

    template: str
    templates: ClosureTemplates
    values: Mapping[str, str]
    handles: tuple[str, ...] = ()
    people: int = 0

    def __call__(self, count: int, note: str, with_link: bool, title: str) -> str:
        values = {**self.values, "title": title, "note": note, "reason": note,
                  "thanks": _thanks(self.templates, self.handles[:count], self.people)}
        if not with_link:
            values["link"] = ""
        return render(self.template, values)


def _fit(*, draft: _Draft, note: str, title: str, platform: Platform, minimal: str) -> tuple[str, int]:
    """The richest text ``draft`` can make within the platform's limit, and how many handles it mentions.

    Order of sacrifice: handles (last first), the note shortened on a word boundary, the note,
    the link, the title shortened on a word boundary; then the minimal text.
    """
    limit = PLATFORM_LIMITS[platform]

    def fits(text: str) -> bool:
        return platform_length(platform, text) <= limit

    for count in range(len(draft.handles), -1, -1):
        if fits(text := draft(count, note, True, title)):
            return text, count
    short_note = _longest_fitting(note, lambda n: fits(draft(0, n, True, title)))
    if short_note is not None:
        return draft(0, short_note, True, title), 0
    for with_link in (True, False):
        if fits(text := draft(0, "", with_link, title)):
            return text, 0
    short_title = _longest_fitting(title, lambda t: fits(draft(0, "", False, t)))
    if short_title is not None:
        return draft(0, "", False, short_title), 0
    logger.warning("closure text falls back to the minimal template on %s", platform.value)
    return minimal, 0


def _release_phrase(templates: ClosureTemplates, release: ReleaseInfo | None) -> str:
    if release is None:
        return render(templates.texts["phrases.release_unnamed"], {})
    return render(templates.texts["phrases.release_named"], {
        "release_name": release.name, "release_version": release.version,
        "release_date": release.date.isoformat() if release.date else "",
    })


def _thanks(templates: ClosureTemplates, handles: Sequence[str], people: int) -> str:
    others = people - len(handles)
    if not handles:
        if people == 1:
            return render(templates.texts["phrases.thanks_one"], {})
        return render(templates.texts["phrases.thanks_count"], {"people_count": str(people)})
    key = {0: "thanks_handles", 1: "thanks_handles_and_one_other"}.get(others, "thanks_handles_and_others")
    values = {"handles": ", ".join(handles), "others_count": str(others)}
    return render(templates.texts[f"phrases.{key}"], values)


def build_closure(
    *, theme: ClosureTheme, people: Sequence[Person], release: ReleaseInfo | None,
    templates: ClosureTemplates, now: datetime, closure_id: str, note: str | None = None,
) -> ClosureContent:
    """The closure for ``theme``: distinct askers, a public post per platform, a reply per comment.

    ``release`` is None for a theme shipped without a named release ("in our latest update")
    and must be None when declining; a declined theme needs ``theme.reason``. ``note`` is what
    the texts say shipped (``$note``): by default the release's whole note; the caller passes
    the note's lines about the theme when it knows them (a release ships more than one change).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if theme.outcome == "declined":
        if release is not None:
            raise ValueError("a declined theme has no release")
        if not theme.reason.strip():
            raise ValueError("a declined closure must say why: theme.reason is empty")
    askers = distinct_askers(people)
    total = len(askers)
    outcome = theme.outcome
    base = {
        "title": theme.title, "product": theme.product, "people_count": str(total),
        "release_phrase": _release_phrase(templates, release),
    }
    if outcome == "declined":
        note = theme.reason
    else:
        note = note if note is not None else (release.note or "" if release else "")
    link = (release.link or "") if release else ""
    minimal = templates.texts[f"{outcome}.minimal"]
    values = {**base, "link": link}
    posts: list[PublicPost] = []
    replies: list[Reply] = []
    for platform in sorted({asker.platform for asker in askers}, key=lambda p: p.value):
        on_platform = [asker for asker in askers if asker.platform is platform]
        handles = [a.handle for a in on_platform if a.handle] if platform in MENTION_PLATFORMS else []
        public = _Draft(
            template=templates.text(outcome, "public", platform), templates=templates, values=values,
            handles=tuple(dict.fromkeys(handles))[: templates.max_mentions], people=total,
        )
        text, count = _fit(draft=public, note=note, title=theme.title, platform=platform, minimal=minimal)
        posts.append(PublicPost(platform, text, platform_length(platform, text), PLATFORM_LIMITS[platform],
                                public.handles[:count], len(on_platform)))
        for asker in on_platform:
            reply = _Draft(template=templates.text(outcome, "reply", platform), templates=templates,
                           values={**values, "handle": asker.handle or ""}, people=total)
            reply_text, _ = _fit(
                draft=reply, note=note, title=theme.title, platform=platform, minimal=minimal
            )
            replies.extend(Reply(platform, asker.author_id, comment.comment_id, comment.thread_id,
                                 comment.comment_url, reply_text) for comment in asker.comments)
    if not askers:
        logger.warning("closure %s for theme %s has nobody to thank", closure_id, theme.theme_id)
    return ClosureContent(
        closure_id=closure_id, closure_key=closure_key(theme.theme_id, release), theme=theme, release=release,
        people=tuple(askers), public_posts=tuple(posts), replies=tuple(replies), generated_at=now,
        templates=f"{templates.name}/{templates.version}",
    )


@dataclass(frozen=True)
class ShippedTheme:
    theme_id: str
    title: str
    release: ReleaseInfo | None
    people_count: int

    def to_dict(self) -> dict[str, Any]:
        return {"theme_id": self.theme_id, "title": self.title, "people_count": self.people_count,
                "release": self.release.to_dict() if self.release else None}


@dataclass(frozen=True)
class MonthlyUpdateContent:
    """"What we shipped this month": the items, the releases, distinct people who asked, and the text."""

    month: str
    items: tuple[ShippedTheme, ...]
    releases: tuple[ReleaseInfo, ...]
    distinct_people: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict."""
        return {"month": self.month, "items": [item.to_dict() for item in self.items],
                "releases": [release.to_dict() for release in self.releases],
                "distinct_people": self.distinct_people, "text": self.text}


_MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _people_phrase(templates: ClosureTemplates, count: int) -> str:
    if count == 1:
        return render(templates.texts["phrases.people_one"], {})
    return render(templates.texts["phrases.people_many"], {"count": str(count)})


def monthly_update(
    shipped: Sequence[ClosureContent], *, month: str, templates: ClosureTemplates
) -> MonthlyUpdateContent:
    """"What we shipped in ``month``" (``YYYY-MM``) from that month's shipped closures.

    The caller picks the closures of the month; declined ones are left out. ``distinct_people``
    counts a person (platform + author id) who asked for several shipped themes once; each
    item's ``people_count`` counts that theme's askers. Items are ordered by release date
    (undated last), then title.
    """
    matched = _MONTH_PATTERN.match(month)
    if matched is None:
        raise ValueError(f"month must look like 2026-03, got {month!r}")
    month_values = {"month": month, "month_name": calendar.month_name[int(matched.group(2))],
                    "year": matched.group(1)}
    closures = [closure for closure in shipped if closure.theme.outcome == "shipped"]
    if len(closures) < len(shipped):
        logger.info("monthly update %s leaves out %d declined closures", month, len(shipped) - len(closures))
    def order(closure: ClosureContent) -> tuple[bool, str, str]:
        released = closure.release.date.isoformat() if closure.release and closure.release.date else ""
        return (not released, released, closure.theme.title)

    closures.sort(key=order)
    items = tuple(ShippedTheme(c.theme.theme_id, c.theme.title, c.release, c.people_count) for c in closures)
    releases = tuple(dict.fromkeys(c.release for c in closures if c.release is not None))
    people = {(asker.platform, asker.author_id) for closure in closures for asker in closure.people}
    if not items:
        text = render(templates.texts["monthly.empty"], month_values)
    else:
        lines = [render(templates.texts["monthly.heading"], month_values), ""]
        lines.extend(render(templates.texts["monthly.item"], {
            "title": item.title, "release_phrase": _release_phrase(templates, item.release),
            "people_phrase": _people_phrase(templates, item.people_count),
            "link": item.release.link or "" if item.release else "",
        }) for item in items)
        lines.extend(["", render(templates.texts["monthly.footer"], {
            **month_values, "people_phrase": _people_phrase(templates, len(people)),
            "theme_count": str(len(items)),
        })])
        text = "\n".join(lines)
    return MonthlyUpdateContent(
        month=month, items=items, releases=releases, distinct_people=len(people), text=text
    )
