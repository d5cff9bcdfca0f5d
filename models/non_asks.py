"""Units that are not asks by their words: plain praise, a request for a service to the writer,
an instruction to the reader, and a request to fix something.

The unit judge reads a sentence embedding, and MiniLM places two kinds of units beside the asks
for product changes: praise of a feature ("I really like the added feature to connect with my
family", "Love the ability to decide categories", "Screen share is a great tool too"), and a
person's request for a service to themselves ("Please send me a new code", "Give me my refund
please", "Please reply or direct message me"). Both score above the judge's threshold, and in a
replay they gather into themes of praise and of "send me a code". Neither asks the product to
change. A forum's or a support account's instructions ("Please make sure you have the latest
version", "Please provide the URL", "Let us know how it goes") read as requests too, and the
judge takes some of them for asks, as it takes some of the "Please fix it asap" that end bug
reports. Four tests of the words say so:

* **Plain praise** (:func:`is_plain_praise`): the unit praises (it opens with a word of praise,
  "good", "easy", "useful", "intuitive"... among them, or with "I/we (really)
  love/like/enjoy/appreciate", or says something is great, useful, easy, the best, "works
  great", "thank you", "easy to use") and carries no sign of a request, a wish, a
  complaint or a problem: no question mark, no negation, no "wish", "would", "could", "should",
  "please", "need", "want", "hope", "add", "if", "but", "only", "more", "missing", "back",
  "again"..., no request word of another language ("por favor", "bitte", "s'il vous plaît"),
  and no sentence that opens with a change verb ("Give us a way to switch it back", "Put our
  bookmarks back").
* **A service request** (:func:`is_service_request`): the unit asks for something for the writer
  alone (an invitation, a code, a refund, a call, a direct message, "please help"; also the object
  alone or needed with no article: "Invitation code pls", "Need code") and names no
  change of the product: no "option", "feature", "setting", "button", "add", "allow", "should",
  "would be", "let me ...", "when", "why", "can't"...
* **An instruction to the reader** (:func:`is_instruction`): the unit opens (after "please",
  "then", "also"...) with a step for the reader to take or a request for details: "make sure
  you / to ...", "see the attached ...", "provide the URL / more details", "try disabling / the
  following ...", "check your ...", "type ...", "go to ...", "click ...", "let us know",
  "follow these steps", "restart your / the browser", "reply direct", or with an exhortation or a
  turn of speech ("Let's be honest", "Let's say I tap ...", "Let's go", "Let me tell you", "Let
  alone ...", not "Let's add ...", "Let's have ...", "Let us ..."); and names no change for
  the product to make: no "add", "allow", "should", "would", "could", "feature", "ability",
  "wish", "why", "when", "implement", "way to", "option to", "able to", question mark. In
  reviews the same words are the steps of a bug report ("Click share, then ..."), no ask either.
* **A request to fix** (:func:`is_fix_request`): the unit opens (after "please", "can you",
  "just"...) with "fix" ("Please fix it asap", "Fix this glitch", "Can you fix the sync") and
  asks nothing more: no "add", "allow", "should", "would", "feature", "option", "setting",
  "instead", "make", "change", "better", "more", "give us", "bring back", "back to the old",
  "used to", "way to", "able to", "let me/us ...", "so that/I/the ..." ("Please fix this and make
  a limit to ...", "Fix it to the way it used to be"; a promise of stars is no ask: "fix it and
  I'll give 5 stars" stays a fix request). Fixing what is broken is a bug report's request, not
  a product change (``docs/labelling.md``).

* **A remark in a review that gives the product its best rating** (:func:`is_top_rated_remark`):
  in a five-star store review, a unit with no sign of a request at all (none of plain praise's
  signs above, no change verb at its start, and not "ability", "adding", "wished", "better",
  "feature", "setting", "mode", "toggle", "when", "maybe", "way to", "support for", a list
  number...) is praise or a statement of use: "A true one stop shop for all collaboration
  activity", "We previously used Slack, Zoom and Google for team collaboration", "Each team member
  has the app on their computer and phone". The judge's embedding puts such statements beside the
  asks for what they describe. Comments without a rating (every platform but the stores) are not
  read this way: a bare "Offline maps!!!" is an ask in a post, and a rating is what says that the
  writer is content.

The tests leave a unit that also asks to the judge ("Love it, but it needs a dark mode", "I'd
love the ability to export", "Add an option to scan the invitation code", "Why do we need an
invitation at all", "Please make sure to add dark mode"). Such units are neither embedded nor
scored; a comment of nothing else is not a suggestion (reason :data:`PRAISE_REASON` when every
unit is plain praise or a remark of a top-rated review, :data:`SERVICE_REASON` when one is a
service request, else :data:`FIX_REASON` when one is a request to fix, else
:data:`INSTRUCTION_REASON`). English only: other languages are judged as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # judge_eval imports the judge, which imports this module
    from models.judge_eval import UnitGate

PRAISE_REASON = "praise"
"""The reason of a ``not_suggestion`` verdict whose every unit is plain praise."""
SERVICE_REASON = "service_request"
"""The reason of a ``not_suggestion`` verdict whose units are service requests (and plain praise)."""
INSTRUCTION_REASON = "instruction"
"""The reason of a ``not_suggestion`` verdict whose units are instructions to the reader (and praise)."""
FIX_REASON = "fix_request"
"""The reason of a ``not_suggestion`` verdict whose units ask to fix something (and praise, instructions)."""

_INTENSIFIER = (
    r"(?:so|really|very|extremely|super|pretty|just|absolutely|truly|incredibly|quite|such|a|an|the|"
    r"most|always|definitely)"
)
_GOOD = (
    r"(?:great|awesome|amazing|excellent|fantastic|wonderful|perfect|useful|helpful|easy|cool|fun|good|"
    r"nice|intuitive|brilliant|handy|fast|smooth|beautiful|lovely|incredible|superb|outstanding|best|"
    r"game\s*changer|lifesaver|life\s+saver|godsend|flawless(?:ly)?|perfectly|well)"
)
_PRAISE: tuple[re.Pattern[str], ...] = (
    # "I really love ...", "We like ...", "Everyone enjoys ..."
    re.compile(
        r"^\W*(?:i|we|everyone|everybody)\s+(?:(?:really|just|absolutely|truly|especially|do|totally|so|"
        r"genuinely|simply|definitely|personally|all|both|sincerely|honestly|seriously|literally|actually|"
        r"already)\s+){0,2}(?:love[sd]?|like[sd]?|enjoy(?:s|ed)?|appreciate[sd]?|adore[sd]?)\b",
        re.IGNORECASE,
    ),
    # "Love the ...", "Great app", "Awesome build-in support!", "Thanks"
    re.compile(
        r"^\W*(?:love|loving|loved|great|awesome|amazing|excellent|fantastic|wonderful|perfect|nice|cool|"
        r"brilliant|superb|outstanding|best|solid|beautiful|thank|thanks|thx|kudos|incredible|impressive|"
        r"lovely|fabulous|terrific|stellar|wow|yay)\b",
        re.IGNORECASE,
    ),
    # "Good way to collaborate ...", "Really easy to transition ...", "Useful for seamless integration"
    re.compile(
        r"^\W*(?:(?:very|really|so|pretty|super|a)\s+)?(?:good|easy|simple|helpful|useful|handy|convenient|"
        r"efficient|reliable|intuitive|smooth)\b",
        re.IGNORECASE,
    ),
    # "... is extremely useful", "works great", "has been a lifesaver"
    re.compile(
        r"\b(?:is|are|was|were|'s|’s|has\s+been|have\s+been|looks|seems|works)\s+(?:"
        + _INTENSIFIER
        + r"\s+){0,2}"
        + _GOOD
        + r"\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:thank\s+you|thanks|well\s+done|good\s+job|great\s+job|great\s+work|keep\s+(?:it\s+)?up|"
        r"easy\s+to\s+use|best\s+app|5\s+stars|five\s+stars|love\s+(?:it|this|the|that|how|being))\b",
        re.IGNORECASE,
    ),
)

_NEGATION = (
    r"n['’]t\b|\b(?:don|doesn|didn|isn|aren|wasn|weren|hasn|haven|hadn|can|won|couldn|wouldn|shouldn|mustn|"
    r"needn|ain)t\b"
)
"""A negation, with or without its apostrophe ("don't", "dont"); not a word that ends in "nt"
("environment", "excellent")."""

_NOT_PLAIN = re.compile(
    r"\?|"
    + _NEGATION
    + (
    r"|\b(?:wish|wishes|would|wud|could|should|shud|should'?ve|must|can\s+(?:you|u|we|i|they)"
    r"|please|pls|plz|plea+se|need|needs|needed|require[sd]?|want|wants|wanted|hope|hoping|hopefully"
    r"|expect|ask|asking|add|allow|let\s+(?:me|us|users|people)|make\s+(?:it|the|a|an|this|them)"
    r"|bring|give|put|change|switch|return|restore|turn|revert|go\s+back|back|before|used\s+to|old"
    r"|again|instead|rather|prefer|upgrade|option|options|idea|ideas|suggest|suggestion|suggestions"
    r"|request|requests|feature\s+request|hint"
    r"|why|if|only|but|however|except|exception|though|although|despite|besides|other\s+than"
    r"|apart\s+from|almost|yet|still|also|plus|more"
    r"|missing|miss|lack|lacks|lacking|shortcomings?|improve|improved|improvement|improvements"
    r"|can'?t\s+wait|cannot\s+wait|waiting|wait\s+for|looking\s+forward|soon|future|next|someday"
    r"|one\s+day|eventually"
    r"|not|no|never|nothing|without|fix|bug|bugs|crash\w*|issue|issues|problem|problems|shame"
    r"|unfortunately|sadly|too\s+bad"
    r"|i'?d|i’d|we'?d|we’d|it'?d|it’d|you'?d|you’d"
    r"|(?:love|like|nice|great|cool|awesome|good)\s+to\s+(?:see|have|get)|consider|considering|in\s+advance"
    # the commonest request words of Spanish, Portuguese, German, French and Italian: "Great app,
    # por favor ..." is a request in another language, not plain praise
    r"|por\s+favor|porfa|ser[ií]a|estar[ií]a|encantar[ií]a|podr[ií]an|agreguen|a[ñn]adan|falta|faltan"
    r"|bitte|w[äa]re|k[öo]nnt(?:et|en|e)|fehlt|svp|s'il\s+vous|serait|faudrait|pourriez|manque"
    r"|per\s+favore|sarebbe|potreste|manca)\b"),
    re.IGNORECASE,
)

_CHANGE_VERB_OPENING = re.compile(
    # a sentence's opening: the text's start, or a sentence end and at most eight more non-word
    # characters (a long run of ". . ." is then not read again from each of its full stops)
    r"(?:^\W*+|[.!;]\s++\W{0,8}+)(?:(?:please|pls|plz)\s+)?(?:add|make|let|give|allow|include|bring|support|show|"
    r"put|enable|implement|create|integrate|offer|provide|introduce|fix|change|stop|keep|remove|update|"
    r"get|go|have|switch|consider)\b"
    # ...used as a verb: "Support staff is great", "Show notes are useful" open with a noun
    r"(?!\s+(?:[\w'’-]+\s+)?(?:is|are|was|were|has\s+been|have\s+been)\b)",
    re.IGNORECASE,
)


_SERVICE_OBJECT = (
    r"(?:code|codes|invite|invites|invitation|invitations|refund|voucher|promo\s+code|redeem\s+code|"
    r"access\s+code|beta\s+code)"
)
_QUALIFIED_OBJECT = r"(?:(?:invite|invitation|redeem|beta|access|promo)\s+)?" + _SERVICE_OBJECT
"""The object with the word that says which code, for the forms with no article ("Need invite code")."""
_SERVICE = re.compile(
    "|".join(
        (
            r"\b(?:give|send|resend|get|dm|pm|email|e-mail|text)\s+(?:me|us)\s+(?:\w+\s+){0,2}?"
            + _SERVICE_OBJECT
            + r"\b",
            r"\b(?:need|needs|want|like|have|get)\s+(?:(?:a|an|the|my|one|new)\s+)+"
            + _SERVICE_OBJECT
            + r"\b",
            # "Need code", "Plz needs code": the object with no article, where the unit ends with it
            r"\b(?:need|needs)\s+"
            + _QUALIFIED_OBJECT
            + r"\b(?=\s*(?:$|[.!,;]|pls\b|plz\b|please\b|to\s+redeem\b|and\b|so\b))",
            # a unit that is only the object asked for: "Invitation code pls", "Code"
            r"^\W*(?:(?:a|an|the|my|one|new)\s+)?" + _QUALIFIED_OBJECT + r"(?:\s+(?:pls|plz|please))?\W*$",
            r"\b(?:refund|reimburse|compensate)\s+(?:me|us|my|the)\b|\bmy\s+refund\b",
            r"\b(?:call|dm|pm|email|e-mail|text|contact)\s+me\b|\bdirect\s+message\s+me\b",
            r"\b(?:please|pls|plz)\s+help\s*(?:me|us)?\W*$",
            r"^\W*help\s+(?:(?:me|us)\s+)?(?:please|pls|plz)\W*$",
            # the writer's side of a support exchange: "Please advise", "I could really use some help",
            # "still waiting for a reply", "DM sent", "Sent you a DM"
            r"\b(?:please|pls|plz|kindly)\s+advi[sc]e\b",
            r"\b(?:could|can)\s+(?:really\s+)?use\s+(?:some|a\s+little|your)\s+help\b",
            r"\bwaiting\s+(?:for|on)\s+(?:(?:a|an|your|the|any|my)\s+)?(?:reply|response|answer|call\s*back)\b",
            r"\b(?:dm|pm)\s+sent\b|\b(?:dm|pm)['’]?d\s+(?:you|u)\b"
            r"|\bsent\s+(?:you\s+|u\s+)?(?:a|an)\s+(?:dm|pm|direct\s+message)\b",
            # a courtesy and nothing else: "Pls & ty", "please and thank you", "Thanks in advance"
            r"^\W*(?:(?:please|pls|plz)\W*(?:(?:&|and|n)\W*)?)?(?:thanks|thank\s+(?:you|u)|tq|ty|thx|tia)"
            r"(?:\s+in\s+advance)?\W*$",
        )
    ),
    re.IGNORECASE,
)
_NAMES_A_CHANGE = re.compile(
    r"\?|"
    + _NEGATION
    + (
    r"|\b(?:option|options|feature|features|ability|setting|settings|button|mode|support\s+for|add|adding|"
    r"allow|should|would\s+be|could\s+be|let\s+(?:me|us|users|people)\s+(?!know\b)\w+|instead|able\s+to|"
    r"way\s+to|wish|improve|version|update|scan|qr|automatically|when|whenever|why|cannot|no\s+need|"
    # "without" names a change ("add X without Y"), but not in "refund me without delay"
    r"(?:without|with\s+out)(?!\s+(?:any\s+)?(?:further\s+)?delay\b))\b"),
    re.IGNORECASE,
)


_INSTRUCTION = re.compile(
    r"^\W*(?:(?:please|pls|plz|kindly|so|then|now|also|just|first|and|ok|okay|well)\W+){0,2}(?:"
    r"make\s+sure\s+(?:that\s+)?(?:you|your|to\b|both|all\s+of\s+your)"
    r"|see\s+(?:the\s+attached|attached|this\s+article|this\s+link|here|below|above)"
    r"|provide\s+(?:the|us\s+with|your|more\s+(?:info|information|details))"
    r"|try\s+(?:to\s+(?:restart|reinstall|disable|clear|reset|update|delete|remove|log|sign|turn)|the\s+following"
    r"|this|using|disabling|resetting|clearing|starting|creating|reinstalling|updating|running|deleting"
    r"|removing|changing|restarting)"
    r"|check\s+(?:if\s+you|whether\s+you|that\s+you|your|out\s+this)"
    r"|type\s|go\s+to\s|click\s|let\s+us\s+know|refer\s+to"
    r"|follow\s+(?:these|this\s+link|the\s+steps|the\s+instructions)"
    r"|restart\s+(?:your|firefox|vlc|the\s+(?:app|computer|browser|program|device))|reply\s+direct"
    # an exhortation or a turn of speech: "Let's be honest", "Let's say I tap ...", "Let me tell you"
    r"|let['’]?s\b(?!\s+(?:us|make|add|have|get|bring|change|put|allow|enable|give|create|remove|move|"
    r"switch|turn|keep|hope\s+(?:they|you|the\s+(?:devs?|developers?|team))\s+(?:add|fix|bring|make))\b)"
    r"|let\s+alone\b|let\s+me\s+(?:tell|say|preface|first|start|explain|be\s+(?:honest|clear|frank)|think|guess|"
    r"get\s+this\s+straight|"
    r"just\s+say|put\s+it\s+this\s+way)\b)",
    re.IGNORECASE,
)
_ASKS_A_CHANGE = re.compile(
    r"\?|\b(?:add|adding|allow|should|would|could|feature|features|ability|wish|why|when|implement|"
    r"support\s+for|able\s+to|way\s+to|option\s+to)\b",
    re.IGNORECASE,
)


_FIX = re.compile(
    r"^\W*(?:(?:please|pls|plz|kindly|so|just|also|and|now|guys|can\s+you|could\s+you|can\s+u|could\s+u)"
    r"\W+){0,2}fix\b",
    re.IGNORECASE,
)
_ASKS_MORE_THAN_A_FIX = re.compile(
    r"\b(?:add|adding|allow|should|would|feature|features|ability|option|options|setting|settings|instead|"
    r"make|change|way\s+to|able\s+to|let\s+(?:me|us|users|people)|better|improve|more|less|"
    r"give\s+(?:us|users|people|the\s+ability|an?\s+(?:option|way|setting))|bring\s+back|"
    r"back\s+to\s+(?:the\s+)?(?:old|previous|original|way|how)|"
    r"used\s+to|old|before|revert|so\s+(?:that|the|i|we|it|you|they|my|our|people|users))\b",
    re.IGNORECASE,
)


def is_plain_praise(text: str) -> bool:
    """Whether ``text`` (one unit of a comment) praises and asks for nothing: see the module."""
    flat = " ".join(text.split())
    if _NOT_PLAIN.search(flat) or _CHANGE_VERB_OPENING.search(flat):
        return False
    return any(pattern.search(flat) for pattern in _PRAISE)


TOP_RATING = 5
"""The store rating that says the writer is content with the product as it is (ratings run 1-5)."""

_REMARK_SIGNS = re.compile(
    r"\b(?:ability|abilities|adding|added|wished|wishing|when|maybe|better|feature|features|setting|settings|"
    r"toggle|mode|request|capability|support\s+for|integration\s+with|way\s+to)\b"
    r"|^\W*\d+[.)]\s",  # an item of a numbered list: "2) Offline maps"
    re.IGNORECASE,
)
"""Words that may name what a unit of a top-rated review asks for, beyond plain praise's signs of
a request: "The ability to ...", "Adding a dark mode setting", "One feature I wished ...", a list item."""


def is_top_rated_remark(text: str, rating: int | None) -> bool:
    """Whether ``text`` (one unit of a review rated ``rating``) is a remark of a review that gives the
    product its best rating and carries no sign of a request: see the module.
    """
    if rating is None or rating < TOP_RATING:
        return False
    flat = " ".join(text.split())
    return not (_NOT_PLAIN.search(flat) or _CHANGE_VERB_OPENING.search(flat) or _REMARK_SIGNS.search(flat))


def is_service_request(text: str) -> bool:
    """Whether ``text`` (one unit) asks for a service to its writer and names no change: see the module."""
    flat = " ".join(text.split())
    return bool(_SERVICE.search(flat)) and not _NAMES_A_CHANGE.search(flat)


def is_instruction(text: str) -> bool:
    """Whether ``text`` (one unit) tells its reader what to do and asks no change: see the module."""
    flat = " ".join(text.split())
    return bool(_INSTRUCTION.search(flat)) and not _ASKS_A_CHANGE.search(flat)


def is_fix_request(text: str) -> bool:
    """Whether ``text`` (one unit) asks to fix something and nothing more: see the module."""
    flat = " ".join(text.split())
    return bool(_FIX.search(flat)) and not _ASKS_MORE_THAN_A_FIX.search(flat)


def non_ask_kind(text: str, rating: int | None = None) -> str | None:
    """:data:`PRAISE_REASON`, :data:`SERVICE_REASON`, :data:`INSTRUCTION_REASON` or
    :data:`FIX_REASON` when ``text`` (a unit of a comment rated ``rating``, if it has a store
    rating) is that kind of non-ask, else None. A remark of a top-rated review reads as praise.
    """
    if is_plain_praise(text) or is_top_rated_remark(text, rating):
        return PRAISE_REASON
    if is_service_request(text):
        return SERVICE_REASON
    if is_instruction(text):
        return INSTRUCTION_REASON
    if is_fix_request(text):
        return FIX_REASON
    return None


class NonAskGate:
    """A unit gate (as :class:`models.judge_eval.UnitGate`) that rejects the non-asks of
    :func:`non_ask_kind` and passes the rest to ``inner`` (the first stage), or passes them all
    without one: the judge's path before the embedding, for the evaluation's contenders.
    """

    def __init__(self, inner: UnitGate | None = None) -> None:
        self.inner = inner

    @property
    def threshold(self) -> float:
        return self.inner.threshold if self.inner is not None else 0.5

    reads_ratings = True
    """:func:`models.judge_eval.comment_scores` hands it each unit's comment rating."""

    def predict_proba(
        self, texts: Sequence[str], ratings: Sequence[int | None] | None = None
    ) -> npt.NDArray[np.float64]:
        rated = ratings if ratings is not None else [None] * len(texts)
        plain = np.array(
            [non_ask_kind(text, rating) is not None for text, rating in zip(texts, rated, strict=True)],
            dtype=np.bool_,
        )
        scores = (
            np.asarray(self.inner.predict_proba(texts), dtype=np.float64).copy()
            if self.inner is not None
            else np.ones(len(texts), dtype=np.float64)
        )
        scores[plain] = -1.0  # below any threshold
        return scores
