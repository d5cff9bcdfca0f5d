"""Contracts of a theme's life after clustering: commands, their outcomes, closures, monthly updates.

* :class:`ThemeCommand` on ``feedback.theme-commands`` (keyed by product, so a product's
  commands meet its themes in one partition): what a product manager decided.
* :class:`CommandOutcome` on ``feedback.theme-outcomes`` (keyed by command id): accepted, with
  who/when/why and from -> to, or rejected with a stable code and a reason.
* :class:`ClosureEvent` on ``feedback.closures`` (keyed by ``closure:{theme}:{release}``): the
  "You asked, we did" closure, exactly one per theme and release.
* :class:`MonthlyUpdate` on ``feedback.monthly-updates`` (keyed by ``product:YYYY-MM``).

``models.lifecycle.ThemeStatus`` is :class:`LifecycleStatus` (in ``events``) itself.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from contracts.events import (
    CostInput,
    CostSize,
    Event,
    Identifier,
    LifecycleStatus,
    Platform,
    Reason,
    ReleaseRef,
)

__all__ = [
    "AuthorErased",
    "AuthorHash",
    "ClosureAsker",
    "ClosureComment",
    "ClosureEvent",
    "ClosurePost",
    "ClosureReply",
    "CommandKind",
    "CommandOutcome",
    "CostInput",
    "CostSize",
    "HistoryChange",
    "LifecycleStatus",
    "MonthlyItem",
    "MonthlyUpdate",
    "ReleaseRef",
    "SplitPart",
    "ThemeCommand",
    "hash_author",
    "new_command_id",
]



class CommandKind(enum.StrEnum):
    SET_STATUS = "set_status"
    SET_COST = "set_cost"
    ATTACH_RELEASE = "attach_release"
    MERGE = "merge"
    SPLIT = "split"
    CONFIRM_DUPLICATE = "confirm_duplicate"
    REJECT_DUPLICATE = "reject_duplicate"
    ERASE_AUTHOR = "erase_author"
    RENAME = "rename"
    INCLUDE_ASKER = "include_asker"
    EXCLUDE_ASKER = "exclude_asker"
    KEEP_APART = "keep_apart"
    PLACE = "place"


AuthorHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
"""First 16 hex digits of the SHA-256 of ``platform:author_id``: who, without the id itself."""


def hash_author(platform: str, author_id: str) -> str:
    """The :data:`AuthorHash` of a person: how theme state, the read model and erasures name them."""
    return hash_author_key(f"{platform}:{author_id}")


def hash_author_key(author_key: str) -> str:
    """The :data:`AuthorHash` of an author key ``platform:author_id`` (the one hash of a person)."""
    return hashlib.sha256(author_key.encode("utf-8")).hexdigest()[:16]


class SplitPart(Event):
    """One part split off a theme: its new id and the suggestions that move to it."""

    new_theme_id: Identifier
    member_ids: list[Identifier] = Field(min_length=1, max_length=10_000)


def _upgraded(data: object, old: int, new: int) -> object:
    """``data`` with ``schema_version`` ``new`` when it is a record of version ``old`` whose
    fields the new version only adds to (with defaults); anything else as it is.
    """
    if isinstance(data, dict) and data.get("schema_version") == old:
        return {**data, "schema_version": new}
    return data


def new_command_id(origin: str) -> str:
    """A fresh, unique :attr:`ThemeCommand.command_id`: ``origin`` (who issues it: ``api`` for the
    API, ``cmd`` for the command line), a dash and 32 random hex digits.
    """
    return f"{origin}-{uuid.uuid4().hex}"


class ThemeCommand(Event):
    """A product manager's decision about one theme (the target, for a merge).

    A ``set_status`` to ``shipped`` may carry the ``release`` it shipped in: it is attached
    first, in the same step, so the closure names it.

    Which fields a kind needs: ``set_status`` -> ``status`` (``declined`` also a ``reason``);
    ``set_cost`` -> ``cost``; ``attach_release`` -> ``release``; ``merge`` -> ``source_ids``
    (folded into ``theme_id``); ``split`` -> ``parts``; ``confirm_duplicate`` and
    ``reject_duplicate`` -> ``suggestion_id``, a possible duplicate of the review queue (confirmed,
    it moves to what it duplicates and counts there; rejected, it stays a suggestion of its own);
    ``erase_author`` -> ``author_hash`` (every text and count of that person leaves the
    product's themes; ``theme_id`` is ``*``); ``rename`` -> ``title`` (kept across re-clusters
    and merges; an empty title returns to the one picked from the asks); ``include_asker`` and
    ``exclude_asker`` -> ``author_hash``, a person who asked in the theme: a product manager's
    say over the closure's verdict on their asks (thanked, or left out), final, kept across
    re-clusters and merges, the latest decision winning; after the theme shipped, including a
    person its closure did not thank publishes a follow-up closure for them alone;
    ``keep_apart`` -> ``source_ids``, themes a product manager read beside this one and found
    to be other ideas: the pair leaves the list of themes that may be one idea
    (``GET /themes/pairs``), the history of each theme names the other, and no re-cluster
    merges them (a product manager's merge still may); ``place`` -> ``suggestion_id``, an ask in
    no theme or in another theme that a product manager read and found to ask for this theme's
    idea: it moves here (its person counted here, thanked by this theme's closure whatever the
    cosines, or, when the theme has shipped and the ask was made before, by a follow-up closure of
    their own), both themes' history names it, and no re-cluster moves it out again (merges and
    splits carry it). The same
    ``command_id`` delivered again is applied once and reports its first outcome.
    """

    schema_version: Literal[1] = 1
    command_id: Identifier
    product: Identifier
    theme_id: Identifier
    kind: CommandKind
    actor: Identifier = Field(description="Who decided (user or API key name).")
    reason: Reason = ""
    issued_at: AwareDatetime
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None = Field(
        default=None,
        description="The change's name in closure texts (default: the theme's title); for a rename, the "
        "theme's new title (empty: back to the title picked from the asks).",
    )
    status: LifecycleStatus | None = None
    cost: CostInput | None = None
    release: ReleaseRef | None = None
    source_ids: list[Identifier] = Field(default_factory=list, max_length=1000)
    parts: list[SplitPart] = Field(default_factory=list, max_length=100)
    suggestion_id: Identifier | None = None
    author_hash: AuthorHash | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> ThemeCommand:
        needed = {
            CommandKind.SET_STATUS: ("status", self.status is not None),
            CommandKind.SET_COST: ("cost", self.cost is not None),
            CommandKind.ATTACH_RELEASE: ("release", self.release is not None),
            CommandKind.MERGE: ("source_ids", bool(self.source_ids)),
            CommandKind.SPLIT: ("parts", bool(self.parts)),
            CommandKind.CONFIRM_DUPLICATE: ("suggestion_id", self.suggestion_id is not None),
            CommandKind.REJECT_DUPLICATE: ("suggestion_id", self.suggestion_id is not None),
            CommandKind.ERASE_AUTHOR: ("author_hash", self.author_hash is not None),
            CommandKind.RENAME: ("title", self.title is not None),
            CommandKind.INCLUDE_ASKER: ("author_hash", self.author_hash is not None),
            CommandKind.EXCLUDE_ASKER: ("author_hash", self.author_hash is not None),
            CommandKind.KEEP_APART: ("source_ids", bool(self.source_ids)),
            CommandKind.PLACE: ("suggestion_id", self.suggestion_id is not None),
        }
        name, present = needed[self.kind]
        if not present:
            raise ValueError(f"a {self.kind.value} command needs {name}")
        if self.status is LifecycleStatus.MERGED:
            raise ValueError("merged is reached through a merge command, not set directly")
        return self


class HistoryChange(Event):
    """One accepted change of one theme: who, when, why, from -> to."""

    theme_id: str
    kind: str
    from_status: LifecycleStatus
    to_status: LifecycleStatus
    actor: str
    reason: str = ""
    detail: str = ""
    at: AwareDatetime
    issued_at: AwareDatetime


class CommandOutcome(Event):
    """What became of a :class:`ThemeCommand`. Rejections carry a stable ``code`` and a reason.
    A decision about one person (``include_asker``, ``exclude_asker``) names them by
    ``author_hash``. Version 1 records (without it) are read as version 2.
    """

    schema_version: Literal[2] = 2
    command_id: str
    product: str
    theme_id: str
    kind: CommandKind | None = Field(default=None, description="None when the command was unreadable.")
    accepted: bool
    code: str | None = Field(default=None, description="Why it was rejected (stable code).")
    message: str | None = None
    changes: list[HistoryChange] = Field(default_factory=list)
    closure_key: str | None = Field(default=None, description="The closure this command caused, if any.")
    author_hash: AuthorHash | None = Field(
        default=None, description="The person a decision about one asker is about."
    )
    decided_at: AwareDatetime

    @model_validator(mode="before")
    @classmethod
    def _from_version_1(cls, data: object) -> object:
        return _upgraded(data, 1, 2)


class ClosureComment(Event):
    """One original comment of an asker: where to reply, and the asks of the theme it holds."""

    comment_id: str
    comment_url: str | None = None
    thread_id: str | None = None
    asked_at: AwareDatetime
    asks: list[str] = Field(default_factory=list, description="The asks quoted from the comment.")


class ClosureAsker(Event):
    """A distinct person (platform + author id) and every comment in which they asked."""

    platform: Platform
    author_id: str
    handle: str | None = None
    comments: list[ClosureComment] = Field(min_length=1)


class ClosurePost(Event):
    """A ready-to-post public "You asked, we did" text for one platform, within its length limit."""

    platform: Platform
    text: str
    length: int = Field(ge=0, description="As the platform counts it.")
    limit: int = Field(gt=0)
    mentioned_handles: list[str] = Field(default_factory=list)
    people_on_platform: int = Field(ge=0)


class ClosureReply(Event):
    """A short reply to post in the thread of one original comment."""

    platform: Platform
    author_id: str
    comment_id: str
    thread_id: str | None = None
    comment_url: str | None = None
    text: str


class ClosureAskJudged(Event):
    """One ask of a closing theme made before the change shipped, and what the closure did with it:
    ``thanked``, ``held`` for a product manager, or ``left_out``; the rule that decided it and its
    cosines to what shipped and to the theme's centre (None when not computed).
    """

    suggestion_id: str
    platform: Platform
    author_id: str
    comment_id: str
    asked_at: AwareDatetime
    ask: str
    verdict: Literal["thanked", "held", "left_out"]
    rule: str
    release_similarity: float | None = None
    centre_similarity: float | None = None


class ClosureEvent(Event):
    """"You asked, we did": one per theme and release, with everyone who asked and the texts.

    ``people`` are the thanked askers, including those of duplicates and of themes merged into
    this one (``merged_theme_ids``): a shipped closure thanks only asks made by ``asked_by``
    (the end of the release's day, or the ship command's time) that asked for what shipped;
    ``judged`` lists every such ask with its verdict (thanked, held for a product manager, left
    out) and rule, ``selection_rule`` says how they were decided, and the counts sum them (asks
    made later stay in the theme and are only counted, ``asked_after_shipping``). A declined
    closure says so and why (``reason``). A comment with
    several asks in the theme is one reference (quoting each ask) and gets one reply.

    A product manager's later decision to thank someone the closure did not publishes a
    *follow-up* closure (``follow_up_of`` names the first one's key; its own key is
    ``{first key}:+{author_hash}``): it thanks that person alone (for an ask placed in the theme
    after shipping, also the people who repeated that ask word for word before shipping), with
    replies in their threads and no public post, so that nobody else is thanked twice. Version 2
    records are read as 3.
    """

    schema_version: Literal[3] = 3
    closure_id: str
    closure_key: str = Field(description="closure:{theme_id}:{release version or 'none'}")
    theme_id: str
    product: str
    title: str
    outcome: Literal["shipped", "declined"]
    reason: str = ""
    release: ReleaseRef | None = None
    merged_theme_ids: list[str] = Field(default_factory=list)
    command_id: str = Field(description="The command that closed the theme.")
    people_count: int = Field(ge=0)
    comment_count: int = Field(ge=0)
    people: list[ClosureAsker]
    public_posts: list[ClosurePost]
    replies: list[ClosureReply]
    generated_at: AwareDatetime
    templates: str = Field(description="name/version of the brand's templates used.")
    asked_by: AwareDatetime | None = Field(
        default=None, description="Asks made after this moment are not thanked (None: no time rule)."
    )
    selection_rule: str = ""
    thanked_asks: int = Field(default=0, ge=0)
    held_asks: int = Field(default=0, ge=0)
    left_out_asks: int = Field(default=0, ge=0)
    asked_after_shipping: int = Field(default=0, ge=0)
    judged: list[ClosureAskJudged] = Field(default_factory=list)
    follow_up_of: str | None = Field(
        default=None, description="The closure this one follows up (a person a product manager added later)."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_version_2(cls, data: object) -> object:
        return _upgraded(data, 2, 3)


class MonthlyItem(Event):
    theme_id: str
    title: str
    people_count: int = Field(ge=0)
    release: ReleaseRef | None = None


class MonthlyUpdate(Event):
    """"What we shipped this month" for one product: themes, releases, people who asked, the text."""

    schema_version: Literal[1] = 1
    product: str
    month: Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
    items: list[MonthlyItem]
    releases: list[ReleaseRef]
    distinct_people: int = Field(ge=0)
    text: str
    published_at: AwareDatetime


class AuthorErased(Event):
    """A person's data was erased (GDPR), on the compacted ``feedback.erasures`` keyed by
    ``author_hash``: consumers delete what they hold of that person from before ``erased_at``
    and keep it out when older records of theirs are replayed. It names the person only by hash.
    """

    schema_version: Literal[1] = 1
    erasure_id: Identifier
    author_hash: AuthorHash
    products: list[Identifier] = Field(
        default_factory=list, max_length=10_000,
        description="The products whose theme state was asked to forget the person.",
    )
    requested_by: Identifier
    erased_at: AwareDatetime
