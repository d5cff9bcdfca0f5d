"""What an ask means when its own words do not say it: the text a theme places it by.

Social asks often name nothing: "Please put it back!!!", "Please add this feature.", "Make it
free". Alone, such asks are all alike, so they cluster together into one theme of every wish
(the largest themes of a real review replay were exactly that), and two of them from different
comments look like repeats of each other. What they ask for is in the comment around them:
"The new layout hides the tabs. Please put it back!!!".

:func:`placement_text` gives the text to embed for placing an ask in a theme: the ask itself
when it names something, else the ask with its neighbouring unit of the same comment (the one
before it, or the one after when it opens the comment). The ask's own text, span and score
are unchanged: this is only where it is placed, and what it is compared with for duplicates.

An ask "names something" when it holds a content word: a word of two or more letters that is
not a function word, not one of the words every ask uses ("please", "add", "option",
"feature", "app", "back", ...) and not a word of the product's own name. An ask whose only
content words come with a pronoun ("Please add it to the iPad") is read with its context
too (up to two content words: "Please put it back at the top"): the pronoun says the thing
asked for is named elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from models.units import Unit

MAX_PLACEMENT_WORDS = 60
"""The neighbour is cut to keep the placement text at about this many words."""

_WORD = re.compile(r"[^\W\d_]{2,}")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


FUNCTION_WORDS = _word_set(
    """
    a an the this that these those it its it's itself they them their there here what which who
    whom whose i me my mine we us our you your yours he him his she her hers one ones
    is are was were be been being am do does did done doing have has had having will would
    shall should can could may might must not no nor never so too very just also only even
    and or but if then than as at by for from in into of on onto out over to up down off with
    without about again all any both each every few more most other some such own same
    again once when where why how while because until before after above below under between
    through during against upon via per etc im ive id dont doesnt didnt cant cannot wont isnt
    arent wasnt werent pls plz please thanks thank thx ok okay yes yeah lol omg
    """
)
"""Words that never say what is asked for (English; other languages' words all count as content)."""

ASK_WORDS = _word_set(
    """
    add added adding bring brought give make let allow enable put keep get go return restore
    change changed fix implement include introduce offer provide consider create support use
    back again option options feature features setting settings function functionality ability
    thing things something anything stuff way ways app apps application update updates version
    versions new old button
    want wanted need needs needed wish wished hope hoping like love would could should
    great good nice better best awesome cool amazing really much many lot lots little bit
    able possible available soon already still now always instead maybe perhaps
    guys developers devs team
    """
)
"""Words every kind of ask uses, whatever it asks for."""

PRONOUN_OBJECTS = _word_set("it this that these those them")


def content_words(text: str, *, product_words: frozenset[str] = frozenset()) -> list[str]:
    """The words of ``text`` that could say what is asked for (lower case, in order)."""
    words = [word.lower() for word in _WORD.findall(text)]
    return [w for w in words if w not in FUNCTION_WORDS and w not in ASK_WORDS and w not in product_words]


def needs_context(text: str, *, product_words: frozenset[str] = frozenset()) -> bool:
    """Whether the ask ``text`` does not say what it asks for by itself."""
    found = content_words(text, product_words=product_words)
    if not found:
        return True
    pointing = any(word.lower() in PRONOUN_OBJECTS for word in _WORD.findall(text))
    return len(found) <= 2 and pointing


def product_words(product: str) -> frozenset[str]:
    """The words of a product's name (``google_chrome`` -> google, chrome)."""
    return frozenset(word.lower() for word in _WORD.findall(product.replace("_", " ")))


def placement_text(ask: Unit, units: Sequence[Unit], *, product: str = "") -> str:
    """The text to embed for placing ``ask`` (one of ``units``, a comment's units in order)."""
    if not needs_context(ask.text, product_words=product_words(product)):
        return ask.text
    position = next((i for i, unit in enumerate(units) if unit.start == ask.start), None)
    if position is None:
        return ask.text
    if position > 0:
        neighbour = units[position - 1].text
        budget = max(0, MAX_PLACEMENT_WORDS - len(ask.text.split()))
        kept = neighbour.split()[-budget:] if budget else []
        return " ".join([*kept, ask.text])
    if position + 1 < len(units):
        neighbour = units[position + 1].text
        budget = max(0, MAX_PLACEMENT_WORDS - len(ask.text.split()))
        return " ".join([ask.text, *neighbour.split()[:budget]])
    return ask.text
