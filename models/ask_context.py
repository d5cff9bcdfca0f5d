"""What an ask means when its own words do not say it: the text a theme places it by.

:func:`placement_text` gives the text embedded to place an ask in a theme and to compare it with
others for duplicates. The ask itself (its words, span and score, what is quoted and thanked)
is unchanged. Two things differ from the ask's words:

1. **An ask that names nothing is read with its neighbour.** Social asks often name nothing:
   "Please put it back!!!", "Please add this feature.", "Make it free". Alone, such asks are all
   alike, so they cluster into one theme of every wish, and two of them from different comments
   look like repeats of each other. What they ask for is in the comment around them ("The new
   layout hides the tabs. Please put it back!!!"): such an ask is embedded with the unit before
   it, or the one after when it opens the comment or ends with a colon ("One feature
   suggestion:"), and its span takes that unit in when it is no ask of its own
   (:func:`ask_spans`): the ask quoted and thanked is the whole request. An ask "names
   something" when it holds a content word: a word of two or more letters that is not a
   function word, not one of the words every ask uses ("please", "add", "option", "feature",
   "app", "back", "suggestion", "useful", ...) and not a word of the product's own name; an ask
   whose content words (at most two) come with a pronoun ("Please add it to the iPad", "Please
   put it back at the top") is read with its neighbour too. A pronoun with a verb of its own is
   the sentence's subject, not what the ask points at ("It would be great to have a route
   planner").
2. **A short comment is one thought.** A comment of two units, one of them an ask that names
   little (at most :data:`FEW_CONTENT_WORDS` content words) and the other not an ask but naming
   something (at least two content words), says one thing: the other unit names or explains
   what the ask wants ("Photo markers on my recorded track pls. Would make sharing hikes so much
   nicer": the judge may pick either as the ask, and alone the second would be placed with
   "share my live location"). Such an ask is placed by the whole comment, in order (at most
   :data:`SHORT_COMMENT_WORDS` words). A bare "I love it." or "Great app!" next to an ask names
   nothing and is left out, so praise does not pull asks together.
3. **A reason is not an ask.** A unit right after an ask that only says what the ask would do
   ("Photo markers on my recorded track pls. Would make sharing hikes so much nicer", "... That
   would save me hours", "Please add a dark theme. Also saves battery on OLED phones!") or how
   little would do ("... the surrounding map tiles for offline. Even a 10km radius would do.")
   reads like an ask to a sentence judge ("would make", "would be") but
   asks for nothing more: it is the ask before it's reason (:func:`is_reason`), and the judge
   does not count it as a second ask of the comment, which would place its person in a theme of
   what they never asked for ("sharing hikes"). A reason the judge takes for an ask after a unit
   it does not ("Garmin watch support?? Would make this perfect") stands for that unit's want:
   the ask spans both (:func:`ask_spans`), so what is quoted and thanked says what was asked.
   A unit that names what it wants ("Would be great to have a Wear OS tile", "It would be nice
   if routes synced") is not a reason.
4. **The product's name is left out, and so is "the app".** Every ask of a product's stream is
   about that product, so its name tells two asks apart not at all; left in, it pulls every ask
   that names it towards every other one (a replay of the Teams reviews grouped 288 people under
   "Teams"). "The app", "this app", "your app" name the product too, and did the same
   (:data:`_THE_APP`): a Teams replay's largest theme held asks that shared little but the app
   (to publish it for macOS, that it works like a charm, simpler navigation), and a TestFlight
   replay's held remarks about apps. An app named by what it runs on ("a watch app", "an iPad
   app") keeps the word: there it is part of what is asked for.
5. **An ask that names nothing beside one that names something is part of it.** "More
   features please!! I wish the map had a dark style", "Add a trip widget. Please add it!",
   "Please add this feature. Let me pin favourite trails": the ask that names nothing announces
   or presses the one beside it. Counted apart, it would be placed by the other's words as a
   second ask of the same thing, or gather with every other "add more features" in a theme of
   no idea. The two are one ask, quoted whole and placed together (:func:`ask_spans`); the
   neighbour it would be read with first.
6. **An ask for the previous version is one ask, whatever it calls it.** After a redesign, people
   ask for it back in as many words as there are people: "Bring back the old layout", "Please go
   back to the old design", "Can we have the option to revert back to the old UI?", "LET ME ROLL
   BACK TO PREVIOUS VERSION PLEASE". Each names the product as it was, not a feature of it, and
   their own words (layout, design, UI, version, look) and the complaints beside them ("it looks
   like Safari now") scattered one idea over many themes: a Chrome replay put 116 such asks in 16
   themes. An ask that names the product's previous version or look (:func:`wants_previous_version`)
   is placed by one text for them all (:data:`PREVIOUS_VERSION`), so they gather in one theme;
   what is quoted and thanked is still each person's own ask. An old *part* ("bring back the old
   tab view", "the discover feed in the old style") names a feature and is placed as before.
   So is an ask that wants "it" back beside words about the product's new look or update
   (:func:`wants_it_back`: "The new design is awful. Change it back.", "It looks just like every
   other app now. Put it back the way it was!"): read with its neighbour it would be placed by
   the complaint (the same Chrome replay gathered 72 people under "Use Safari", most of them
   asking for the old look back beside "it looks like Safari now"). When the words beside it say
   a part was removed or hidden ("The update removed the compass. Put it back"), "it" is that
   part, and the ask is read with them as before.
7. **A lead-in announces the asks after it.** "Features I would like to see:", "Two missing
   features that should be a MUST:", "Desired features:" end with a colon: what they ask for
   follows them, and alone they name nothing, whatever their words (a Teams replay gathered 26
   people's lead-ins into a theme of "missing features"). A unit that ends with a colon needs
   its context like an ask that names nothing when it names nothing but the list it announces
   (:func:`is_lead_in`, :func:`needs_context`). When the judge takes such a lead-in for an ask and
   a list follows it (units that each begin a line, after spaces or a bullet, or open with a list
   number: "1. Private channels"), each item that names something is an ask of the comment,
   scored as the lead-in (:func:`announced_items`), and the lead-in is none of its own: the person
   asked for the items, one by one. A unit that ends with a colon but names something ("Please add
   these user agents to Chrome:") announces the details of its own ask, and stays one. An ask's
   span leaves out the list number it opens with ("2. Scan to a folder" is quoted "Scan to a
   folder").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from models.units import LINE_BULLETS, LIST_NUMBER, Unit, split_units

MAX_PLACEMENT_WORDS = 60
"""The neighbour is cut to keep the placement text at about this many words."""

SHORT_COMMENT_WORDS = 40
"""A two-unit comment up to this many words is placed whole (rule 2 above)..."""

FEW_CONTENT_WORDS = 3
"""...when its ask has at most this many content words."""

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
    without about again all any both each every ever few more most other some such own same
    again once when where why how while because until before after above below under between
    through during against upon via per etc im ive id dont doesnt didnt cant cannot wont isnt
    arent wasnt werent pls plz please thanks thank thx ok okay yes yeah lol omg
    ve re ll don doesn didn isn aren wasn weren couldn wouldn shouldn haven hasn hadn won
    """
)
"""Words that never say what is asked for (English; other languages' words all count as content).
The last line holds the pieces a contraction leaves beside its apostrophe ("I've", "don't").
"""

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
    helpful useful handy practical fantastic wonderful excellent happy appreciate appreciated
    improve improved improvement improvements tweak tweaks suggestion suggestions suggest request
    requests idea ideas missing
    """
)
"""Words every kind of ask uses, whatever it asks for."""

PRONOUN_OBJECTS = _word_set("it this that these those them")

_SUBJECT_PRONOUN = re.compile(
    r"\b(?:it|this|that)(?:\s+(?:would|will|could|should|can|might|must|may|is|was|needs?|has|had|does|did|"
    r"makes?|seems?|sounds?|works?|gets?|got|lets?|allows?)\b|['’](?:d|ll|s)\b)",
    re.IGNORECASE,
)
"""A pronoun followed by a verb of its own is the subject of the sentence ("it would be great to
have a route planner", "this needs a trip widget"), not the object an ask points at."""


_REASON = re.compile(
    r"^\W*(?:(?:it|that|this|which|and|so)\s+)?"
    r"(?:(?:would|will|could|might|(?:it|that|this|which)['’]d|(?:it|that|this)['’]ll)\s+"
    r"(?:really\s+|also\s+|definitely\s+|probably\s+)?(?:make|be|help|save|mean|give|use)\b"
    # what the ask does besides: "Also saves battery on OLED phones!", "It also helps at night"
    r"|also\s+(?:saves|helps|makes|means|gives|keeps|looks)\b"
    # how little would do: "Even a 10km radius would do.", "Even a simple one would be enough"
    r"|even\s+(?:just\s+)?(?:a|an|the|one|some|something|basic|simple)\b[^.!?]*?"
    r"\b(?:would|will|['’]d)\s+(?:do|work|suffice|help|be\s+(?:enough|fine|ok|okay|great|nice|good))\b)",
    re.IGNORECASE,
)
_NAMES_A_WANT = re.compile(r"\b(?:if|to|when|an?\s+option|option|feature|ability|way)\b", re.IGNORECASE)


def is_reason(text: str) -> bool:
    """Whether the unit ``text`` only says what an ask would do ("Would make sharing hikes so much
    nicer", "That would save me hours", "it'd be huge for solo hikers") without naming a want of
    its own ("to have", "if", "an option", ...: those are asks in their own right).
    """
    return _REASON.match(text) is not None and _NAMES_A_WANT.search(text) is None


def announces(text: str) -> bool:
    """Whether the unit ``text`` ends with a colon: it announces what follows (rule 7)."""
    return text.rstrip().endswith(":")


LEAD_IN_WORDS = _word_set(
    """
    two three four five six several couple few main major key top biggest important following
    below upcoming future next desired wanted wishlist wishes list items item changes additions
    requests request things ones points pros cons must haves thoughts here tips see seeing fixed
    """
)
"""Words a lead-in uses to announce a list of asks, not to name one ("Two missing features that
should be a MUST:", "Desired features:", "Things I'd like in upcoming updates:")."""


def is_lead_in(text: str, *, product_words: frozenset[str] = frozenset()) -> bool:
    """Whether the unit ``text`` only announces what follows: it ends with a colon and names
    nothing but the list it announces ("Features I would like to see:"; not "Please add a dark
    mode. Also:").
    """
    return announces(text) and not [
        word for word in content_words(text, product_words=product_words) if word not in LEAD_IN_WORDS
    ]


def _item_kind(text: str, unit: Unit) -> str | None:
    """What makes ``unit`` of ``text`` an item of a list: ``"number"`` (it opens with a list
    number), ``"bullet"`` (it begins its line after a bullet), ``"line"`` (it begins its line), or
    None (it is no item).
    """
    if LIST_NUMBER.match(unit.text):
        return "number"
    line_start = text.rfind("\n", 0, unit.start) + 1
    if LINE_BULLETS.fullmatch(text, line_start, unit.start) is None:
        return None
    return "bullet" if text[line_start : unit.start].strip() else "line"


_HOW_TO = re.compile(r"\W*(?:how|where|what|who|which)\b[^?]*\?\W*$", re.IGNORECASE)
"""A question about use ("How do I start a group call?"): no ask, in a list or not."""


def announced_items(
    text: str, units: Sequence[Unit], asked: Sequence[bool], *, product_words: frozenset[str] = frozenset()
) -> tuple[dict[int, int], set[int]]:
    """Rule 7: for each lead-in the judge took for an ask (:func:`is_lead_in`: it ends with a colon
    and names nothing but the list it announces) with a list right after it (a run of items of one
    kind, :func:`_item_kind`: numbered, bulleted or one a line; it ends at the first unit that is
    none or of another kind), ``{item position: lead-in position}``
    for the items that are no ask by their own score and name something (not a reason, not a
    question about use: "How do I ...?"); and the positions of the lead-ins followed by at least
    one such item or one ask, which are no asks of their own. ``units`` in order, ``asked[i]``
    whether unit ``i`` scored at or above the threshold. A unit that ends with a colon but names
    something ("Please add these user agents to Chrome:") announces the details of its own ask.
    """
    items: dict[int, int] = {}
    leads: set[int] = set()
    for position, (unit, is_ask) in enumerate(zip(units, asked, strict=True)):
        if not is_ask or not is_lead_in(unit.text, product_words=product_words):
            continue
        kind = _item_kind(text, units[position + 1]) if position + 1 < len(units) else None
        for other in range(position + 1, len(units)):
            item = units[other]
            if kind is None or _item_kind(text, item) != kind or announces(item.text):
                break
            words = item.text[without_list_number(item.text, 0, len(item.text)) :]
            if asked[other]:
                leads.add(position)
            elif (
                content_words(words, product_words=product_words)
                and not is_reason(words)
                and not _HOW_TO.match(words)
            ):
                items[other] = position
                leads.add(position)
    return items, leads


def without_list_number(text: str, start: int, end: int) -> int:
    """The start of the span ``text[start:end]`` past the list number it opens with, if any."""
    found = LIST_NUMBER.match(text, start, end)
    return found.end() if found is not None and found.end() < end else start


def ask_spans(
    text: str, units: Sequence[Unit], asked: Sequence[bool], *, product_words: frozenset[str] = frozenset()
) -> list[tuple[int, int, int]]:
    """The asks of the comment ``text`` among its judged ``units`` (in order; ``asked[i]``: unit
    ``i`` scored at or above the threshold), as ``(start, end, i)``: a reason right after an ask
    is none, and a reason judged an ask after a unit that is not one spans both (rule 3 above);
    an ask that names nothing spans the neighbouring unit it is read with (rule 1), when that unit
    is no ask, names something and is at most :data:`MAX_PLACEMENT_WORDS` words ("Is there a way
    to export to GPX? If not, please add it!"), so that what is quoted and thanked says what was
    asked; and an ask that names nothing right beside an ask that names something is one ask with
    it (rule 5: "More features please!! I wish the map had a dark style", "Add dark mode. Please
    add it!").
    """
    standing = [  # a reason right after an ask is none
        is_ask and not (position > 0 and asked[position - 1] and is_reason(units[position].text))
        for position, is_ask in enumerate(asked)
    ]
    vague = [
        is_ask and needs_context(unit.text, product_words=product_words)
        for unit, is_ask in zip(units, standing, strict=True)
    ]
    spans: dict[int, tuple[int, int]] = {}
    announcing: list[tuple[int, int]] = []  # (empty ask, the ask beside it that names something)
    for position, (unit, is_ask) in enumerate(zip(units, asked, strict=True)):
        if not is_ask:
            continue
        start, end = unit.start, unit.end
        if position > 0 and is_reason(unit.text):
            if asked[position - 1]:
                continue
            before = units[position - 1]
            start, end = adjacent_span(text, (before.start, before.end), (start, end)) or (start, end)
        elif vague[position]:
            named = _named_beside(text, units, standing, vague, position)
            if named is not None:  # a standing ask that names something: always in spans below
                announcing.append((position, named))
                continue
            start, end = _context_span(text, units, asked, position, product_words) or (start, end)
        spans[position] = (start, end)
    for position, named in announcing:
        first, second = sorted((spans[named], (units[position].start, units[position].end)))
        spans[named] = adjacent_span(text, first, second) or spans[named]
    ordered = sorted(spans.items())
    return [(without_list_number(text, start, end), end, position) for position, (start, end) in ordered]


def _named_beside(
    text: str, units: Sequence[Unit], asked: Sequence[bool], vague: Sequence[bool], position: int
) -> int | None:
    """The position of the ask that names something right beside the ask at ``position`` (one that
    names nothing: "More features please!!", "Please add it!"), the one it is read with first
    (:func:`read_with`); None when neither neighbour is such an ask or something but spaces and
    punctuation lies between them.
    """
    first_choice = read_with(units, position)
    for other in (first_choice, 2 * position - first_choice):
        if 0 <= other < len(units) and asked[other] and not vague[other]:
            first, second = sorted((other, position))
            pair = (units[first].start, units[first].end), (units[second].start, units[second].end)
            if adjacent_span(text, *pair) is not None:
                return other
    return None


def _context_span(
    text: str, units: Sequence[Unit], asked: Sequence[bool], position: int, words: frozenset[str]
) -> tuple[int, int] | None:
    """The span of the ask at ``position`` (one that names nothing) with the unit it is read with
    (:func:`read_with`); None when that unit is an ask, names nothing, is longer than
    :data:`MAX_PLACEMENT_WORDS` words or is not right beside it.
    """
    other = read_with(units, position)
    if other >= len(units) or asked[other]:
        return None
    neighbour = units[other]
    if len(neighbour.text.split()) > MAX_PLACEMENT_WORDS:
        return None
    if not content_words(neighbour.text, product_words=words):
        return None
    first, second = sorted(((neighbour.start, neighbour.end), (units[position].start, units[position].end)))
    return adjacent_span(text, first, second)


def adjacent_span(text: str, first: tuple[int, int], second: tuple[int, int]) -> tuple[int, int] | None:
    """The span of two units of ``text`` together, ``first`` before ``second`` ("Garmin watch
    support?? Would make this perfect"), when nothing but spaces and punctuation lies between
    them; else None.
    """
    if first[1] > second[0] or re.search(r"\w", text[first[1] : second[0]]):
        return None
    return first[0], second[1]


def content_words(text: str, *, product_words: frozenset[str] = frozenset()) -> list[str]:
    """The words of ``text`` that could say what is asked for (lower case, in order)."""
    words = [word.lower() for word in _WORD.findall(text)]
    return [w for w in words if w not in FUNCTION_WORDS and w not in ASK_WORDS and w not in product_words]


def needs_context(text: str, *, product_words: frozenset[str] = frozenset()) -> bool:
    """Whether the ask ``text`` does not say what it asks for by itself: it names nothing, points
    at something with a pronoun, or only announces what follows (:func:`is_lead_in`, rule 7).
    """
    found = content_words(text, product_words=product_words)
    if not found or is_lead_in(text, product_words=product_words):
        return True
    pointing = any(word.lower() in PRONOUN_OBJECTS for word in _WORD.findall(_SUBJECT_PRONOUN.sub(" ", text)))
    return len(found) <= 2 and pointing


_THE_APP = re.compile(
    r"\b(?:the|this|that|these|those|your|ur|our|my|an?|its|their|his|her)\s+(?:apps?|applications?)(?:['’]s)?\b",
    re.IGNORECASE,
)
""""The app", "this app", "your app's": how reviews name any product, left out of the placement
with the product's name (rule 4). An app named by what it runs on ("a watch app", "an iPad app")
is kept: there "app" is part of what is asked for."""


PREVIOUS_VERSION = "bring back the previous version and design"
"""The placement text of every ask for the product as it was (rule 6 above)."""

_EARLIER = _word_set("old older oldest previous original former classic prior earlier last legacy")
_WHOLE = _word_set(
    "version versions design designs layout layouts ui uis gui ux interface interfaces look looks style "
    "styles format appearance aesthetic setup one ones app system"
)
"""Words that name a product as a whole when an earlier one is meant ("the old layout", "the
previous version", "the classic look", "the old one")."""
_BACK_CUES = _word_set(
    "back revert reverting reverted rollback downgrade downgrading return returning restore restoring undo "
    "switch switching option options choice toggle setting keep stick use using"
)
"""Words that ask for the earlier product right before it ("go back to the old design", "revert
to the old version", "switch to the classic look", "an option for the old UI", "an option to use
the old layout"), function words between them aside."""
_BETWEEN = FUNCTION_WORDS - _BACK_CUES
"""Words that may stand between a cue and the earlier product ("back to the", "option for an")."""
_KEY = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def wants_previous_version(text: str, *, product_words: frozenset[str] = frozenset()) -> bool:
    """Whether the ask ``text`` asks for the product's previous version or look (rule 6 above):
    an earlier-word followed by a word for the whole product or the product's name ("the old
    layout", "the original design", "the old Google Chrome"), asked back by the word right before
    it, function words aside ("bring back the old UI", "revert to the older version", "an option
    for the classic look"), or by "back" right after it ("bring the old style back").
    """
    keys = [word.lower().replace("’", "'") for word in _KEY.findall(text)]
    covered = 0  # the words a run of earlier-words and names read so far reached: read once
    for at, key in enumerate(keys):
        if key not in _EARLIER or at < covered:
            continue
        end = at + 1
        while end < len(keys) and (keys[end] in product_words or keys[end] in _EARLIER):
            end += 1
        covered = end
        if keys[end : end + 2] == ["and", "new"]:  # "between the old and new layout"
            end += 2
        if end < len(keys) and keys[end] in _WHOLE:
            end += 1
        elif not any(word in product_words for word in keys[at + 1 : end]):
            continue
        if end < len(keys) and keys[end] == "back":
            return True
        before = at - 1
        while before >= 0 and at - before <= 4 and keys[before] in _BETWEEN:
            before -= 1
        if before >= 0 and keys[before] in _BACK_CUES and _backs_the_whole(keys, before):
            return True
    return False


_GOING_BACK = _word_set(
    "go goes going went get getting got change changing changed switch switching switched bring bringing "
    "brought roll rolling rolled revert reverting reverted put putting turn turning move moving set setting "
    "give giving come add adding added"
)


def _backs_the_whole(keys: Sequence[str], at: int) -> bool:
    """Whether the cue ``keys[at]`` asks for the whole product back: any cue but "back", or a
    "back" after a verb of going or bringing back, a word for the whole or another cue ("go back",
    "change it back", "switch the layout back", "the option back"), not after a part ("change
    the feed back").
    """
    if keys[at] != "back":
        return True
    before = at - 1
    while before >= 0 and keys[before] in FUNCTION_WORDS and keys[before] not in _GOING_BACK:
        before -= 1
    return before < 0 or keys[before] in _GOING_BACK or keys[before] in _WHOLE or keys[before] in _BACK_CUES


_IT_BACK = re.compile(
    # "change it back", "put it all back", not "put it back at the top" (a place names a part)
    r"\b(?:change|changing|put|putting|switch|switching|turn|turning|set|bring|make|roll|move|revert|reverting)"
    r"\s+(?:it|this|that|things|everything|them|all|it\s+all)\s+back\b"
    r"(?!\s+(?:up\b|(?:on|at|to|in)\s+(?:the\s+)?(?:top|bottom|front|left|right)\b))"
    # "go back", "change back", "revert", but not "go back to the tab view" (a part)
    r"|\b(?:go|going|come|get)\s+back\b(?!\s+(?:to|and)\s+(?!(?:the\s+)?(?:way|how|what)\b))"
    r"|\b(?:change|changing|switch|switching|revert|reverting|roll|rolling)\s+back\b"
    r"(?!\s+to\s+(?!(?:the\s+)?(?:way|how|what)\b))"
    r"|\brevert(?:\s+(?:it|this|that|the\s+update|the\s+changes?))?"
    r"(?=\s*$|\s*[.!?,]|\s+(?:please|pls|plz|asap|now|immediately)\b)"
    r"|\bundo\s+(?:it|this|that|the\s+(?:update|changes?|redesign))\b"
    # "the way it was", "how it used to be", "should have left things alone"
    r"|\b(?:way|how)\s+(?:it|things)\s+(?:was|were|used\s+to\s+be)\b"
    r"|\b(?:left|leave)\s+(?:it|things|everything)\s+(?:alone|as\s+(?:it|they)\s+(?:was|were))\b"
    r"|\b(?:kept|keep)\s+(?:it|things)\s+(?:the\s+way|how|as)\b",
    re.IGNORECASE,
)
"""Words that want something back without naming it."""
_NEW_LOOK = re.compile(
    r"\b(?:(?:new|latest|last|recent|this|current|newest)\s+(?:updates?|version|design|layout|look|ui|"
    r"interface|redesign|format|style|appearance|skin|theme)"
    r"|redesign(?:ed)?|resembles?|copy|copied|clone|knock\s*off|wannabe|look\s*alike|copycat"
    r"|reminds?\s+(?:me|us|one)\s+of"
    r"|(?:looks?|feels?|acts?)\s+(?:(?:and|&)\s+(?:feels?|acts?)\s+)?(?:just\s+|exactly\s+|too\s+much\s+|"
    r"so\s+much\s+|a\s+lot\s+|more\s+)?like|(?:just|exactly|too\s+much|so\s+much)\s+like)\b",
    re.IGNORECASE,
)
"""Words about the product's new look or update as a whole ("the new design", "this update", "it
looks like every other app", "a copy of ...")."""
_PART_GONE = re.compile(
    r"\b(?:removed?|removing|took\s+(?:away|out)|taken\s+(?:away|out)|got\s+rid|get\s+rid|gone|missing|"
    r"no\s+longer|disappeared|where\s+(?:is|are|did)|hid|hidden|hides|moved?|moving|replaced?|replacing|miss|missed|misses)\b",
    re.IGNORECASE,
)
"""Words that say a part went away or moved: "it" is then that part ("The update removed the
compass", "The new update moved the address bar to the bottom. Please put it back")."""
_THE_WHOLE_BACK = re.compile(
    r"\b(?:change|changing|put|putting|switch|switching|turn|turning|set|bring|roll|move|revert|reverting)\s+"
    r"(?:the|your|our|its|this|that)\s+(?:whole\s+|entire\s+)?(?:look|looks|design|layout|ui|gui|interface|"
    r"style|appearance|theme|skin|format)\s+back\b"
    r"(?!\s+(?:up\b|(?:on|at|to|in)\s+(?:the\s+)?(?:top|bottom|front|left|right)\b))",
    re.IGNORECASE,
)
"""The whole product's look wanted back by its own word ("please consider changing the look back",
"put the layout back")."""
_THE_EARLIER = re.compile(
    r"\b(?:old|older|previous|original|former|classic|prior|earlier|legacy)\s+"
    r"(?:version|design|layout|ui|gui|look|style|interface|appearance)\b",
    re.IGNORECASE,
)
"""The product as it was, named beside an ask for "it" back ("Please change it back I like the old
design better!")."""


def wants_it_back(ask: str, read: str, *, product_words: frozenset[str] = frozenset()) -> bool:
    """Whether the ask ``ask``, read as ``read`` (with the words it is placed by), wants the
    product as it was without naming it (rule 6 above): its sentence that wants something back
    (:data:`_IT_BACK`) names nothing besides, or only the whole product ("Put the layout back the
    way it was"; :func:`needs_context`), and the words it is read with speak of the new look or
    update as a whole (:data:`_NEW_LOOK`) or of the product as it was (:data:`_THE_EARLIER`); or it
    wants the look back by its own word (:data:`_THE_WHOLE_BACK`: "change the design back"). Never
    when the words it is read with say a part went away (:data:`_PART_GONE`).
    """
    if _PART_GONE.search(read) is not None:
        return False
    if _THE_WHOLE_BACK.search(ask) is not None:
        return True
    if _IT_BACK.search(ask) is None:  # most asks: the ask is not split a second time
        return False
    wanting = [unit.text for unit in split_units(ask) if _IT_BACK.search(unit.text)]
    whole = product_words | _WHOLE  # "put the layout back the way it was": the whole, as its name is
    if not wanting or not needs_context(_IT_BACK.sub(" ", wanting[-1]), product_words=whole):
        return False
    return _NEW_LOOK.search(read) is not None or _THE_EARLIER.search(read) is not None


def product_words(product: str) -> frozenset[str]:
    """The words of a product's name (``google_chrome`` -> google, chrome)."""
    return frozenset(word.lower() for word in _WORD.findall(product.replace("_", " ")))


def placement_text(
    ask: Unit, units: Sequence[Unit], *, product: str = "", asks: Sequence[Unit] | None = None
) -> str:
    """The text to embed for placing ``ask`` (one of ``units``, a comment's units in order): the
    ask, with its neighbouring unit when it names nothing or when the comment is that unit and
    the ask alone, without the product's name and "the app" (:data:`_THE_APP`);
    :data:`PREVIOUS_VERSION` when it asks for the product as it was (rule 6). ``asks`` are the
    comment's asks (``ask`` among them); None when not known, which counts ``ask`` as the only one.
    """
    words = product_words(product)
    if wants_previous_version(ask.text, product_words=words):
        return PREVIOUS_VERSION
    read = _with_context(ask, units, words, asks)
    if wants_it_back(ask.text, read, product_words=words):
        return PREVIOUS_VERSION
    return without_the_app(without_product_name(read, words))


def without_the_app(text: str) -> str:
    """``text`` without "the app", "this app", "your app's"... (:data:`_THE_APP`): see :func:`_left_out`."""
    return _left_out(text, _THE_APP)


def _left_out(text: str, pattern: re.Pattern[str]) -> str:
    """``text`` without what ``pattern`` matches and the blanks it leaves; the text itself if no
    word is left.
    """
    left = " ".join(pattern.sub(" ", text).split())
    return left if _WORD.search(left) else text


def without_product_name(text: str, words: frozenset[str]) -> str:
    """``text`` without the product's name (any of its ``words`` of 3 letters or more, with a
    possessive "'s"), and without the blank it leaves; the text itself if nothing else is left.
    """
    named = sorted((w for w in words if len(w) >= 3), key=len, reverse=True)
    if not named:
        return text
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in named) + r")(?:['’]s)?\b", re.IGNORECASE)
    return _left_out(text, pattern)


def _with_context(
    ask: Unit, units: Sequence[Unit], words: frozenset[str], asks: Sequence[Unit] | None
) -> str:
    position = next((i for i, unit in enumerate(units) if unit.start == ask.start), None)
    if position is None:
        return ask.text
    if not needs_context(ask.text, product_words=words):
        return _one_thought(units, position, asks, words) or ask.text
    budget = max(0, MAX_PLACEMENT_WORDS - len(ask.text.split()))
    other = read_with(units, position)
    if other < position:
        kept = units[other].text.split()[-budget:] if budget else []
        return " ".join([*kept, ask.text])
    if other < len(units):
        return " ".join([ask.text, *units[other].text.split()[:budget]])
    return ask.text


def read_with(units: Sequence[Unit], position: int) -> int:
    """The position of the unit an ask at ``position`` that names nothing is read with: the one
    after it when the ask opens the comment or ends with a colon ("One feature suggestion:"),
    else the one before it. May be ``len(units)`` (no such unit).
    """
    if position == 0 or (announces(units[position].text) and position + 1 < len(units)):
        return position + 1
    return position - 1


def _one_thought(
    units: Sequence[Unit], position: int, asks: Sequence[Unit] | None, words: frozenset[str]
) -> str | None:
    """The whole comment when it is two units, the ask at ``position`` naming little and another
    unit that is not an ask and names something, of at most :data:`SHORT_COMMENT_WORDS` words
    together; else None.
    """
    if len(units) != 2:
        return None
    other = units[1 - position]
    if asks is not None and any(found.start == other.start for found in asks):
        return None
    if len(content_words(units[position].text, product_words=words)) > FEW_CONTENT_WORDS:
        return None
    if len(content_words(other.text, product_words=words)) < 2:
        return None
    text = " ".join(unit.text for unit in units)
    return text if len(text.split()) <= SHORT_COMMENT_WORDS else None
