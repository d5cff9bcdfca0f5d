"""A short title per theme, picked from its members' own words.

Candidates are runs of 1 to ``max_words`` words inside one clause of a member's text (the
person's own words only: a reply appended after them, @handles, URLs, e-mail addresses,
hashtags and asides in brackets are removed first; Chinese and Japanese characters count as
half a word each). A run may not begin or end with a function word or a request lead-in
("please", "can you", "I wish"), so "please add dark mode" offers "dark mode" and "add dark
mode" but never "please add"; a particle may end it after a verb that takes one ("Turn it off",
not "Tabs up"), "back" after any word ("Bookmarks back"); a Latin letter alone ("w" for with)
neither begins nor ends it. Each run is scored

    support ** 0.75 * (sum of its content words' salience) * length factor * verbatim factor

* ``support``: the share of the theme's members holding the run's content words (in any
  order: "activate my new card" supports "activate my card"), each member weighted by the
  cosine of its vector to the theme centre, so members far from the centre count less;
* ``salience`` of a word: its weighted share of members times how specific it is to the theme
  among all the product's themes (``log(1 + A / f)``, as in c-TF-IDF), scaled so the theme's
  most salient word is 1. Words found in more than a third of a product's themes (from six
  themes on: "app", the product's name, another language's function words) carry none;
* the length factor prefers 2 to 4 words (one word 0.4, five 0.9, six 0.8); where a run's function
  words lift it to a preferred length its content words alone would not reach ("Zoom in and out"
  around the one word "zoom"), they earn the difference only by the verbatim share below;
* the verbatim factor (0.5 to 1) is the share of supporting members that wrote the run as is;
* a run that begins with "app" before a function word ("App to send notifications": the app as
  the subject of a sentence) scores 0.7 times as much, so the thing asked for comes first.

A fragment gives way to a longer run that contains it and scores at least 0.85 times as much
("Bring back the search" to "Bring back the search button"). Titles are distinct within a
product: when two themes pick the same one, the theme scoring it higher keeps it and the other
takes its next candidate that is no fragment of it. A one-word title that other themes of the
product use too ("Mode" beside "Dark mode", "Live" beside "Share live location") gives way to
a phrase of 2 or 3 content words around it that the theme's own members wrote ("Power saver
mode"), when the members writing it hold at least 15% of the theme (a small theme's fair
sample, not one instance of a large one). A theme where no run is shared by two
members takes its most central member's first clause. Everything is deterministic and uses no
model: only the member vectors the engine already holds. Casing: each word as most members
write it (acronyms keep capitals; "iOS", "iPad" as their names are spelt when a quarter of the
members or two of them write them so), the first letter raised.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from models.text import EMAIL, WEB_SUFFIXES, own_words

_URL = re.compile(rf"(?:https?://|www\.)\S+|(?<![\w.-])[\w.-]+\.(?:{WEB_SUFFIXES})(?:/\S*)?\b", re.IGNORECASE)
"""A web address or a bare domain ("example.com/path"), the domain matched from the first character
of its run only: a long run of "a.a.a..." is read once, not from each of its words."""
_EMAIL = re.compile(rf"{EMAIL}\b")
_HANDLE = re.compile(r"(?<![\w@])[@＠][\w.]+")
_HASHTAG = re.compile(r"(?<![\w#])#\w+")
_ASIDE = re.compile(r"\([^()]*\)|（[^（）]*）|\[[^\[\]]*\]|【[^【】]*】")
_CLAUSE = re.compile(
    r"[.!?;:,()\[\]{}\"“”«»„|/+&\n\r\t…。！？；：，、（）]+|\s[-–—]+\s"
    r"|\b(?:but|because|cause|since|although|though|while|whereas|otherwise|unless|so that|if|when)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W_](?:[\w'’-]*[^\W_])?")
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"([{_CJK}])")
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
"""Chinese and Japanese are written without spaces: each of their characters is a word here,
and a title joins them back without spaces."""

_LEAD_INS = frozenset(
    (
        "please", "pls", "plz", "plse", "kindly", "can", "could", "would", "should", "will", "shall", "may",
        "might", "must", "wish", "wished", "hope", "hoping", "want", "wanted", "wanna", "like", "love",
        "need", "needs", "needed", "add", "adding", "added", "make", "let", "allow", "give", "get",
        "got", "have", "having", "put", "enable", "really", "just", "also", "maybe", "still", "even",
        "option", "options", "ability", "feature", "features", "able", "thanks", "thank", "hi", "hello",
        "hey", "dear", "guys", "team", "nice", "great", "good", "cool", "awesome", "would've", "i'd", "i'm",
        "it's", "that's", "there's", "id", "im", "dont", "think", "guess", "wonder", "wondering",
        "tell", "know", "however", "anyway", "actually", "though", "suggestion", "suggest", "request", "idea",
        "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't", "weren't", "can't", "won't", "wouldn't",
        "shouldn't", "couldn't", "haven't", "hasn't", "doesn", "didn", "isn", "wasn", "cant", "wont",
    )
)
_POLITE = frozenset(("please", "pls", "plz", "plse", "kindly"))
_ASKING = frozenset((("can", "you"), ("could", "you"), ("would", "you"), ("will", "you"), ("i", "wish"),
                     ("i", "want"), ("i'd", "like"), ("i", "need"), ("we", "need")))
"""A run holding one of these is a request around a title, not a title ("Olly can you stop")."""
_PARTICLES = frozenset(("off", "back", "up", "down", "out", "away"))
"""Words that may end a title after a verb ("Turn it off", "Bring back"), though function words."""
_PHRASAL_VERBS = frozenset(
    (
        "toggle", "turn", "switch", "shut", "log", "sign", "bring", "put", "set", "pick", "roll", "scroll",
        "zoom", "take", "close", "open", "wake", "look", "speed", "clean", "clear", "lock", "hide",
        "show", "hold", "kick", "mute", "fill", "filter", "sort", "opt", "phase", "dial", "tone", "power",
        "start", "boot", "pull", "push", "slow", "cut", "leave", "keep", "call", "free", "load", "break",
        "check", "move", "throw", "swipe", "back", "pop", "print", "wipe", "block", "sync", "blur", "black",
        "grey", "gray", "cross", "tick", "count", "lay", "line", "freeze", "ease", "step", "stand", "sit",
        "lift", "stay", "carry", "send", "hand", "pass", "point", "fade", "dim", "brighten", "lighten",
        "tidy", "wrap", "round", "sum", "top",
    )
)
"""Verbs a particle other than "back" may follow at a title's end ("Turn off", "Zoom in and out",
"Log out"): "Tabs up", "Teacher out" or "Status to away" are the tail of a longer thought. "Back"
may end a title after a noun too ("Bookmarks back": the thing wanted back)."""
_CONTRACTED = frozenset(
    (
        "i've", "i'll", "you've", "you're", "you'll", "you'd", "we've", "we're", "we'll", "we'd", "they've",
        "they're", "they'll", "they'd", "he's", "he'll", "he'd", "she's", "she'll", "she'd", "it'll", "it'd",
        "that'll", "that'd", "there're", "there'll", "here's", "what's", "what're", "who's", "where's",
        "how's", "let's", "y'all", "shan't", "mustn't", "needn't", "hadn't", "ain't",
        "ive", "youve", "youre", "youll", "youd", "weve", "theyve", "theyre", "theyll", "theyd", "itll",
        "thats", "theres", "whats", "lets", "hes", "shes", "havent", "hasnt", "couldnt", "wouldnt",
        "shouldnt",
    )
)
"""Contractions of function words ("I've", "you're", "that's", "let's", "won't"), with their
apostrophe and, where the word is not another word ("ill", "were", "its", "shell"), without it:
a title never begins or ends with one ("I've" was a theme's title)."""
FUNCTION_WORDS = frozenset(ENGLISH_STOP_WORDS) | _LEAD_INS | _CONTRACTED
"""Words a title neither begins nor ends with (English function words and request lead-ins);
other languages' function words are found per product as words common to most themes."""

_TRAILING = FUNCTION_WORDS - _PARTICLES
"""Words a fallback title does not end with."""
_NO_END = frozenset(
    ("old", "older", "new", "newer", "previous", "original", "former", "classic", "prior", "earlier",
     "latest", "current", "different", "certain", "specific", "separate", "multiple", "various",
     "additional", "extra", "entire", "individual", "particular", "similar", "available", "possible")
)
"""Words of time, and words of which or how many, that describe what follows them: a title does
not end with one ("Bring back the old" says old what, "Create different" different what), nor has
one as its only content word ("Old one back", "Available")."""
_MAX_TITLE_CHARS = 60
_KEPT = 60  # candidates of a theme that get a written form (the rest are far behind)


@dataclass(frozen=True)
class TitleInput:
    """One theme's members: ``texts[i]`` with its ``(dim,)`` unit vector ``vectors[i]``."""

    texts: Sequence[str]
    vectors: npt.NDArray[np.float32]
    """``(n, dim)`` float32 unit rows."""
    centroid: npt.NDArray[np.float32]
    """``(dim,)`` unit mean direction of the theme."""


def clean_text(text: str) -> str:
    """``text`` without what is not the person's own words or not a title's: an appended reply,
    URLs, e-mail addresses, @handles, hashtags (``#`` words, which are tags, not a request) and
    asides in brackets (details, or a platform's notes such as "(comment deleted)").
    """
    text = own_words(text)
    for pattern in (_EMAIL, _URL, _HANDLE, _HASHTAG, _ASIDE):
        text = pattern.sub(" ", text)
    return text


def _key(word: str) -> str:
    """How a word is compared: lower case, typographic apostrophes as plain ones."""
    return word.lower().replace("’", "'")


Clause = tuple[list[str], list[str]]
"""A clause's words as written and their keys (:func:`_key`)."""


def _clauses(text: str, *, cleaned: bool = False) -> list[Clause]:
    """The words of each clause of ``text`` (``cleaned``: already through :func:`clean_text`), as
    written and as keys.
    """
    parts = _CLAUSE.split(_CJK_CHAR.sub(r" \1 ", text if cleaned else clean_text(text)))
    return [(words, [_key(w) for w in words]) for part in parts if (words := _WORD.findall(part))]


def _written(words: Sequence[str]) -> str:
    return _CJK_GAP.sub("", " ".join(words))


def _size(words: Sequence[str]) -> int:
    """A run's length in words, a Chinese or Japanese character counting as half a word."""
    return math.ceil(sum(_width(word) for word in words))


def _width(word: str) -> float:
    return 0.5 if len(word) == 1 and _CJK_CHAR.match(word) else 1.0


@dataclass
class _Candidate:
    key: tuple[str, ...]
    surfaces: dict[tuple[str, ...], int]
    members: set[int]

    def written(self) -> tuple[str, ...]:
        """The run as most often written (first seen on a tie)."""
        return max(self.surfaces.items(), key=lambda item: item[1])[0]


def _candidates(
    clauses: Sequence[Sequence[Clause]], edges: frozenset[str], max_words: int, shared: set[str]
) -> dict[tuple[str, ...], _Candidate]:
    """Every run of 1 to ``max_words`` words within a clause that neither begins nor ends with
    an ``edges`` word (nor a number) and whose words are all ``shared`` (held by enough members
    for the run to be supported at all), by its key.
    """
    found: dict[tuple[str, ...], _Candidate] = {}
    for member, member_clauses in enumerate(clauses):
        for words, lower in member_clauses:
            widths = [_width(w) for w in lower]
            for start, first in enumerate(lower):
                if first in edges or first.isdigit() or first not in shared or _lone_letter(first):
                    continue
                size = 0.0
                for end in range(start, len(lower)):
                    last = lower[end]
                    size += widths[end]
                    if last not in shared or size > max_words:
                        break
                    if last in edges and not _particle_end(lower, start, end):
                        continue
                    if last.isdigit() or _lone_letter(last) or last in _NO_END:
                        continue
                    key = tuple(lower[start : end + 1])
                    candidate = found.get(key)
                    if candidate is None:
                        candidate = found[key] = _Candidate(key, {}, set())
                    surface = tuple(words[start : end + 1])
                    candidate.surfaces[surface] = candidate.surfaces.get(surface, 0) + 1
                    candidate.members.add(member)
    return found


def _lone_letter(word: str) -> bool:
    """A Latin letter alone, social text's shorthand ("w" for with, "u" for you): no title's edge."""
    return len(word) == 1 and word.isascii() and word.isalpha()


def _particle_end(keys: Sequence[str], start: int, end: int) -> bool:
    """Whether the run ``keys[start:end + 1]`` may end with its last word, a function word: a
    particle after a verb that takes it (the run's first word, or one of the two before the particle:
    "Turn it off", "Camera can be shut off"), or "back" after any word.
    """
    last = keys[end]
    if last not in _PARTICLES or end == start:
        return False
    return last == "back" or any(keys[at] in _PHRASAL_VERBS for at in {start, end - 1, max(start, end - 2)})


def _member_weights(theme: TitleInput) -> npt.NDArray[np.float64]:
    """Each member's weight: its cosine to the centre, floored at a small positive value."""
    if len(theme.texts) == 0:
        return np.zeros(0)
    sims = np.asarray(theme.vectors, dtype=np.float64) @ np.asarray(theme.centroid, dtype=np.float64)
    return np.clip(sims, 0.05, 1.0)


_CAMEL = re.compile(r"[a-z][A-Z]")
"""A capital after a small letter inside a word ("iOS", "iPad", "YouTube") is a name's spelling, never
an accident of typing: it wins over the lower case most people type."""


def _sentence_case(words: Sequence[str], forms: dict[str, Counter[str]]) -> str:
    """``words`` in sentence case: each word in its most used form in the theme (acronyms and
    names keep their capitals, a name spelt with an inner capital keeps it when enough members
    write it so, a capital used only for emphasis or at a sentence start goes),
    then the first letter raised. ``forms`` maps a word's key to its written forms' counts.
    """
    out: list[str] = []
    for word in words:
        lower = word.lower()
        variants = forms.get(_key(word)) or Counter({word: 1})
        camel = Counter({form: n for form, n in variants.items() if _CAMEL.search(form)})
        if camel and (camel.total() >= 2 or camel.total() * 4 >= variants.total()):
            out.append(max(camel.items(), key=lambda item: (item[1], item[0]))[0])
        elif variants[lower] * 2 >= sum(variants.values()):
            out.append(lower)
        else:
            out.append(max(variants.items(), key=lambda item: (item[1], item[0]))[0])
    shouted = [len(w) > 1 and w.isupper() for w in out]
    for i, (first, second) in enumerate(pairwise(out)):
        # two capitalized words in a row, one longer than an acronym: shouting ("STAY MUTED")
        if shouted[i] and shouted[i + 1] and max(len(first), len(second)) > 3:
            out[i], out[i + 1] = first.lower(), second.lower()
    title = _written(out)
    return title[:1].upper() + title[1:] if out and out[0] == out[0].lower() else title


_APP_WORDS = frozenset(("app", "apps", "application", "applications"))
_UNNAMED_START = 0.7  # "App to send notifications" gives way to "Send notifications"
_SUPPORT_POWER = 0.75  # below 1: a phrase most members share beats a more specific rarer one less
_LENGTH_FACTOR = {1: 0.4, 2: 1.0, 3: 1.0, 4: 1.0, 5: 0.9}  # six words: 0.8


def _length_factor(words: int) -> float:
    return _LENGTH_FACTOR.get(words, 0.8)


def _earned_length(key: Sequence[str], verbatim: float) -> float:
    """The length factor of a run whose content words are supported by many members but whose
    function words only by the ``verbatim`` share that wrote the run as is. Function words that
    make a short run a preferred length ("Zoom in and out" around the one word "zoom" of a theme
    about the Zoom app) earn that preference only as far as members wrote them: the factor moves
    from its content words' length to the run's by ``verbatim``. A run no shorter for its function
    words keeps the run's factor.
    """
    whole = _length_factor(_size(key))
    bare = _length_factor(_size([word for word in key if word not in FUNCTION_WORDS]))
    if whole <= bare:
        return whole
    return bare + (whole - bare) * verbatim


def _ranked(
    theme: TitleInput,
    clauses: Sequence[Sequence[Clause]],
    idf: dict[str, float],
    common: frozenset[str],
    max_words: int,
    elsewhere: frozenset[str] = frozenset(),
    generic: frozenset[str] = frozenset(),
) -> list[tuple[float, str]]:
    """Every candidate title of one theme with its score, best first. When the best is one word
    that other themes of the product use too (``elsewhere``: "Mode" beside "Dark mode"), a
    phrase around it written by the theme's own members (:func:`_expansion`) goes first.
    """
    weights = _member_weights(theme)
    total = float(weights.sum())
    if total <= 0:
        return []
    held = [{key for _, keys in member_clauses for key in keys} for member_clauses in clauses]
    coverage: dict[str, float] = {}
    holders: dict[str, int] = {}  # word -> bit mask of the members holding it
    for member, member_keys in enumerate(held):
        for word in member_keys:
            coverage[word] = coverage.get(word, 0.0) + float(weights[member]) / total
            holders[word] = holders.get(word, 0) | (1 << member)
    plain = FUNCTION_WORDS | common
    salience = {w: c * idf.get(w, 0.0) for w, c in coverage.items() if w not in plain}
    top = max(salience.values(), default=0.0)
    if top <= 0:
        return []
    forms: dict[str, Counter[str]] = {}
    for member_clauses in clauses:
        for words, keys in member_clauses:
            # a clause's first word is capitalized by grammar, not because it is a name
            skip = 1 if words[0][:1].isupper() else 0
            for word, key in zip(words[skip:], keys[skip:], strict=True):
                forms.setdefault(key, Counter())[word] += 1
    everyone = (1 << len(clauses)) - 1
    need = 2 if len(clauses) >= 2 else 1
    supported: dict[frozenset[str], tuple[int, float]] = {}
    scored: list[tuple[float, str, _Candidate]] = []
    shared = {w for w, mask in holders.items() if mask.bit_count() >= need or w in FUNCTION_WORDS}
    for candidate in _candidates(clauses, FUNCTION_WORDS, max_words, shared).values():
        joined = " ".join(candidate.key)
        if len(joined) > _MAX_TITLE_CHARS:
            continue
        content = frozenset(w for w in candidate.key if w not in FUNCTION_WORDS)
        if not _reads_as_title(candidate.key, content) or content <= _NO_END:
            continue
        if content not in supported:
            # a member supports a run when it holds the run's content words, in any order or
            # sentence ("activate my new card" supports "activate my card")
            mask = everyone
            for word in content:
                mask &= holders.get(word, 0)
            members = [m for m in range(len(clauses)) if mask >> m & 1] if mask.bit_count() >= need else []
            supported[content] = (len(members), float(weights[members].sum()) / total)
        count, share = supported[content]
        if count < need:
            continue
        weight = sum(salience.get(w, 0.0) for w in content) / top
        verbatim = len(candidate.members) / count
        length = _earned_length(candidate.key, verbatim)
        score = share**_SUPPORT_POWER * weight * length * (0.5 + 0.5 * verbatim)
        if not _named_start(candidate.key, generic, salience):
            score *= _UNNAMED_START
        if score > 0:
            scored.append((score, joined, candidate))
    scored.sort(key=lambda item: (-round(item[0], 9), -len(item[1]), item[1]))
    ranked = [
        (score, _sentence_case(candidate.written(), forms))
        for score, _, candidate in scored[:_KEPT]
    ]
    ranked = _completed(ranked)
    if ranked and len(words := _WORD.findall(ranked[0][1])) == 1 and _key(words[0]) in elsewhere:
        phrase = _expansion(clauses, _key(words[0]), weights / total, salience, plain, max_words)
        if phrase is not None:
            ranked.insert(0, (ranked[0][0] * 1.001, _sentence_case(phrase, forms)))
    return ranked


_EXPANSION_SHARE = 0.15
"""The weighted share of a theme's members that must write a phrase for it to stand in for the
theme's one shared word: in a theme of two to six asks one person's words are a fair sample of
it, in a larger theme one ask's phrase is an instance (one song's name for a theme of songs)."""


def _expansion(
    clauses: Sequence[Sequence[Clause]],
    anchor: str,
    shares: npt.NDArray[np.float64],
    salience: dict[str, float],
    plain: frozenset[str],
    max_words: int,
) -> tuple[str, ...] | None:
    """A phrase of 2 to 3 words around ``anchor`` (the one word the members share) as one or more
    members wrote it: "Power saver mode" rather than "Mode", "Photo geotagging" rather than "Photo".
    Its words are all content words of the theme (no function word, number, or word common to
    the product's themes) and the members writing it hold at least :data:`_EXPANSION_SHARE` of
    the theme's weight (``shares``); it scores that share times its words' salience. None when
    no phrase qualifies.
    """
    found: dict[tuple[str, ...], tuple[float, tuple[str, ...]]] = {}
    longest = min(3, max_words)
    for member, member_clauses in enumerate(clauses):
        seen: set[tuple[str, ...]] = set()
        for words, lower in member_clauses:
            for at in (i for i, key in enumerate(lower) if key == anchor):
                for start in range(max(0, at - longest + 1), at + 1):
                    for end in range(max(at, start + 1), min(len(lower), start + longest)):
                        key = tuple(lower[start : end + 1])
                        if key in seen or any(
                            w in plain or w.isdigit() or w not in salience or _lone_letter(w) for w in key
                        ):
                            continue
                        seen.add(key)
                        share, surface = found.get(key, (0.0, tuple(words[start : end + 1])))
                        found[key] = (share + float(shares[member]), surface)
    found = {key: value for key, value in found.items() if value[0] >= _EXPANSION_SHARE}
    if not found:
        return None

    def score(item: tuple[tuple[str, ...], tuple[float, tuple[str, ...]]]) -> float:
        key, (share, _) = item
        return share * sum(salience[w] for w in set(key))

    return max(found.items(), key=lambda item: (score(item), -len(item[0]), item[0]))[1][1]


_MODALS = frozenset(
    ("would", "should", "could", "can", "will", "must", "might", "may", "shall", "wud", "shud")
)
"""A run holding one is a sentence ("Camera should remain", "Students would have their camera"),
not the name of what is asked for."""


_NEGATIONS = frozenset(
    ("dont", "doesnt", "didnt", "cant", "wont", "isnt", "arent", "wasnt", "werent", "wouldnt", "shouldnt",
     "couldnt", "havent", "hasnt", "hadnt", "aint")
)
"""Negated verbs written without their apostrophe ("iOS doesnt have", "or dont make an app")."""


def _reads_as_title(key: tuple[str, ...], content: frozenset[str]) -> bool:
    """Whether a run can be a title: no politeness or "can you" inside it, no negated verb (a
    complaint's words: "iOS doesn't have a back") or modal verb (:data:`_MODALS`), and no content
    word said twice ("dark mode dark mode", "plus five plus").
    """
    if _POLITE.intersection(key) or any(pair in _ASKING for pair in pairwise(key)):
        return False
    if any(word.endswith("n't") or word in _NEGATIONS or word in _MODALS for word in key):
        return False
    return sum(1 for w in key if w in content) == len(content)


def _named_start(key: tuple[str, ...], generic: frozenset[str], salience: dict[str, float]) -> bool:
    """Whether a run begins by naming something: a word for any product (``generic``: "app",
    "application") begins it only before a word of this theme ("App Store"), not
    before a function word ("App to send notifications", "App on iOS": the app as the sentence's
    subject). At the end it is the object of what is asked ("Test more apps") and stays.
    """
    return key[0] not in generic or (len(key) > 1 and salience.get(key[1], 0.0) > 0)


def _completed(
    ranked: list[tuple[float, str]], *, head: int = 40, keep: float = 0.85
) -> list[tuple[float, str]]:
    """``ranked`` where a fragment gives way to a longer run that contains it and scores at
    least ``keep`` times as much ("Bring back the search" to "Bring back the search button"):
    the fragment then ranks just after it. Only the ``head`` best are compared (cost).
    """
    final: dict[str, float] = {}
    for score, title in sorted(ranked[:head], key=lambda pair: -len(pair[1])):
        inner = f" {title.lower()} "
        longer = [
            final[other] for other in final
            if inner in f" {other.lower()} " and keep * score <= final[other] < score
        ]
        final[title] = max(longer) * 0.999 if longer else score
    out = sorted(final.items(), key=lambda pair: (-round(pair[1], 9), -len(pair[0]), pair[0]))
    return [(score, title) for title, score in out] + ranked[head:]


def _fallback(theme: TitleInput, max_words: int, *, cleaned: bool = False) -> str:
    """The most central member's first clause, cut to ``max_words`` words (when no run of
    words is shared by two members, e.g. a theme of one ask or a language written without spaces).
    """
    if len(theme.texts) == 0:
        return ""
    order = np.argsort(-_member_weights(theme), kind="stable")
    for index in order:
        for clause, keys in _clauses(theme.texts[int(index)], cleaned=cleaned):
            words = _around_modal(clause, keys)
            while words and (_key(words[0]) in FUNCTION_WORDS or _lone_letter(_key(words[0]))):
                words.pop(0)
            while _size(words) > max_words:
                words.pop()
            while len(words) > 1 and (_key(words[-1]) in _TRAILING or _lone_letter(words[-1])):
                words.pop()
            title = _written(words)[:_MAX_TITLE_CHARS].strip()
            if title and _key(words[0]) not in FUNCTION_WORDS:
                return title[:1].upper() + title[1:]
    return ""


def _around_modal(words: list[str], keys: list[str]) -> list[str]:
    """A clause's words without its modal verb: the subject before it when it names something
    ("Teams categories would do the trick" -> "Teams categories"), else what follows it ("I wish
    it would auto-capitalize" -> "auto-capitalize"); the clause itself when it holds none.
    """
    modal = next((at for at, key in enumerate(keys) if key in _MODALS), None)
    if modal is None:
        return words[:]
    if any(key not in FUNCTION_WORDS for key in keys[:modal]):
        return words[:modal]
    return words[modal + 1 :] or words[:]


def theme_titles(
    themes: Sequence[TitleInput],
    *,
    max_words: int = 6,
    ignore: frozenset[str] = frozenset(),
    cleaned: bool = False,
) -> list[str]:
    """One title per theme (``""`` for a theme with no usable words), distinct within ``themes``.

    ``themes`` are all the live themes of one product: specificity of words and the
    product's own common words are measured across them. Words of ``ignore`` (lower case: the
    product's name) carry no weight, as the common words do, whatever their counts. With
    ``cleaned`` the texts have been through :func:`clean_text` already (not cleaned twice).
    """
    clauses = [[_clauses(text, cleaned=cleaned) for text in theme.texts] for theme in themes]
    document_freq: Counter[str] = Counter()
    term_freq: Counter[str] = Counter()
    for theme_clauses in clauses:
        words = [key for member in theme_clauses for _, keys in member for key in keys]
        term_freq.update(words)
        document_freq.update(set(words))
    average = sum(term_freq.values()) / max(len(themes), 1)
    idf = {w: math.log(1.0 + average / n) for w, n in term_freq.items()}
    shared_widely = (w for w, n in document_freq.items() if len(themes) >= 6 and n > len(themes) / 3)
    common = frozenset(shared_widely) | ignore
    elsewhere = frozenset(w for w, n in document_freq.items() if n > 1)
    rankings = [
        _ranked(theme, c, idf, common, max_words, elsewhere, _APP_WORDS)
        for theme, c in zip(themes, clauses, strict=True)
    ]
    chosen = _distinct(rankings)
    pairs = zip(chosen, themes, strict=True)
    return [title or _fallback(theme, max_words, cleaned=cleaned) for title, theme in pairs]


def _distinct(rankings: list[list[tuple[float, str]]]) -> list[str]:
    """Each theme's best title that no theme scoring it higher holds. A theme that loses a
    title also passes over the fragments of it ("Mode" once "Dark mode" went to another theme).
    """
    chosen = ["" for _ in rankings]
    position = [0 for _ in rankings]
    lost: list[list[set[str]]] = [[] for _ in rankings]
    owner: dict[str, tuple[float, int]] = {}
    pending = list(reversed(range(len(rankings))))
    while pending:
        index = pending.pop()
        ranking = rankings[index]
        while position[index] < len(ranking):
            score, title = ranking[position[index]]
            key = title.lower()
            words = set(key.split())
            holder = owner.get(key)
            if holder is None and any(words <= gone for gone in lost[index]):
                position[index] += 1
                continue
            if holder is None or score > holder[0]:
                if holder is not None:
                    loser = holder[1]
                    lost[loser].append(words)
                    position[loser] += 1
                    chosen[loser] = ""
                    pending.append(loser)
                owner[key] = (score, index)
                chosen[index] = title
                break
            lost[index].append(words)
            position[index] += 1
    return chosen
