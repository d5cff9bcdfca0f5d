"""Small, JSON-able per-theme and per-pool-item records (each well below 1 MB when serialized).

Vectors are stored as base64 of little-endian float32 (sums as float64); author keys are
stored as 16-hex-digit SHA-256 prefixes, never raw.
"""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from contracts.lifecycle import hash_author_key
from models import dates
from models.tone import NO_TONE, Tone

Vector = npt.NDArray[np.float32]

_HLL_BITS = 10
_HLL_REGISTERS = 1 << _HLL_BITS


def encode_vector(vector: npt.NDArray[np.floating], dtype: str = "<f4") -> str:
    """Base64 of ``vector`` as ``dtype`` bytes (``<f4`` float32 or ``<f8`` float64)."""
    return base64.b64encode(np.asarray(vector, dtype=dtype).tobytes()).decode("ascii")


def decode_vector(data: str, dtype: str = "<f4") -> npt.NDArray[Any]:
    """Inverse of :func:`encode_vector`; returns a writable 1-d array."""
    return np.frombuffer(base64.b64decode(data), dtype=dtype).copy()


iso_week = dates.iso_week


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware")
    return moment


@dataclass
class AuthorSet:
    """Distinct authors: exact hashed keys up to ``cap``, then a HyperLogLog sketch (2^10 registers).

    Exact keys are counted (``exact`` maps each to how many times it was added: once per held
    member of the theme that names them, and once per mention of a member the theme no longer
    holds), so that :meth:`remove` takes one of them back and an author leaves
    the set only when nothing of theirs is left; a theme whose asks move elsewhere does not go on
    counting their authors. A sketch cannot take anyone back.
    """

    cap: int
    exact: dict[str, int] | None = field(default_factory=dict)
    registers: bytearray | None = None

    def add(self, hashed: str, times: int = 1) -> None:
        """Add one hashed author key (see :func:`author_hash`), ``times`` times."""
        if self.exact is not None:
            self.exact[hashed] = self.exact.get(hashed, 0) + times
            if len(self.exact) > self.cap:
                self._to_sketch()
        else:
            self._hll_add(hashed)

    def remove(self, hashed: str) -> None:
        """Take one addition of ``hashed`` back (a member or a mention of theirs left); the author
        leaves when none is left. A sketch keeps them (its estimate may stay high).
        """
        if self.exact is None or hashed not in self.exact:
            return
        left = self.exact[hashed] - 1
        if left > 0:
            self.exact[hashed] = left
        else:
            del self.exact[hashed]

    def _to_sketch(self) -> None:
        assert self.exact is not None
        self.registers = bytearray(_HLL_REGISTERS)
        for hashed in self.exact:
            self._hll_add(hashed)
        self.exact = None

    def _hll_add(self, hashed: str) -> None:
        assert self.registers is not None
        value = int(hashed, 16)  # 64 bits
        index = value >> (64 - _HLL_BITS)
        rest = value & ((1 << (64 - _HLL_BITS)) - 1)
        rank = (64 - _HLL_BITS) - rest.bit_length() + 1
        self.registers[index] = max(self.registers[index], rank)

    def count(self) -> int:
        """Number of distinct authors (exact below ``cap``, else an estimate)."""
        if self.exact is not None:
            return len(self.exact)
        assert self.registers is not None
        m = _HLL_REGISTERS
        estimate = 0.7213 / (1 + 1.079 / m) * m * m / sum(2.0**-r for r in self.registers)
        zeros = self.registers.count(0)
        if estimate <= 2.5 * m and zeros:
            estimate = m * math.log(m / zeros)
        return round(estimate)

    def contains(self, hashed: str) -> bool:
        """Whether ``hashed`` was added (exact mode only; a sketch answers ``False``)."""
        return self.exact is not None and hashed in self.exact

    def discard(self, hashed: str) -> bool:
        """Forget ``hashed`` however many times it was added; True when it was counted. A sketch
        cannot forget one author: it answers False and its estimate may stay one too high (see the
        README on erasure).
        """
        if self.exact is None or hashed not in self.exact:
            return False
        del self.exact[hashed]
        return True

    def update(self, other: AuthorSet) -> None:
        """Union ``other`` into this set (with its counts)."""
        if other.exact is not None:
            for hashed, times in other.exact.items():
                self.add(hashed, times)
            return
        if self.exact is not None:
            self._to_sketch()
        assert self.registers is not None and other.registers is not None
        self.registers = bytearray(max(a, b) for a, b in zip(self.registers, other.registers, strict=True))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: the keys, and the counts above one apart (``repeats``)."""
        if self.exact is not None:
            data: dict[str, Any] = {"cap": self.cap, "exact": sorted(self.exact)}
            repeats = {k: n for k, n in sorted(self.exact.items()) if n > 1}
            if repeats:
                data["repeats"] = repeats
            return data
        assert self.registers is not None
        return {"cap": self.cap, "hll": base64.b64encode(bytes(self.registers)).decode("ascii")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuthorSet:
        """Inverse of :meth:`to_dict`; a set written before counts reads each key once."""
        if "exact" in data:
            repeats = data.get("repeats") or {}
            exact = {str(k): max(1, int(repeats.get(k, 1))) for k in data["exact"]}
            return cls(cap=int(data["cap"]), exact=exact)
        return cls(cap=int(data["cap"]), exact=None, registers=bytearray(base64.b64decode(data["hll"])))


@dataclass(frozen=True)
class Suggestion:
    """One valid suggestion entering the theme engine.

    ``vector`` is its ``(dim,)`` L2-normalized float32 embedding; ``created_at`` is
    timezone-aware; ``author_key`` identifies a person (e.g. ``platform:user``).
    """

    suggestion_id: str
    product: str
    author_key: str
    platform: str
    created_at: datetime
    text: str
    vector: Vector
    engagement: int = 0
    """Likes + replies + shares on the source comment, where the platform reports them."""
    tone: Tone = NO_TONE
    """How it was asked: urgently or not, with what store rating (:class:`models.tone.Tone`)."""


@dataclass
class Member:
    """A suggestion held with its vector: a pool item, or a sampled member of a theme.

    ``authors`` are the hashed keys of the author and of everyone whose duplicate was
    attached to it; ``mentions`` counts the suggestion plus its duplicates. ``waited``
    counts the re-clusters a pool item went through without a place (see
    ``ThemeConfig.provisional_wait``).
    """

    suggestion_id: str
    text: str
    vector: Vector
    created_at: datetime
    last_seen: datetime
    authors: list[str]
    mentions: int = 1
    platforms: dict[str, int] = field(default_factory=dict)
    weeks: dict[str, int] = field(default_factory=dict)
    engagement: int = 0
    waited: int = 0
    tone: Tone = NO_TONE

    def add_mention(
        self, *, hashed_author: str, platform: str, at: datetime, engagement: int = 0, tone: Tone = NO_TONE
    ) -> None:
        """Count one more mention (a duplicate) by ``hashed_author`` on ``platform`` at ``at``."""
        self.mentions += 1
        self.engagement += engagement
        self.tone += tone
        if hashed_author not in self.authors:
            self.authors.append(hashed_author)
        self.platforms[platform] = self.platforms.get(platform, 0) + 1
        week = iso_week(at)
        self.weeks[week] = self.weeks.get(week, 0) + 1
        self.last_seen = max(self.last_seen, at)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "id": self.suggestion_id,
            "text": self.text,
            "vector": encode_vector(self.vector),
            "created_at": self.created_at.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "authors": list(self.authors),
            "mentions": self.mentions,
            "platforms": dict(self.platforms),
            "weeks": dict(self.weeks),
            "engagement": self.engagement,
            "waited": self.waited,
            "tone": self.tone.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Member:
        """Inverse of :meth:`to_dict`."""
        return cls(
            suggestion_id=str(data["id"]),
            text=str(data["text"]),
            vector=decode_vector(data["vector"]).astype(np.float32),
            created_at=datetime.fromisoformat(data["created_at"]),
            last_seen=datetime.fromisoformat(data["last_seen"]),
            authors=list(data["authors"]),
            mentions=int(data["mentions"]),
            platforms={str(k): int(v) for k, v in data["platforms"].items()},
            weeks={str(k): int(v) for k, v in data["weeks"].items()},
            engagement=int(data.get("engagement", 0)),
            waited=int(data.get("waited", 0)),
            tone=Tone.from_dict(data.get("tone")),
        )

    @classmethod
    def from_suggestion(cls, suggestion: Suggestion, *, max_text_chars: int) -> Member:
        """A fresh member/pool item from a suggestion (one mention by its author)."""
        at = _require_aware(suggestion.created_at)
        return cls(
            suggestion_id=suggestion.suggestion_id,
            text=suggestion.text[:max_text_chars],
            vector=np.asarray(suggestion.vector, dtype=np.float32).reshape(-1),
            created_at=at,
            last_seen=at,
            authors=[hash_author_key(suggestion.author_key)],
            mentions=1,
            platforms={suggestion.platform: 1},
            weeks={iso_week(at): 1},
            engagement=max(0, suggestion.engagement),
            tone=suggestion.tone,
        )


@dataclass
class ThemeRecord:
    """Aggregates of one theme plus a bounded sample of its most recent members.

    ``vector_sum`` is the float64 sum of all members' vectors ever added (the centroid is
    its normalized value); counts cover every member and duplicate, not only the sample.
    """

    theme_id: str
    product: str
    vector_sum: npt.NDArray[np.float64]
    member_count: int
    mention_count: int
    authors: AuthorSet
    first_seen: datetime
    last_seen: datetime
    platforms: dict[str, int] = field(default_factory=dict)
    weeks: dict[str, int] = field(default_factory=dict)
    label: str = ""
    keywords: list[str] = field(default_factory=list)
    title: str = ""
    """A short title picked from the members' words (see :mod:`models.themes.titles`)."""
    name: str = ""
    """The title a person gave the theme (a rename); it wins over :attr:`title` and outlives
    re-clusters and merges."""
    representative_id: str | None = None
    representative_text: str | None = None
    apart: set[str] = field(default_factory=set)
    """Themes a person kept apart from this one (a ``keep_apart`` command): the clustering never
    merges the two by itself; a person's merge still may."""
    pinned: set[str] = field(default_factory=set)
    """Suggestions a person placed in this theme (a ``place`` command): no re-cluster moves them
    out; a merge or a person's split carries them with the theme that takes them."""
    sample: list[Member] = field(default_factory=list)
    provisional: list[Member] = field(default_factory=list)
    engagement: int = 0
    tone: Tone = NO_TONE
    """The urgent, rated and negative mentions among :attr:`mention_count`."""
    _held: tuple[list[Member], list[Member], int, set[str]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    """The ids of :attr:`sample` and :attr:`provisional` (:meth:`holds` is asked for each suggestion,
    of every theme), kept with the two lists and their total length: rebuilt when either list is
    replaced or changes length, and dropped by the two changes that keep both (a member replaced
    in the sample, the oldest provisional member leaving as a new one joins)."""

    @property
    def members(self) -> list[Member]:
        """The members the theme holds with their vectors: its sample, then its provisional members
        (placed by the re-assignment join; counted, and thanked by a closure, like the others).
        """
        return [*self.sample, *self.provisional]

    def holds(self, suggestion_id: str) -> bool:
        """Whether ``suggestion_id`` is a sampled or provisional member."""
        sample, provisional, held = self.sample, self.provisional, self._held
        size = len(sample) + len(provisional)
        if held is None or held[0] is not sample or held[1] is not provisional or held[2] != size:
            ids = {m.suggestion_id for m in (*sample, *provisional)}
            held = self._held = (sample, provisional, size, ids)
        return suggestion_id in held[3]

    def promote(self, member: Member, *, sample_size: int) -> None:
        """Make a provisional member a confirmed one (it may enter the reservoir sample)."""
        self.provisional = [m for m in self.provisional if m.suggestion_id != member.suggestion_id]
        self._keep_in_sample(member, sample_size)

    @property
    def shown_title(self) -> str:
        """What a person reads as the theme's title: the name given to it, else the picked title."""
        return self.name or self.title

    def centroid(self) -> Vector:
        """Unit-length ``(dim,)`` float32 mean direction of the sampled members.

        The reservoir sample is a uniform sample of the current members, so its mean
        follows splits and moves (where only sampled members are known to move) while
        ``vector_sum`` keeps every member ever added. Falls back to ``vector_sum``.
        """
        total = np.sum([m.vector for m in self.sample], axis=0) if self.sample else self.vector_sum
        norm = float(np.linalg.norm(total))
        return (np.asarray(total) / (norm if norm > 0 else 1.0)).astype(np.float32)

    def absorb(self, member: Member, *, sample_size: int, provisional: bool = False) -> None:
        """Add ``member`` (with its mentions, authors, platforms, weeks) to the aggregates and sample.

        A ``provisional`` member (joined at the looser re-assignment threshold) is counted
        but kept out of the sample and centroid until a re-cluster confirms or moves it;
        beyond ``2 * sample_size`` provisional members the oldest is confirmed.
        """
        if self.member_count == 0:  # an empty theme's dates are placeholders: its members' count
            self.first_seen, self.last_seen = member.created_at, member.last_seen
        self.vector_sum += member.vector
        self.member_count += 1
        self.mention_count += member.mentions
        self.engagement += member.engagement
        self.tone += member.tone
        for hashed in member.authors:
            self.authors.add(hashed)
        for key, n in member.platforms.items():
            self.platforms[key] = self.platforms.get(key, 0) + n
        for key, n in member.weeks.items():
            self.weeks[key] = self.weeks.get(key, 0) + n
        self.first_seen = min(self.first_seen, member.created_at)
        self.last_seen = max(self.last_seen, member.last_seen)
        if not provisional:
            self._keep_in_sample(member, sample_size)
            return
        self.provisional.append(member)
        if len(self.provisional) > 2 * sample_size:
            self._held = None  # the oldest leaves as the new one joins: the same list, the same length
            self._keep_in_sample(self.provisional.pop(0), sample_size)

    def _keep_in_sample(self, member: Member, sample_size: int) -> None:
        """Reservoir sampling (Algorithm R) with randomness from a hash of the suggestion id.

        The sample stays a uniform, deterministic sample of all members, so a re-cluster
        sees old and new members of a theme alike.
        """
        if len(self.sample) < sample_size:
            self.sample.append(member)
            return
        draw = int(hashlib.sha256(member.suggestion_id.encode("utf-8")).hexdigest()[:12], 16)
        slot = draw % max(self.member_count, 1)
        if slot < sample_size:
            self.sample[slot] = member
            self._held = None  # a member replaced in place: the same list, the same length

    def release(self, member: Member) -> None:
        """Remove a sampled ``member`` from the sample and aggregates, its authors with it (an author
        who asked here with another member stays).
        """
        self.sample = [m for m in self.sample if m.suggestion_id != member.suggestion_id]
        self.provisional = [m for m in self.provisional if m.suggestion_id != member.suggestion_id]
        self.pinned.discard(member.suggestion_id)
        self.vector_sum -= member.vector
        self.member_count -= 1
        self.mention_count -= member.mentions
        self.engagement = max(0, self.engagement - member.engagement)
        self.tone -= member.tone
        for hashed in member.authors:
            self.authors.remove(hashed)
        for key, n in member.platforms.items():
            self.platforms[key] = self.platforms.get(key, 0) - n
        for key, n in member.weeks.items():
            self.weeks[key] = self.weeks.get(key, 0) - n
        self.platforms = {k: v for k, v in self.platforms.items() if v > 0}
        self.weeks = {k: v for k, v in self.weeks.items() if v > 0}

    def to_dict(self, *, members: bool = True) -> dict[str, Any]:
        """JSON-able form; ``members=False`` names the sampled and provisional members by id
        (``sample_ids``, ``provisional_ids``) instead of holding them, for a store that keeps each
        member under its own key (:mod:`models.themes.tables`).
        """
        data = self._aggregates()
        if members:
            data["sample"] = [m.to_dict() for m in self.sample]
            data["provisional"] = [m.to_dict() for m in self.provisional]
        else:
            data["sample_ids"] = [m.suggestion_id for m in self.sample]
            data["provisional_ids"] = [m.suggestion_id for m in self.provisional]
        return data

    def _aggregates(self) -> dict[str, Any]:
        return {
            "id": self.theme_id,
            "product": self.product,
            "vector_sum": encode_vector(self.vector_sum, "<f8"),
            "member_count": self.member_count,
            "mention_count": self.mention_count,
            "authors": self.authors.to_dict(),
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "platforms": dict(self.platforms),
            "weeks": dict(self.weeks),
            "label": self.label,
            "keywords": list(self.keywords),
            "title": self.title,
            "name": self.name,
            "representative_id": self.representative_id,
            "representative_text": self.representative_text,
            "engagement": self.engagement,
            "tone": self.tone.to_dict(),
            "apart": sorted(self.apart),
            "pinned": sorted(self.pinned),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThemeRecord:
        """Inverse of :meth:`to_dict`."""
        return cls(
            theme_id=str(data["id"]),
            product=str(data["product"]),
            vector_sum=decode_vector(data["vector_sum"], "<f8"),
            member_count=int(data["member_count"]),
            mention_count=int(data["mention_count"]),
            authors=AuthorSet.from_dict(data["authors"]),
            first_seen=datetime.fromisoformat(data["first_seen"]),
            last_seen=datetime.fromisoformat(data["last_seen"]),
            platforms={str(k): int(v) for k, v in data["platforms"].items()},
            weeks={str(k): int(v) for k, v in data["weeks"].items()},
            label=str(data["label"]),
            keywords=[str(k) for k in data["keywords"]],
            title=str(data.get("title", "")),
            name=str(data.get("name", "")),
            representative_id=data["representative_id"],
            representative_text=data["representative_text"],
            sample=[Member.from_dict(m) for m in data["sample"]],
            provisional=[Member.from_dict(m) for m in data.get("provisional", [])],
            engagement=int(data.get("engagement", 0)),
            tone=Tone.from_dict(data.get("tone")),
            apart={str(t) for t in data.get("apart", ())},
            pinned={str(s) for s in data.get("pinned", ())},
        )

    @classmethod
    def empty(cls, *, theme_id: str, product: str, dim: int, at: datetime, author_cap: int) -> ThemeRecord:
        """A theme with no members yet: first/last seen read ``at`` until its first member
        (:meth:`absorb`) brings its own dates.
        """
        return cls(
            theme_id=theme_id,
            product=product,
            vector_sum=np.zeros(dim, dtype=np.float64),
            member_count=0,
            mention_count=0,
            authors=AuthorSet(cap=author_cap),
            first_seen=at,
            last_seen=at,
        )
