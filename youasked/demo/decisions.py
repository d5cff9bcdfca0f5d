"""The demo's product manager: a few decisions through the API, as a person would make them.

After the replay the themes exist but nobody has decided anything, so the dashboard's matrix
has no costs and the public board no plans or "You asked, we did". The demo's product manager
estimates each theme's cost (a fixed list of T-shirt sizes, in score order), and ships a
release whose note says what changed (:data:`DEMO_RELEASE`): they search the themes for it
(``GET /themes/search``), name the closest (:func:`shipped_by`) and ship it with the note, so the
closure judges each ask against what shipped. Then they plan the top remaining theme and start
the next (with no theme asking for the release, the third theme in score order ships in it
instead, or with fewer themes the first: the loop closes even on a small replay; a release an
earlier run shipped is not shipped again, and only the plans are made), print who the
closure thanked, held and left out, and publish the month's update. Everything goes through the
same routes and commands a real product manager uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from youasked.waiting import eventually

SIZES = ("S", "L", "M", "XL", "S", "M")
PLAN = ("planned", "in_progress", "shipped")
WANTED = ("shipped", "planned", "in_progress")  # which decisions to make first, when themes are few
DEMO_RELEASE = {
    "name": "Trailmate",
    "version": "2.4",
    "note": "Live location sharing: family and friends can follow your hike in real time.\n"
            "Faster start-up on older phones.",
}
SHIPPED_TITLE = "Live location sharing"
"""The product manager's name for what shipped (the shipped theme's title from now on)."""
ASKS_FOR_RELEASE = 0.5
"""Search similarity at which the product manager takes a theme as asking for what shipped:
the engine's own level for an ask joining a theme's centre (``reassign_threshold``)."""


@dataclass
class Decisions:
    """What the demo's product manager did: ``lines`` to print, the shipped theme if any."""

    lines: list[str] = field(default_factory=list)
    shipped: str | None = None




def decide(base: str, key: str, *, product: str, timeout: float = 120.0) -> Decisions:
    """Make the demo's decisions on ``product`` through the API at ``base`` with a pm ``key``."""
    done = Decisions()
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30.0) as client:

        def themes() -> list[dict[str, Any]]:
            try:
                page = client.get("/themes", params={"product": product, "sort": "score", "limit": 6})
            except httpx.TransportError:  # the API is still starting
                return []
            return list(page.json()["items"]) if page.status_code == 200 else []

        found = eventually(themes, timeout=timeout, every=0.5)
        if not found:
            done.lines.append("no themes reached the read model in time; no decisions made")
            return done
        found = [theme for theme in found if theme["lifecycle_status"] == "new"]
        if not found:  # the broker and the read model kept an earlier run's state
            done.lines.append("every theme was decided by an earlier run (`make clean` starts over)")
            return done

        def outcome(command_id: str) -> dict[str, Any] | None:
            def probe() -> dict[str, Any] | None:
                answer = client.get(f"/commands/{command_id}")
                return dict(answer.json()) if answer.status_code == 200 else None

            return eventually(probe, timeout=timeout, every=0.5)

        def command(path: str, body: dict[str, Any]) -> dict[str, Any] | None:
            answer = client.post(path, json=body)
            if answer.status_code != 202:
                done.lines.append(f"{path}: {answer.status_code} {answer.text[:200]}")
                return None
            return outcome(answer.json()["command_id"])

        def set_status(theme: dict[str, Any], status: str, title: str) -> None:
            tid = theme["theme_id"]
            decided = command(f"/themes/{tid}/status", {"status": status, "reason": "demo decision"})
            done.lines.append(f"{status:<12} {tid}  {title}  ({verdict_of(decided)})")
            if status == "shipped" and decided and decided["accepted"]:
                done.shipped = tid

        for theme, size in zip(found, SIZES, strict=False):
            command(f"/themes/{theme['theme_id']}/cost", {"cost": {"size": size}})
        closures = client.get("/closures", params={"product": product})
        earlier = released_in(closures.json() if closures.status_code == 200 else [], DEMO_RELEASE["version"])
        if earlier is not None:  # a release ships once: an earlier run's closure stands
            done.lines.append(
                f"release {DEMO_RELEASE['version']} was shipped by an earlier run ({earlier}); "
                "`make clean` starts over"
            )
            for theme, status in zip(found, ("planned", "in_progress"), strict=False):
                set_status(theme, status, theme.get("title") or theme["label"])
            return done
        note = DEMO_RELEASE["note"].splitlines()[0]
        hits = client.get("/themes/search", params={"q": note, "product": product, "limit": 10})
        target = shipped_by(hits.json()["items"] if hits.status_code == 200 else [])
        if target is None:  # nothing asks for the release: the third theme ships in it, unnamed
            release = {name: value for name, value in DEMO_RELEASE.items() if name != "note"}
            for theme, status in zip(found, plan(len(found)), strict=False):
                if status == "shipped":
                    command(f"/themes/{theme['theme_id']}/release", {"release": release})
                set_status(theme, status, theme.get("title") or theme["label"])
        else:
            tid = target["theme_id"]
            done.lines.append(f"searched the themes for the release note: “{note}”")
            command(f"/themes/{tid}/title", {"title": SHIPPED_TITLE, "reason": "the release's name for it"})
            command(f"/themes/{tid}/release", {"release": DEMO_RELEASE})
            set_status(target, "shipped", SHIPPED_TITLE)
            rest = [theme for theme in found if theme["theme_id"] != tid]
            for theme, status in zip(rest, ("planned", "in_progress"), strict=False):
                set_status(theme, status, theme.get("title") or theme["label"])
        if done.shipped:
            done.lines.extend(closure_lines(client, product=product, theme_id=done.shipped, timeout=timeout))
    return done


def shipped_by(hits: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The theme that ships the release, from the themes search for its note (``hits``): the
    closest undecided theme, if it is at :data:`ASKS_FOR_RELEASE` or closer; else None.

    Only that theme ships: merging every theme near the note into it first would make a theme
    that mixed two ideas (live tracking asks beside geotagged photos) part of what shipped, and
    its photo asks would be thanked with the rest (a merged theme's centre moves towards the note).
    """
    asking = [
        hit for hit in hits
        if hit.get("similarity", 0.0) >= ASKS_FOR_RELEASE and hit.get("lifecycle_status") == "new"
        and not hit.get("merged_into")
    ]
    return max(asking, key=lambda hit: hit["similarity"]) if asking else None


def released_in(closures: list[dict[str, Any]], version: str) -> str | None:
    """The theme an earlier closure shipped in release ``version``, from ``GET /closures`` rows (their
    outcome, theme and the event's release), or None when that release has not shipped.
    """
    for row in closures:
        release = (row.get("event") or {}).get("release") or {}
        if row.get("outcome") == "shipped" and release.get("version") == version and row.get("theme_id"):
            return str(row["theme_id"])
    return None


def closure_lines(client: httpx.Client, *, product: str, theme_id: str, timeout: float) -> list[str]:
    """Who the shipped theme's closure thanked, held for a person and left out, ask by ask."""

    def probe() -> dict[str, Any] | None:
        answer = client.get("/closures", params={"product": product})
        if answer.status_code != 200:
            return None
        return next((dict(row["event"]) for row in answer.json() if row["theme_id"] == theme_id), None)

    event = eventually(probe, timeout=timeout, every=0.5)
    if event is None:
        return ["no closure in time; see var/logs/worker.log"]
    lines = [
        f"closure {event['closure_key']}: thanked {event['thanked_asks']}, held for a person "
        f"{event['held_asks']}, left out {event['left_out_asks']}"
    ]
    for ask in event.get("judged", []):
        text = " ".join(str(ask.get("ask", "")).split())
        lines.append(f"  {ask['verdict']:<10} {text[:90]}")
    return lines


def verdict_of(decided: dict[str, Any] | None) -> str:
    """How a command's outcome reads in the demo's output."""
    if decided is None:
        return "no outcome in time; see var/logs/worker.log"
    if decided.get("accepted"):
        return "accepted"
    return f"refused, {decided.get('code')}: {decided.get('message')}"


def plan(themes: int) -> list[str]:
    """The statuses given to the top ``themes`` themes in score order (see :data:`PLAN`)."""
    wanted = set(WANTED[:themes])
    return [status for status in PLAN if status in wanted]


def publish_month(settings: Any, *, product: str) -> str:
    """Publish this month's "what we shipped" for ``product``; its text."""
    from models.factories import closure_templates
    from models.theme_commands import monthly_update_event
    from youasked.commands import publish_monthly, read_closures

    now = datetime.now(UTC)
    update = monthly_update_event(
        read_closures(settings), product=product, month=now.strftime("%Y-%m"),
        templates=closure_templates(settings), now=now,
    )
    publish_monthly(settings, update)
    return update.text
