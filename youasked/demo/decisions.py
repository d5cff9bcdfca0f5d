"""The demo's product manager: a few decisions through the API, as a person would make them.

After the replay the themes exist but nobody has decided anything, so the dashboard's matrix
has no costs and the public board no plans or "You asked, we did". The demo's product manager
estimates each theme's cost (a fixed list of T-shirt sizes, in score order), plans the top
theme, starts the second and ships the third in a named release (with fewer themes, shipping
comes first: the loop closes even on a small replay), then publishes the month's update.
Everything goes through the same routes and commands a real product manager uses.
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
DEMO_RELEASE = {"name": "Trailmate", "version": "2.4"}


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

        for theme, size in zip(found, SIZES, strict=False):
            command(f"/themes/{theme['theme_id']}/cost", {"cost": {"size": size}})
        for theme, status in zip(found, plan(len(found)), strict=False):
            tid = theme["theme_id"]
            if status == "shipped":
                command(f"/themes/{tid}/release", {"release": DEMO_RELEASE})
            decided = command(f"/themes/{tid}/status", {"status": status, "reason": "demo decision"})
            verdict = verdict_of(decided)
            done.lines.append(f"{status:<12} {tid}  {theme.get('title') or theme['label']}  ({verdict})")
            if status == "shipped" and decided and decided["accepted"]:
                done.shipped = tid
    return done


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
