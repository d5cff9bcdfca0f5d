"""'You asked, we did': everyone thanked once, texts within each platform's limit, brand templates."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.events import CommentFields, Platform
from models.closure import (
    MENTION_PLATFORMS,
    PLATFORM_LIMITS,
    ClosureContent,
    ClosureTemplates,
    ClosureTheme,
    Person,
    TemplateError,
    build_closure,
    distinct_askers,
    load_templates,
    monthly_update,
    platform_length,
)
from models.lifecycle import ReleaseInfo
from models.templates import DEFAULT_TEMPLATES_PATH, PLACEHOLDERS

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
TEMPLATES = load_templates()
RELEASE = ReleaseInfo(
    name="Tidewater",
    version="3.2",
    date=date(2026, 3, 18),
    link="https://tidewater.example/changelog/3.2",
    note="Tide tables now work without a connection: the app keeps the next 14 days for your saved harbours.",
)
SHIPPED = ClosureTheme(
    theme_id="th-offline", product="tidewater", title="offline tide tables", outcome="shipped"
)
DECLINED = ClosureTheme(
    theme_id="th-watch",
    product="tidewater",
    title="a smartwatch app",
    outcome="declined",
    reason="We are two people, and a watch app would take us a year to build and keep working. "
    "We would rather make the phone app's widget better first.",
)


def person(
    platform: Platform, author: str, comment: str, *, handle: str | None = None, minutes: int = 0
) -> Person:
    return Person(
        platform=platform,
        author_id=author,
        handle=handle,
        comment_id=comment,
        comment_url=f"https://social.example/{comment}",
        thread_id=f"thread-{comment}",
        asked_at=T0 + timedelta(minutes=minutes),
    )


def close(
    people: list[Person],
    *,
    theme: ClosureTheme = SHIPPED,
    release: ReleaseInfo | None = RELEASE,
    templates: ClosureTemplates = TEMPLATES,
) -> ClosureContent:
    return build_closure(
        theme=theme, people=people, release=release, templates=templates, now=NOW, closure_id="closure-1"
    )


def post(content: ClosureContent, platform: Platform) -> str:
    return next(p.text for p in content.public_posts if p.platform is platform)


def test_the_default_templates_load_and_stay_calm() -> None:
    assert TEMPLATES.name == "default" and TEMPLATES.max_mentions == 10
    text = DEFAULT_TEMPLATES_PATH.read_text(encoding="utf-8")
    assert "!" not in text


def test_same_person_is_thanked_once_with_every_comment_kept() -> None:
    people = [
        person(Platform.X, "u1", "c1", handle="@marina", minutes=5),
        person(Platform.X, "u1", "c2", handle="marina", minutes=1),
        person(Platform.X, "u1", "c2", handle="marina", minutes=1),  # the same comment, passed twice
        person(Platform.INSTAGRAM, "u1", "c3", handle="marina"),  # another platform: another account
    ]
    content = close(people)
    assert content.people_count == 2
    x_asker = next(a for a in content.people if a.platform is Platform.X)
    assert [c.comment_id for c in x_asker.comments] == ["c2", "c1"]  # oldest first
    assert x_asker.handle == "@marina"
    assert content.comment_count == 3
    assert sorted(r.comment_id for r in content.replies) == ["c1", "c2", "c3"]
    assert post(content, Platform.X).count("@marina") == 1


def test_two_asks_of_one_comment_are_one_reference_quoting_both_and_one_reply() -> None:
    first = replace(person(Platform.X, "u1", "c1", handle="@marina"), ask="offline tide tables please")
    second = replace(first, ask="and keep a week of them")
    content = close([first, second, replace(first, ask="offline tide tables please")])
    (asker,) = content.people
    (reference,) = asker.comments
    assert reference.asks == ("offline tide tables please", "and keep a week of them")
    assert [r.comment_id for r in content.replies] == ["c1"]
    assert content.to_dict()["people"][0]["comments"][0]["asks"] == list(reference.asks)


def test_shipped_post_names_the_release_thanks_people_and_links() -> None:
    people = [person(Platform.X, f"u{n}", f"c{n}", handle=f"sailor{n}", minutes=n) for n in range(3)]
    text = post(close(people), Platform.X)
    assert text.startswith("You asked, we did: offline tide tables is now available in Tidewater 3.2.")
    assert "Thank you @sailor0, @sailor1, @sailor2 for asking." in text
    assert "https://tidewater.example/changelog/3.2" in text


def test_ship_without_release_says_latest_update() -> None:
    content = close([person(Platform.FORUM, "u1", "c1", handle="harbourmaster")], release=None)
    assert "in our latest update" in post(content, Platform.FORUM)
    assert content.closure_key == "closure:th-offline:none"
    assert "in our latest update" in content.replies[0].text


def test_declined_says_so_and_why() -> None:
    content = close(
        [person(Platform.FACEBOOK, "u1", "c1"), person(Platform.FACEBOOK, "u2", "c2")],
        theme=DECLINED,
        release=None,
    )
    text = post(content, Platform.FACEBOOK)
    assert "We have decided not to build it" in text
    assert "a watch app would take us a year" in text
    assert "2 of you asked for this." in text
    assert "not to build it" in content.replies[0].text and "a year" in content.replies[0].text
    with pytest.raises(ValueError, match="why"):
        close([person(Platform.X, "u1", "c1")], theme=ClosureTheme("t", "p", "x", "declined"), release=None)
    with pytest.raises(ValueError):
        close([person(Platform.X, "u1", "c1")], theme=DECLINED, release=RELEASE)


def test_no_mentions_where_the_platform_has_none() -> None:
    content = close(
        [
            person(Platform.GOOGLE_PLAY, "u1", "c1", handle="reviewer"),
            person(Platform.GOOGLE_PLAY, "u2", "c2", handle="other"),
        ]
    )
    text = post(content, Platform.GOOGLE_PLAY)
    assert "@" not in text and "2 of you asked" in text
    assert content.public_posts[0].mentioned_handles == ()
    assert content.replies[0].text.startswith("Thank you for your review.")  # the brand's google_play variant


def test_many_people_on_x_drop_handles_before_the_note() -> None:
    people = [person(Platform.X, f"u{n}", f"c{n}", handle=f"sailor_number_{n}", minutes=n) for n in range(40)]
    content = close(people)
    x_post = next(p for p in content.public_posts if p.platform is Platform.X)
    assert platform_length(Platform.X, x_post.text) <= 280
    assert 0 < len(x_post.mentioned_handles) < 40
    assert f"and the {40 - len(x_post.mentioned_handles)} others who asked" in x_post.text
    assert all(handle in x_post.text for handle in x_post.mentioned_handles)


def test_thousands_of_people_with_long_handles_still_fit_everywhere() -> None:
    people = [
        person(
            platform, f"{platform.value}-{n}", f"{platform.value}-c{n}", handle="h" * 50 + str(n), minutes=n
        )
        for platform in Platform
        for n in range(400)
    ]
    content = close(people)
    assert content.people_count == 400 * len(Platform)
    assert len(content.replies) == 400 * len(Platform)
    for public in content.public_posts:
        assert public.length <= public.limit
        assert len(public.mentioned_handles) <= TEMPLATES.max_mentions
        unnamed = content.people_count - len(public.mentioned_handles)
        assert re.search(rf"\b{unnamed} (others|of you) ", public.text)


def test_handles_with_spaces_are_not_mentioned() -> None:
    content = close([person(Platform.X, "u1", "c1", handle="Ana Maria")])
    assert "@" not in post(content, Platform.X) and content.people[0].handle is None


def test_a_long_note_is_shortened_on_a_word_boundary() -> None:
    long_note = " ".join(["The harbour view now keeps tide tables, currents and sunrise times offline."] * 8)
    release = ReleaseInfo(name="Tidewater", version="3.2", note=long_note)
    text = post(close([person(Platform.X, "u1", "c1")], release=release), Platform.X)
    assert platform_length(Platform.X, text) <= 280
    shortened = next(line for line in text.splitlines() if line.endswith("…"))
    words = long_note.split()
    assert shortened[:-1].split() == words[: len(shortened[:-1].split())]


def test_x_counts_urls_as_23_and_wide_characters_as_two() -> None:
    assert platform_length(Platform.X, "https://example.com/" + "a" * 100) == 23
    assert platform_length(Platform.X, "潮汐") == 4
    assert platform_length(Platform.FORUM, "潮汐") == 2


def test_closure_is_json_serializable_with_a_stable_key() -> None:
    content = close([person(Platform.YOUTUBE, "u1", "c1", handle="@keel")])
    data = json.loads(json.dumps(content.to_dict()))
    assert data["closure_key"] == "closure:th-offline:3.2"
    assert data["people"][0]["comments"][0]["comment_url"] == "https://social.example/c1"
    assert data["replies"][0]["thread_id"] == "thread-c1"


def test_nobody_to_thank_gives_no_posts() -> None:
    content = close([])
    assert content.public_posts == () and content.replies == ()


# ---- brand templates ----------------------------------------------------------------------


def brand_file(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_TEMPLATES_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "brand.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_brand_changes_the_words_without_code(tmp_path: Path) -> None:
    path = brand_file(tmp_path, "You asked, we did: $title", "Ahoy. $title has arrived")
    content = close([person(Platform.FORUM, "u1", "c1")], templates=load_templates(path=path))
    assert post(content, Platform.FORUM).startswith("Ahoy. offline tide tables has arrived")


def test_unknown_placeholder_fails_at_load_with_the_key_and_allowed_names(tmp_path: Path) -> None:
    path = brand_file(tmp_path, "You asked, we did: $title", "You asked, we did: $titel")
    with pytest.raises(
        TemplateError, match=r"shipped\.public: unknown placeholder \$titel; allowed: .*\$title"
    ):
        load_templates(path=path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('minimal = "You asked, we did. Thank you for telling us."', 'minimal = "Thanks $handle"', "minimal"),
        (
            'minimal = "You asked, we did. Thank you for telling us."',
            f'minimal = "{"long " * 40}"',
            "minimal",
        ),
        ('people_one = "1 person"', 'people_one = "1 person for $5"', "malformed"),
        ('people_one = "1 person"', 'peeple_one = "1 person"', "unknown key phrases.peeple_one"),
        ("[shipped.by_platform.app_store]", "[shipped.by_platform.myspace]", "unknown platform"),
    ],
)
def test_broken_template_files_fail_loudly(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        load_templates(path=brand_file(tmp_path, old, new))


def test_missing_template_file_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(TemplateError):
        load_templates(path=tmp_path / "nowhere.toml")


# ---- monthly update -------------------------------------------------------------------------


def test_monthly_update_counts_distinct_people_over_shipped_themes() -> None:
    both = person(Platform.X, "u1", "c1", handle="ana")
    offline = close([both, person(Platform.X, "u2", "c2")])
    widget = build_closure(
        theme=ClosureTheme("th-widget", "tidewater", "a bigger widget", "shipped"),
        people=[both, person(Platform.APP_STORE, "r9", "c9")],
        release=ReleaseInfo(name="Tidewater", version="3.1", date=date(2026, 3, 3)),
        templates=TEMPLATES,
        now=NOW,
        closure_id="closure-2",
    )
    declined = close([person(Platform.X, "u7", "c7")], theme=DECLINED, release=None)
    update = monthly_update([offline, widget, declined], month="2026-03", templates=TEMPLATES)
    assert [item.theme_id for item in update.items] == ["th-widget", "th-offline"]  # by release date
    assert update.distinct_people == 3
    assert [release.version for release in update.releases] == ["3.1", "3.2"]
    assert update.text.splitlines()[0] == "What we shipped in March 2026"
    assert "- offline tide tables, in Tidewater 3.2 (2 people asked)" in update.text
    assert "3 people asked for what shipped this month." in update.text
    json.dumps(update.to_dict())


def test_monthly_update_of_an_empty_month_and_a_bad_month() -> None:
    assert (
        "Nothing people asked for shipped in February 2026"
        in monthly_update([], month="2026-02", templates=TEMPLATES).text
    )
    with pytest.raises(ValueError):
        monthly_update([], month="March", templates=TEMPLATES)


# ---- properties -----------------------------------------------------------------------------

handles = st.one_of(
    st.none(),
    st.text(
        alphabet=st.characters(categories=["L", "N"], include_characters="_. @"), min_size=1, max_size=60
    ),
)
people_strategy = st.lists(
    st.builds(
        person,
        st.sampled_from(list(Platform)),
        st.sampled_from([f"author-{n}" for n in range(30)]),
        st.sampled_from([f"comment-{n}" for n in range(60)]),
        handle=handles,
        minutes=st.integers(0, 10_000),
    ),
    max_size=80,
)
words = st.text(alphabet=st.characters(categories=["L", "N", "P", "Zs"]), max_size=400)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    people=people_strategy,
    note=words,
    title=st.text(min_size=1, max_size=300).filter(str.strip),
    declined=st.booleans(),
    with_release=st.booleans(),
)
def test_everyone_once_and_every_text_within_its_limit(
    people: list[Person], note: str, title: str, declined: bool, with_release: bool
) -> None:
    if declined:
        theme = ClosureTheme(
            "th", "p", title, "declined", reason=note.strip() or "It does not fit the product."
        )
        release = None
    else:
        theme = ClosureTheme("th", "p", title, "shipped")
        release = (
            ReleaseInfo(name="Tidewater", version="9.9", note=note, link="https://t.example/" + "x" * 300)
            if with_release
            else None
        )
    content = build_closure(
        theme=theme, people=people, release=release, templates=TEMPLATES, now=NOW, closure_id="c"
    )
    keys = [(asker.platform, asker.author_id) for asker in content.people]
    assert len(keys) == len(set(keys))  # nobody twice
    assert set(keys) == {(p.platform, p.author_id) for p in people}  # everybody who asked
    assert {(r.platform, r.comment_id) for r in content.replies} == {
        (p.platform, p.comment_id) for p in people
    }
    for public in content.public_posts:
        assert platform_length(public.platform, public.text) <= PLATFORM_LIMITS[public.platform]
        mentioned = set(re.findall(r"@[^\s,]+", public.text))
        assert set(public.mentioned_handles) <= mentioned  # whole handles, never cut
        if public.platform not in MENTION_PLATFORMS:
            assert public.mentioned_handles == ()
    for reply in content.replies:
        assert platform_length(reply.platform, reply.text) <= PLATFORM_LIMITS[reply.platform]


@given(people=people_strategy)
def test_distinct_askers_is_a_partition_of_the_comments(people: list[Person]) -> None:
    askers = distinct_askers(people)
    comment_keys = [(a.platform, c.comment_id, a.author_id) for a in askers for c in a.comments]
    assert len(comment_keys) == len(set(comment_keys))
    assert {(p.platform, p.author_id) for p in people} == {(a.platform, a.author_id) for a in askers}


def test_person_from_an_accepted_comment() -> None:
    comment = CommentFields(
        comment_id="17890",
        platform=Platform.INSTAGRAM,
        product="tidewater",
        author_id="ig-42",
        author_handle="@saltwater.sam",
        text="Please make the tide tables work offline",
        created_at=T0,
        url="https://instagram.example/p/17890",
    )
    asker = Person.from_comment(comment)
    assert (asker.platform, asker.author_id, asker.handle) == (Platform.INSTAGRAM, "ig-42", "@saltwater.sam")
    assert asker.thread_id == "17890" and asker.asked_at == T0


def test_every_allowed_placeholder_renders(tmp_path: Path) -> None:
    # a brand file where each text uses every placeholder it is allowed: nothing may be missing at render time
    lines = ['[meta]\nname = "all"\nversion = "1"\nmax_mentions = 3']
    sections: dict[str, list[str]] = {}
    for key, allowed in PLACEHOLDERS.items():
        section, name = key.split(".")
        text = "Thanks." if name == "minimal" else " ".join(f"${p}" for p in sorted(allowed)) + " ok"
        sections.setdefault(section, []).append(f'{name} = "{text}"')
    lines += [f"[{section}]\n" + "\n".join(texts) for section, texts in sections.items()]
    path = tmp_path / "all.toml"
    path.write_text("\n\n".join(lines), encoding="utf-8")
    templates = load_templates(path=path)
    people = [person(platform, "u1", f"c-{platform.value}", handle="ana") for platform in Platform]
    shipped = close(people, templates=templates)
    close(people, theme=DECLINED, release=None, templates=templates)
    update = monthly_update([shipped], month="2026-03", templates=templates)
    assert "$" not in update.text and all("$" not in p.text for p in shipped.public_posts)


def test_a_follow_up_closure_is_no_second_item_of_the_monthly_update() -> None:
    """A product manager thanks someone after shipping: the month's update lists the theme once,
    with that person among the people who asked, and a follow-up of an earlier month's closure
    adds nothing to this month's."""
    from contracts.lifecycle import ClosureAsker, ClosureComment
    from models.theme_commands import monthly_update_event
    from tests.readmodel_support import closure

    def asker(number: int) -> ClosureAsker:
        comment = ClosureComment(comment_id=f"c{number}", asked_at=T0 - timedelta(days=3))
        return ClosureAsker(platform="x", author_id=f"user{number}", handle=None, comments=[comment])  # type: ignore[arg-type]

    first = closure("t-1").model_copy(
        update={"people": [asker(1), asker(2)], "people_count": 2, "generated_at": T0}
    )
    follow_up = first.model_copy(update={
        "closure_key": f"{first.closure_key}:+a3", "closure_id": f"{first.closure_key}:+a3",
        "follow_up_of": first.closure_key, "people": [asker(3)], "people_count": 1, "public_posts": [],
        "generated_at": T0 + timedelta(days=2),
    })
    april = follow_up.model_copy(update={"generated_at": datetime(2026, 4, 3, tzinfo=UTC)})
    update = monthly_update_event([first, follow_up], product="trailmate", month="2026-03",
                                  templates=TEMPLATES, now=NOW)
    assert [(item.theme_id, item.people_count) for item in update.items] == [("t-1", 3)]
    assert update.distinct_people == 3
    assert update.text.count("Offline maps") == 1 and "(3 people asked)" in update.text
    later = monthly_update_event(
        [first, april], product="trailmate", month="2026-04", templates=TEMPLATES, now=NOW
    )
    assert later.items == [] and later.distinct_people == 0
