"""Response and request bodies of the API (every route has a response model)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.events import VISIBLE, CostInput, LifecycleStatus, Platform, ReleaseRef
from contracts.lifecycle import SplitPart


class Body(BaseModel):
    """Base of the API's bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Body):
    """What went wrong, for people and for programs."""

    code: str = Field(description="Stable machine-readable code, e.g. not_found, forbidden.")
    message: str


class ErrorBody(Body):
    """The one error shape of every route."""

    error: ErrorDetail


class ThemeRead(Body):
    """A theme in a list: its demand, its score and where it stands."""

    theme_id: str
    product: str
    status: str = Field(
        description="active, emerging (a live theme still small), merged or retired (the clustering's view)."
    )
    lifecycle_status: LifecycleStatus
    merged_into: str | None
    title: str = Field(description="Given by a person (``named``), else picked from the asks' words.")
    named: bool = False
    label: str
    keywords: list[str]
    representative_text: str | None
    mention_count: int
    member_count: int
    author_count: int = Field(description="Distinct people who asked.")
    first_seen: datetime | None
    last_seen: datetime | None
    platform_counts: dict[str, int]
    priority: float | None
    impact: float | None
    growth: float | None
    quadrant: str | None
    hot_plan: bool
    changed_at: datetime
    agreement: float | None = Field(
        default=None,
        description="Share of its members near its centre (ThemeChanged.agreement); None if not measured.",
    )
    mixed: bool = Field(
        default=False, description="agreement below MIXED_AGREEMENT: the theme likely gathers several ideas."
    )


class ThemePage(Body):
    """One page of themes."""

    items: list[ThemeRead]
    total: int
    limit: int
    offset: int


class SuggestionRead(Body):
    """A suggestion of a theme. ``author_handle`` and ``url`` are shown to the pm and admin roles
    only (a comment's URL names its author on most platforms); other roles read the text with
    handles and links masked.
    """

    suggestion_id: str
    platform: str
    comment_id: str
    url: str | None = Field(description="The original comment; None for roles below pm.")
    text: str = Field(description="The ask.")
    comment_text: str | None = Field(default=None, description="The whole comment the ask came from.")
    ask_start: int | None = Field(default=None, description="Where the ask starts in comment_text.")
    ask_end: int | None = Field(default=None, description="Where the ask ends in comment_text (exclusive).")
    asked_at: datetime
    duplicate_of: str | None
    duplicate_kind: str | None
    author_handle: str | None = None
    placed: bool = Field(
        default=False, description="A product manager placed this ask in its theme: re-clusters leave it."
    )


class ReviewItem(Body):
    """A possible duplicate waiting for a person: the suggestion, what it may repeat, how close."""

    suggestion: SuggestionRead
    theme_id: str | None
    original: SuggestionRead | None = Field(description="None when the original is no longer known.")
    original_theme_id: str | None
    similarity: float | None
    same_theme: bool


class HistoryRead(Body):
    """One accepted change of a theme, with who, when and why."""

    command_id: str
    kind: str
    from_status: str
    to_status: str
    actor: str
    reason: str
    detail: str
    at: datetime


class ThemeHit(ThemeRead):
    """A theme found by meaning, with the cosine of the query to its representative suggestion."""

    similarity: float


class AloneItem(Body):
    """An ask in no theme, and why (:mod:`models.themes.alone`): ``repeat`` (repeats another
    alone ask), ``under_review`` (a possible duplicate waiting for a person), ``near_ask`` (close
    to another person's alone ask: a re-cluster founds an emerging theme of them),
    ``near_theme`` (within reach of a live theme: a re-cluster may place it there),
    ``other_language`` (in another language, which the model reads by its surface: it founds no
    theme and waits to be placed by hand), ``unique`` (no theme and no other person's ask that
    close yet).
    """

    suggestion: SuggestionRead
    reason: Literal["repeat", "under_review", "near_ask", "near_theme", "other_language", "unique"]
    detail: str = Field(description="The reason in a sentence.")
    nearest_theme_id: str | None = Field(description="The live theme whose centre is closest.")
    nearest_theme_title: str | None
    theme_similarity: float | None = Field(description="Cosine of the ask to that theme's centre.")
    nearest_ask_id: str | None = Field(description="The closest alone ask of another person.")
    ask_similarity: float | None


class AloneReport(Body):
    """A product's asks in no theme: how many, why (counts by reason, over the ``considered``
    most recent), and the ``items`` asked, most recent first.
    """

    product: str
    alone: int = Field(description="Asks of the product in no theme.")
    in_themes: int = Field(description="Asks of the product in a live theme.")
    considered: int = Field(description="The most recent alone asks the reasons were worked out for.")
    reasons: dict[str, int]
    items: list[AloneItem]


class ThemePairRead(Body):
    """Two live themes that may be one idea: ``into`` is the one a merge keeps (more people),
    ``other`` the one it folds in; ``similarity`` is the cosine of their centres, ``mutual`` the
    share of their members (mean of the two themes) whose nearest other theme is the partner.
    """

    into: ThemeRead
    other: ThemeRead
    similarity: float
    mutual: float


class ThemePairs(Body):
    """A product's themes that may be one idea, most mutual first (``floor``: the lowest centre
    cosine listed; ``mutual``: the lowest mutual neighbours' share listed).
    """

    product: str
    floor: float
    mutual: float
    items: list[ThemePairRead]


class KeepApartRequest(Body):
    """These themes are other ideas than this one: their pairs leave ``GET /themes/pairs``."""

    other_ids: list[str] = Field(min_length=1, max_length=100)
    reason: str = Field(default="", max_length=2000)


_VISIBLE_NOT_NUL = VISIBLE.replace("[^", r"[^\x00", 1)
_VISIBLE_NO_NUL = rf"^[^\x00]*{_VISIBLE_NOT_NUL}[^\x00]*$"
"""A visible character and no NUL (which PostgreSQL's text refuses)."""


class PlaceRequest(Body):
    """An ask to place in the theme: one in no theme, or one another theme holds."""

    suggestion_id: str = Field(min_length=1, max_length=256, pattern=_VISIBLE_NO_NUL)
    reason: str = Field(default="", max_length=2000)


class ThemeNear(ThemeRead):
    """A theme near one ask, with the ask's cosine to the theme's centre."""

    similarity: float


class AskPlaces(Body):
    """The live themes of an ask's product nearest it (``theme_id``: the theme holding it now, left
    out of ``items``; None when it is in no theme), nearest first.
    """

    suggestion_id: str
    theme_id: str | None
    items: list[ThemeNear]


class ThemeHits(Body):
    """Themes nearest in meaning to a query, nearest first."""

    query: str
    items: list[ThemeHit]


class ThemeDetail(ThemeRead):
    """A theme whole: the score breakdown, cost, release, its suggestions and its history."""

    score: dict[str, Any] | None
    cost: dict[str, Any] | None
    release: dict[str, Any] | None
    weekly_counts: dict[str, int]
    suggestions: list[SuggestionRead]
    history: list[HistoryRead]
    shipped_at: datetime | None = Field(
        default=None,
        description="When its latest shipped closure's change shipped (later asks are not thanked).",
    )
    asked_after_shipping: int = Field(
        default=0,
        description="Asks placed in the theme after it shipped (the change may not reach everyone, "
        "or a new ask); the closure's impact follows them week by week.",
    )


class StatusChange(Body):
    """Move a theme to another lifecycle status."""

    status: LifecycleStatus
    reason: str = Field(default="", max_length=2000)
    title: str | None = Field(default=None, max_length=120)


class CostChange(Body):
    """Set a theme's cost estimate."""

    cost: CostInput
    reason: str = Field(default="", max_length=2000)


class ReleaseChange(Body):
    """Attach the release that ships a theme."""

    release: ReleaseRef
    reason: str = Field(default="", max_length=2000)


class RenameRequest(Body):
    """Give a theme a title of your own; an empty title returns to the one picked from the asks."""

    title: str = Field(max_length=120)
    reason: str = Field(default="", max_length=2000)


class MergeRequest(Body):
    """Merge themes (``source_ids``) into this one."""

    source_ids: list[str] = Field(min_length=1, max_length=1000)
    reason: str = Field(default="", max_length=2000)


class SplitRequest(Body):
    """Split members of this theme into new themes."""

    parts: list[SplitPart] = Field(min_length=1, max_length=100)
    reason: str = Field(default="", max_length=2000)


class CommandAccepted(Body):
    """A command was published; its outcome shows at ``/commands/{command_id}``."""

    command_id: str
    status: Literal["pending"] = "pending"


class OutcomeRead(Body):
    """What the worker decided about a command."""

    command_id: str
    theme_id: str
    kind: str | None
    accepted: bool
    code: str | None
    message: str | None
    closure_key: str | None
    decided_at: datetime


class ClosureRead(Body):
    """A "You asked, we did" closure, whole (people included for pm and admin only)."""

    closure_key: str
    theme_id: str
    product: str
    outcome: str
    title: str
    people_count: int
    comment_count: int
    closed_at: datetime
    event: dict[str, Any]


class ImpactWeekRead(Body):
    """One event-time week after shipping (``(week_start, week_end]``), its latest version."""

    week: int
    week_start: datetime
    week_end: datetime
    version: int
    asks_in_week: int
    people_in_week: int
    asks_after: int = Field(description="Asks in weeks 1 to week.")
    people_after: int
    asks_after_per_week: float
    change: float | None = Field(description="After rate over before rate, minus one; None: no asks before.")
    praise_in_week: int
    follow_up_praise: int
    praising_askers: int
    praising_people: int


class ClosureImpactRead(Body):
    """How the asking for a shipped theme changed after it shipped, and who said it works.

    ``weeks`` are the weeks published so far (up to 12), oldest first; the before figures are
    the 26 weeks (or fewer, ``weeks_before``) up to ``shipped_at``, None until week 1 is out.
    """

    closure_id: str
    product: str
    theme_id: str
    title: str
    release: ReleaseRef | None
    shipped_at: datetime | None
    weeks_before: int | None
    asks_before: int | None
    people_before: int | None
    asks_before_per_week: float | None
    asks_after_shipping: int = Field(description="Asks placed in the theme in the weeks published so far.")
    weeks: list[ImpactWeekRead]


class MonthCount(Body):
    """Valid suggestions of one month."""

    month: str = Field(description="YYYY-MM, by when the comment was posted (UTC).")
    suggestions: int
    distinct_authors: int


class MonthlyMetrics(Body):
    """Valid suggestions per month, and comments set aside by reason."""

    product: str | None
    platform: str | None
    months: list[MonthCount]
    rejected_by_reason: dict[str, int]


class Health(Body):
    """Liveness or readiness."""

    status: Literal["ok", "degraded", "unavailable"] = Field(
        description="ok; degraded: serving, but the projection has records set aside; unavailable."
    )
    broker: bool | None = None
    database: bool | None = None
    model: bool | None = Field(default=None, description="The semantic search model is loaded.")
    projected_records: int | None = None
    set_aside: int | None = Field(
        default=None, description="Records the projection could not write and set aside."
    )
    projecting: bool | None = Field(
        default=None, description="The projection's consumer is up (false: reads grow stale)."
    )


class KeyCreate(Body):
    """A new API key's name and role."""

    name: str = Field(min_length=1, max_length=200)
    role: Literal["viewer", "pm", "admin"]


class KeyCreated(Body):
    """The new key, shown this once."""

    key_id: str
    key: str
    role: str


class MonthlyUpdateRead(Body):
    """A product's "what we shipped this month": the data and the text."""

    product: str
    month: str
    distinct_people: int
    text: str
    published_at: datetime
    event: dict[str, Any]


class ShippedMonth(Body):
    """Themes shipped in one month and how long people waited for them."""

    month: str
    shipped: int
    median_days_to_ship: float | None = Field(description="From a theme's first mention to its closure.")


class ShippedMetrics(Body):
    """Shipped themes per month."""

    product: str | None
    months: list[ShippedMonth]


class IngestAccepted(Body):
    """How many comments were put on ``feedback.comments`` (they are validated downstream)."""

    accepted: int


class ReviewDecision(Body):
    """A person's decision about a possible duplicate."""

    reason: str = Field(default="", max_length=2000)


class ErasureRequest(Body):
    """Erase one person: everything they wrote, by platform and the platform's author id."""

    platform: Platform
    author_id: str = Field(min_length=1, max_length=256, pattern=VISIBLE)
    reason: str = Field(default="", max_length=2000)


class ErasureCounts(Body):
    """What the read model deleted or redacted at once."""

    suggestions: int = Field(ge=0)
    classifications: int = Field(ge=0)
    closures: int = Field(ge=0, description="Closures the person was removed from.")


class ErasureAccepted(Body):
    """The erasure is done in the read model; each product's theme state follows through its
    command (outcomes at ``/commands/{command_id}``).
    """

    erasure_id: str
    author_hash: str
    products: list[str]
    command_ids: list[str]
    removed: ErasureCounts


class PreviewAsk(Body):
    """One ask of a theme and what a closure shipped now would do with it."""

    suggestion_id: str
    comment_id: str
    platform: Platform
    author_hash: str = Field(description="The person, by hash: what an include or exclude command names.")
    author_handle: str | None
    asked_at: datetime
    ask: str
    verdict: Literal["thanked", "held", "left_out", "asked_after_shipping"]
    rule: str
    decided_by: str | None = Field(
        default=None, description="The product manager whose include or exclude decided this verdict."
    )
    release_similarity: float | None
    centre_similarity: float | None


class ClosurePreview(Body):
    """Who a "You asked, we did" closure of this theme would thank, hold for a person or leave
    out, were it shipped in ``release`` now; asks made after ``asked_by`` are never thanked.
    """

    theme_id: str
    title: str
    release: str | None
    asked_by: datetime
    thanked: int
    held: int
    left_out: int
    asked_after_shipping: int
    asks: list[PreviewAsk]


class DialogueWeekRead(Body):
    """One platform's dialogue measures in one ISO week (threads by their first customer message)."""

    platform: str
    week: str = Field(description="ISO week, e.g. 2017-W44.")
    threads: int = Field(description="Threads with a customer message.")
    answered: int = Field(description="Threads the brand answered.")
    within_service_level: int = Field(description="Threads answered within the service level.")
    escalated: int = Field(description="Answered threads a brand reply moved to another channel.")
    closed_without_escalation: int
    share_within_service_level: float | None = Field(description="within_service_level / threads.")
    share_closed_without_escalation: float | None = Field(description="closed_without_escalation / answered.")
    response_p50_s: float | None = Field(description="Median first response, wall-clock seconds.")
    response_p90_s: float | None
    working_response_p50_s: float | None = Field(description="Median first response, working seconds.")
    working_response_p90_s: float | None
    service_level: dict[str, Any]
    measured_at: datetime


class DialogueMetrics(Body):
    """How the brand answers in reply threads, per platform and week, oldest week first."""

    product: str
    platform: str | None
    weeks: list[DialogueWeekRead]
