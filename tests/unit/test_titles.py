"""Theme titles: short, from the asks' own words, in their language, never naming anyone."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models.themes.titles import TitleInput, clean_text, theme_titles

DIM = 24

OFFLINE = [
    "Please add offline maps",
    "I wish I could download offline maps before a hike",
    "offline maps would be great when there is no signal",
    "Can you make the maps work offline?",
    "Need offline maps for the mountains",
    "pls offline maps, the trail has no coverage",
]
DARK = [
    "Dark mode please!",
    "Please add a dark mode, the white screen hurts at night",
    "would love a dark mode",
    "Dark mode for the app would be nice",
    "I wish there was a dark theme or dark mode",
]
GPX = [
    "Let me export the elevation profile as GPX",
    "Please allow exporting the elevation profile to a GPX file",
    "Can you add GPX export of the elevation profile?",
    "export elevation profile as gpx so I can use it in my watch",
]
SYNC = [
    "Sync my routes between phone and tablet",
    "Please sync routes across devices",
    "routes should sync to my tablet too",
    "I want my saved routes to sync with the web version",
]
SPANISH = [
    "Por favor agreguen el modo oscuro",
    "Necesito el modo oscuro en la aplicación",
    "modo oscuro para usar de noche",
    "Ojalá tuviera modo oscuro",
]


def theme(texts: list[str], center: int, *, seed: int = 0) -> TitleInput:
    """Members near axis ``center`` (their closeness to the centre varies a little)."""
    rng = np.random.default_rng(center * 100 + seed)
    vectors = np.zeros((len(texts), DIM), dtype=np.float32)
    vectors[:, center] = 1.0
    vectors += rng.normal(0, 0.15, vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    centroid = vectors.sum(axis=0)
    centroid = (centroid / np.linalg.norm(centroid)).astype(np.float32)
    return TitleInput(texts=texts, vectors=vectors, centroid=centroid)


def test_titles_are_the_short_phrase_people_share() -> None:
    titles = theme_titles([theme(OFFLINE, 0), theme(DARK, 1), theme(GPX, 2), theme(SYNC, 3)])
    assert titles[0] == "Offline maps"
    assert titles[1] == "Dark mode"
    assert "elevation profile" in titles[2].lower() or "gpx" in titles[2].lower()
    assert "sync" in titles[3].lower()
    for title in titles:
        assert 1 <= len(title.split()) <= 6
        assert title[0].isupper() and title[-1].isalnum()
        assert not re.match(r"(?i)(please|pls|can you|i wish|would|let me)\b", title)


def test_a_title_keeps_the_words_acronyms_and_the_language_of_the_asks() -> None:
    gpx = theme_titles([theme(GPX, 2), theme(OFFLINE, 0)])[0]
    assert "GPX" in gpx or "gpx" not in gpx.lower()  # an acronym keeps its capitals
    shouted = ["make that person STAY MUTED", "person STAY MUTED please", "MUTE them, STAY MUTED"]
    assert theme_titles([theme(shouted, 3), theme(OFFLINE, 0)])[0] == "Person stay muted"
    spanish = theme_titles([theme(SPANISH, 5), theme(OFFLINE, 0)])[0]
    assert spanish == "Modo oscuro"
    german = ["Bitte GPX-Export fürs Höhenprofil", "GPX-Export wäre klasse", "wann kommt der GPX-Export?"]
    assert theme_titles([theme(german, 5), theme(DARK, 1)])[0] == "GPX-Export"
    chinese = ["希望增加夜间模式", "请加入夜间模式。谢谢", "夜间模式什么时候出"]  # written without spaces
    assert theme_titles([theme(chinese, 5), theme(DARK, 1)])[0] == "夜间模式"
    japanese = ["オフラインマップが欲しい", "オフラインマップをお願いします", "山ではオフラインマップが必要"]
    assert theme_titles([theme(japanese, 5), theme(DARK, 1)])[0] == "オフラインマップ"


def test_a_word_other_themes_use_too_gives_way_to_a_phrase_of_the_theme() -> None:
    saver = ["Add a power saver mode and it's perfect.", "A low-battery mode that keeps recording?"]
    titles = theme_titles([theme(saver, 4), theme(DARK, 1), theme(OFFLINE, 0)])
    assert titles[1] == "Dark mode"
    assert titles[0] in {"Power saver mode", "Low-battery mode"}
    # a word only this theme uses stays the title, however many members add their own details
    german = ["Bitte GPX-Export fürs Höhenprofil", "GPX-Export wäre klasse", "wann kommt der GPX-Export?"]
    assert theme_titles([theme(german, 5), theme(DARK, 1)])[0] == "GPX-Export"
    # in a larger theme one member's phrase is an instance, not the theme: the shared word stays
    names = ("alpha", "bravo", "delta", "echo", "golf", "hotel", "kilo", "lima", "oscar", "tango")
    songs = [f"the {name} song" for name in names]
    titles = theme_titles([theme(songs, 4), theme(["which song is this", "name this song please"], 2)])
    assert titles[0] == "Song"


def test_an_aside_in_brackets_is_no_title() -> None:
    noted = [f"（该条评论已经被删除）{text}" for text in DARK[:3]] + ["[edited] dark mode please"]
    assert theme_titles([theme(noted, 1), theme(OFFLINE, 0)])[0] == "Dark mode"


def test_two_themes_never_share_a_title_and_the_second_gets_no_fragment_of_it() -> None:
    ios = ["dark mode on iOS please", "dark mode for iOS and iPad", "add dark mode to the iOS app",
           "iOS dark mode"]
    first, second = theme_titles([theme(DARK, 1), theme(ios, 4)])
    assert first == "Dark mode"
    assert second.lower() != "mode" and "ios" in second.lower()
    night = ["dark mode for the map at night", "a dark mode map for night hikes", "night map dark mode"]
    first, second = theme_titles([theme(DARK, 1), theme(night, 4)])
    assert first == "Dark mode" and "night" in second.lower()


def test_a_title_wraps_no_request_and_says_no_word_twice() -> None:
    wrapped = ["Olly can you stop the music", "olly can you stop", "Olly can you stop now",
               "stop the music olly"]
    repeated = ["dark mode dark mode dark mode", "dark mode dark mode!!", "pls dark mode dark mode"]
    first, second = theme_titles([theme(wrapped, 2), theme(repeated, 1), theme(OFFLINE, 0)])[:2]
    assert "can you" not in first.lower() and "stop" in first.lower()
    assert second == "Dark mode"


def test_a_particle_ends_a_title_only_after_a_verb_that_takes_it() -> None:
    tabs = ["stop opening new tabs up", "so many tabs up there", "tabs up top please", "all my tabs up front",
            "tabs keep opening"]
    lights = ["turn off the lights", "please turn the lights off", "turn off all lights", "turn off"]
    first, second = theme_titles([theme(tabs, 2), theme(lights, 3), theme(DARK, 1)])[:2]
    assert not first.lower().endswith(" up"), first
    assert "tabs" in first.lower()
    assert second.lower().startswith("turn") and "off" in second.lower(), second
    back = ["bring the bookmarks back", "I want my bookmarks back", "bookmarks back please"]
    assert theme_titles([theme(back, 2), theme(DARK, 1)])[0].lower().endswith("back")


def test_a_title_does_not_begin_with_the_app_as_its_subject() -> None:
    notify = ["App to send notifications when a build is ready", "app to send notifications for new builds",
              "app to send notifications to testers", "send notifications please"]
    title = theme_titles([theme(notify, 2), theme(DARK, 1), theme(["the app crashes", "app is slow"], 3)])[0]
    assert title == "Send notifications", title
    store = ["link to the App Store page", "open the App Store page", "App Store reviews in the app"]
    assert theme_titles([theme(store, 2), theme(DARK, 1)])[0].startswith("App Store")


def test_a_complaint_s_negated_verb_is_no_title() -> None:
    parity = ["the iOS version doesn't have a back button", "iOS doesn't have a back button like Android",
              "iOS doesn't have a home button", "iOS doesn't have reader mode"]
    title = theme_titles([theme(parity, 2), theme(DARK, 1)])[0]
    assert "n't" not in title and "ios" in title.lower(), title
    # ...written without its apostrophe too, as fast typing does
    plain = ["the iOS version doesnt have a back button", "iOS doesnt have a back button like Android",
             "iOS doesnt have a home button", "iOS doesnt have reader mode"]
    title = theme_titles([theme(plain, 2), theme(DARK, 1)])[0]
    assert "doesnt" not in title.lower() and "ios" in title.lower(), title


def test_a_latin_letter_alone_is_no_edge_of_a_title() -> None:
    todo = ["integration w/ To-Do please", "integration w/ Planner", "any integration w/ Outlook?"]
    slack = ["Slack integration please", "integration with Slack would help", "Slack integration"]
    first, second = theme_titles([theme(todo, 2), theme(slack, 3), theme(DARK, 1)])[:2]
    assert first == "Integration" and second == "Slack integration"
    you = ["u logged me out again", "stay logged in pls, u logged me out", "why u logged me out"]
    assert not theme_titles([theme(you, 2), theme(DARK, 1)])[0].lower().startswith("u ")


def test_a_modal_verb_makes_a_sentence_not_a_title() -> None:
    camera = ["students would have their camera on more", "more students would have their camera on",
              "students would have their camera on if only the teacher saw it"]
    title = theme_titles([theme(camera, 2), theme(DARK, 1)])[0]
    assert title and "would" not in title.lower(), title
    # a theme too small to share a run takes a clause of its most central ask, without its modal
    assert theme_titles([theme(["Teams categories would do the trick"], 2), theme(DARK, 1)])[0] == (
        "Teams categories"
    )
    assert theme_titles([theme(["I wish it would auto-capitalize, and more"], 2), theme(DARK, 1)])[0] == (
        "Auto-capitalize"
    )


def test_a_name_spelt_with_an_inner_capital_keeps_it() -> None:
    ios = ["ios players need a controller option", "controller for ios players",
           "iOS players want controllers", "ios players: controller support", "iOS players controller"]
    title = theme_titles([theme(ios, 2), theme(DARK, 1)])[0]
    assert "iOS" in title and "Ios" not in title, title


def test_titles_are_deterministic_and_a_lone_ask_still_gets_one() -> None:
    themes = [theme(OFFLINE, 0), theme(DARK, 1), theme(["Please, bring back the compass!"], 6)]
    assert theme_titles(themes) == theme_titles(themes)
    assert theme_titles(themes)[2] == "Bring back the compass"
    assert theme_titles([]) == []


NOISY = [
    "@trailteam please add offline maps https://example.com/maps #feature",
    "offline maps!! mail me at hiker99@example.org @support",
    "Offline maps @jane_doe www.trails.io/offline",
    "#offlinemaps offline maps please @trailteam\n\nDeveloper Response\n"
    "Thanks @hiker99, offline maps are coming",
]


def test_a_title_never_carries_a_handle_url_email_hashtag_or_a_reply() -> None:
    for texts in (NOISY, NOISY[:1], NOISY[3:]):
        title = theme_titles([theme(texts, 0), theme(DARK, 1)])[0]
        assert title
        assert not re.search(r"[@#/]|https?|www|\.com|\.org|\.io|trailteam|jane|hiker99|support", title, re.I)
    assert "Developer Response" not in clean_text(NOISY[3]) and "coming" not in clean_text(NOISY[3])


WORDS = ["offline", "maps", "dark", "mode", "export", "route", "the", "please", "add", "for", "night"]
NOISE = st.sampled_from(
    ["@trailteam", "@jane_doe", "https://t.co/abc", "www.trails.io/x", "#feature", "bob@example.com",
     "＠zenkaku"]
)
ASK = st.lists(st.one_of(st.sampled_from(WORDS), NOISE), min_size=1, max_size=12)
ASKS = st.lists(ASK, min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(ASKS)
def test_no_handle_or_url_ever_reaches_a_title(asks: list[list[str]]) -> None:
    texts = [" ".join(words) for words in asks]
    for title in theme_titles([theme(texts, 0), theme(DARK, 1)]):
        assert not re.search(r"[@＠#/]|https?|www|\.com|trailteam|jane|zenkaku|bob", title, re.I), title
        assert len(title.split()) <= 6
        words = title.lower().split()
        assert not words or "please" not in (words[0], words[-1])


def test_the_product_name_is_never_what_a_title_or_keyword_leans_on() -> None:
    from models.themes.labels import ctfidf_keywords

    chrome = ["Chrome needs a reading list", "Please give Chrome a reading list", "a reading list in Chrome"]
    tabs = ["Chrome should group tabs", "group my tabs in Chrome please", "Chrome, let me group tabs"]
    named = frozenset({"google", "chrome"})
    titles = theme_titles([theme(chrome, 0), theme(tabs, 1)], ignore=named)
    assert "chrome" not in " ".join(titles).lower(), titles
    assert titles[0].lower() == "reading list"
    keywords = ctfidf_keywords([chrome, tabs], top_n=3, ignore=named)
    assert all("chrome" not in words for words in keywords), keywords
    plain = ctfidf_keywords([chrome, tabs], top_n=3)
    assert "chrome" in plain[0] + plain[1]  # without the product's name given, it can lead


def test_a_theme_is_named_from_its_provisional_members_too() -> None:
    """A theme founded by two asks that three more joined at a re-cluster's looser join (its
    provisional members, counted and thanked like the others) is named from all five."""
    from datetime import UTC, datetime

    from models.themes.labels import relabel
    from models.themes.records import Member, ThemeRecord

    founders = ["Battery saver mode would be great, GPS every 30s is enough",
                "let me trade GPS accuracy for battery"]
    joined = ["battery saver mode pls", "Please add a battery saver mode",
              "a battery saver mode for long trips"]
    night = ["Dark mode please!", "would love a dark mode", "Dark mode for the app would be nice"]
    at = datetime(2026, 1, 1, tzinfo=UTC)

    def members(texts: list[str], axis: int) -> list[Member]:
        vectors = theme(texts, axis).vectors
        return [Member(f"s-{t}", t, v, at, at, [f"a-{t}"]) for t, v in zip(texts, vectors, strict=True)]

    power = ThemeRecord.empty(theme_id="t-power", product="trailmate", dim=DIM, at=at, author_cap=100)
    for m in members(founders, 0):
        power.absorb(m, sample_size=50)
    for m in members(joined, 0):
        power.absorb(m, sample_size=50, provisional=True)
    dark = ThemeRecord.empty(theme_id="t-dark", product="trailmate", dim=DIM, at=at, author_cap=100)
    for m in members(night, 2):
        dark.absorb(m, sample_size=50)
    assert len(power.sample) == 2 and len(power.provisional) == 3
    relabel([power, dark], top_n=4)
    assert power.title == "Battery saver mode", power.title
    assert "battery" in power.keywords
    # from the two founders alone the shared words are "GPS" and "battery", no phrase
    founders_only = ThemeRecord.empty(theme_id="t-f", product="trailmate", dim=DIM, at=at, author_cap=100)
    for m in members(founders, 0):
        founders_only.absorb(m, sample_size=50)
    relabel([founders_only, dark], top_n=4)
    assert founders_only.title in {"GPS", "Battery"}, founders_only.title


def test_keywords_say_what_is_asked_for_not_how() -> None:
    from models.themes.labels import ctfidf_keywords

    dark = ["dark mode pls", "Please add a dark mode, would be awesome", "Feature idea: dark mode option"]
    offline = ["offline maps please", "I need offline maps for the mountains", "pls add offline maps"]
    keywords = ctfidf_keywords([dark, offline], top_n=4)
    assert keywords[0][:2] == ["dark", "mode"]
    assert set(keywords[1][:2]) == {"offline", "maps"}
    asking = {"pls", "please", "add", "awesome", "feature", "idea", "option", "need"}
    assert not asking & {word for words in keywords for word in words}, keywords


def test_keywords_never_carry_a_handle_url_hashtag_or_a_reply() -> None:
    """A theme's keywords are read from the person's own words, as its title is."""
    from datetime import UTC, datetime

    from models.themes.labels import relabel
    from models.themes.records import Member, ThemeRecord

    at = datetime(2026, 1, 1, tzinfo=UTC)
    themes = []
    for axis, texts in enumerate((NOISY, DARK)):
        record = ThemeRecord.empty(theme_id=f"t-{axis}", product="trailmate", dim=DIM, at=at, author_cap=100)
        for text, vector in zip(texts, theme(texts, axis).vectors, strict=True):
            record.absorb(Member(f"s-{text}", text, vector, at, at, [f"a-{text}"]), sample_size=50)
        themes.append(record)
    relabel(themes, top_n=8)
    keywords = set(themes[0].keywords)
    assert {"offline", "maps"} <= keywords
    noise = {"trailteam", "jane", "doe", "hiker", "support", "example", "com", "org", "trails", "io",
             "https", "feature", "offlinemaps", "developer", "response", "coming", "thanks"}
    assert not noise & keywords, keywords


def test_a_contraction_of_function_words_is_no_edge_of_a_title() -> None:
    praise = ["The best I’ve used for hiking", "honestly the best app I’ve had on my phone",
              "I’ve tried five of them", "you're going to love it, we've used it all summer"]
    title = theme_titles([theme(praise, 2), theme(DARK, 1)])[0]
    words = [word.lower().replace("’", "'") for word in title.split()]
    contracted = {"i've", "you're", "we've"}
    assert words and words[0] not in contracted and words[-1] not in contracted, title
    typed = ["ive wanted route colours forever", "route colours ive asked twice",
             "theyre missing route colours"]
    assert theme_titles([theme(typed, 2), theme(DARK, 1)])[0].lower() == "route colours"


def test_a_word_of_time_neither_ends_a_title_nor_makes_one_alone() -> None:
    back = ["Bring back the old layout", "please bring back the old version", "bring back the old one!!",
            "Bring back the old version please", "I want the old one back", "bring back the old UI"]
    title = theme_titles([theme(back, 2), theme(DARK, 1)])[0]
    words = title.lower().split()
    assert words[-1] not in {"old", "new", "previous"}, title
    assert set(words) - {"old", "one", "back", "bring", "the"}, title


def test_a_word_of_which_or_how_many_neither_ends_a_title_nor_makes_one_alone() -> None:
    groups = ["let us create different groups in a team", "create different channels for each class",
              "I can create different categories", "please let me create different sections",
              "create different folders for projects"]
    title = theme_titles([theme(groups, 2), theme(DARK, 1)])[0]
    assert title.lower().split()[-1] not in {"different", "multiple", "separate"}, title
    available = ["make it available offline", "should be available on my watch", "available on android too",
                 "please make it available on the web", "make the recordings available"]
    alone = theme_titles([theme(available, 3), theme(DARK, 1)])[0]
    assert alone.lower() != "available", alone


def test_function_words_one_member_wrote_do_not_make_a_title_of_one_shared_word() -> None:
    """A theme about another app, "Zoom": one ask's "zoom in and out" is not what the theme asks,
    though its function words would make "Zoom" a title of the preferred length."""
    zoom = [
        "more like Zoom please",
        "Zoom lets you see everyone at once",
        "add the gallery view Zoom has",
        "we switched to Zoom for classes",
        "let me pinch to zoom in and out on shared screens",
        "zoom is easier for the kids",
    ]
    title = theme_titles([theme(zoom, 2), theme(DARK, 1)])[0]
    assert title == "Zoom", title
    lights = ["turn it off at night", "let me turn it off", "pls turn it off", "turn it off already"]
    assert theme_titles([theme(lights, 3), theme(DARK, 1)])[0] == "Turn it off"  # written as is by all
