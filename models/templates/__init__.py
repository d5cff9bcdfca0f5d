"""Brand-owned closure texts: loading, validation and rendering of ``closure_templates.toml``.

The texts live in a TOML file (the default one ships next to this module); a brand passes its
own with ``load_templates(path=...)``. Each text is a :class:`string.Template`. Everything that
can be wrong with a file is reported when it is loaded, never when a closure is rendered: a
missing or unknown key, a malformed or unknown placeholder (the message names the key and the
allowed placeholders), a ``minimal`` text with placeholders or too long to fit every platform.
"""

from __future__ import annotations

import logging
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from contracts.events import Platform

logger = logging.getLogger(__name__)

DEFAULT_TEMPLATES_PATH = Path(__file__).parent / "closure_templates.toml"
MINIMAL_MAX_CHARS = 140
"""Longest ``minimal`` text: 140 code points weigh at most 280 on X, so it fits every platform."""

Outcome = Literal["shipped", "declined"]

_RELEASE = frozenset({"release_name", "release_version", "release_date"})
_PUBLIC = {
    "shipped": frozenset({"title", "product", "release_phrase", "note", "thanks", "link", "people_count"}),
    "declined": frozenset({"title", "product", "reason", "thanks", "people_count"}),
}
_REPLY = {
    "shipped": frozenset({"title", "product", "release_phrase", "note", "link", "handle"}),
    "declined": frozenset({"title", "product", "reason", "handle"}),
}
_MONTH = frozenset({"month", "month_name", "year"})
PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "phrases.release_named": _RELEASE,
    "phrases.release_unnamed": frozenset(),
    "phrases.thanks_handles": frozenset({"handles"}),
    "phrases.thanks_handles_and_one_other": frozenset({"handles"}),
    "phrases.thanks_handles_and_others": frozenset({"handles", "others_count"}),
    "phrases.thanks_one": frozenset(),
    "phrases.thanks_count": frozenset({"people_count"}),
    "phrases.people_one": frozenset(),
    "phrases.people_many": frozenset({"count"}),
    "shipped.public": _PUBLIC["shipped"],
    "shipped.reply": _REPLY["shipped"],
    "shipped.minimal": frozenset(),
    "declined.public": _PUBLIC["declined"],
    "declined.reply": _REPLY["declined"],
    "declined.minimal": frozenset(),
    "monthly.heading": _MONTH,
    "monthly.item": frozenset({"title", "release_phrase", "people_phrase", "link"}),
    "monthly.footer": _MONTH | {"people_phrase", "theme_count"},
    "monthly.empty": _MONTH,
}
"""Every template key and the placeholders it may use."""


class TemplateError(ValueError):
    """A closure template file that cannot be used: the message names the key and the problem."""


@dataclass(frozen=True)
class ClosureTemplates:
    """Validated closure texts.

    ``texts`` by key (``shipped.public``), ``overrides`` by ``(outcome, platform, kind)``;
    ``max_mentions`` handles at most per public post.
    """

    name: str
    version: str
    max_mentions: int
    texts: Mapping[str, str]
    overrides: Mapping[tuple[str, Platform, str], str]

    def text(self, outcome: Outcome, kind: Literal["public", "reply"], platform: Platform) -> str:
        """The template for ``outcome``/``kind`` on ``platform`` (its override, else the default)."""
        return self.overrides.get((outcome, platform, kind), self.texts[f"{outcome}.{kind}"])


def _check_text(key: str, text: Any, allowed: frozenset[str]) -> str:
    if not isinstance(text, str):
        raise TemplateError(f"closure template {key}: expected a string, got {type(text).__name__}")
    template = string.Template(text)
    if not template.is_valid():
        raise TemplateError(f"closure template {key}: malformed placeholder (write $$ for a dollar sign)")
    unknown = sorted(set(template.get_identifiers()) - allowed)
    if unknown:
        names = ", ".join(f"${name}" for name in sorted(allowed)) or "none"
        raise TemplateError(f"closure template {key}: unknown placeholder ${unknown[0]}; allowed: {names}")
    return text


def load_templates(*, path: Path | None = None) -> ClosureTemplates:
    """Load and validate a closure template TOML file (default: the shipped one).

    Raises :class:`TemplateError` on a missing or unknown key, an unknown placeholder, or a
    ``minimal`` text with placeholders or longer than :data:`MINIMAL_MAX_CHARS`.
    """
    source = path or DEFAULT_TEMPLATES_PATH
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise TemplateError(f"closure templates {source}: {error}") from error
    meta = data.pop("meta", {})
    texts: dict[str, str] = {}
    overrides: dict[tuple[str, Platform, str], str] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise TemplateError(f"closure templates: [{section}] must be a table")
        for name, value in table.items():
            if name == "by_platform" and section in _PUBLIC:
                overrides.update(_load_overrides(section, value))
                continue
            key = f"{section}.{name}"
            if key not in PLACEHOLDERS:
                raise TemplateError(f"closure templates: unknown key {key}")
            texts[key] = _check_text(key, value, PLACEHOLDERS[key])
    missing = sorted(set(PLACEHOLDERS) - set(texts))
    if missing:
        raise TemplateError(f"closure templates {source}: missing keys {', '.join(missing)}")
    for outcome in _PUBLIC:
        if len(texts[f"{outcome}.minimal"]) > MINIMAL_MAX_CHARS:
            raise TemplateError(
                f"closure template {outcome}.minimal must be at most {MINIMAL_MAX_CHARS} characters"
            )
    max_mentions = meta.get("max_mentions", 10)
    if not isinstance(max_mentions, int) or max_mentions < 0:
        raise TemplateError("closure templates: meta.max_mentions must be a non-negative integer")
    return ClosureTemplates(
        name=str(meta.get("name", source.stem)),
        version=str(meta.get("version", "0")),
        max_mentions=max_mentions,
        texts=texts,
        overrides=overrides,
    )


def _load_overrides(outcome: str, table: Any) -> dict[tuple[str, Platform, str], str]:
    out: dict[tuple[str, Platform, str], str] = {}
    if not isinstance(table, dict):
        raise TemplateError(f"closure templates: {outcome}.by_platform must be a table")
    for platform_name, kinds in table.items():
        try:
            platform = Platform(platform_name)
        except ValueError:
            key = f"{outcome}.by_platform.{platform_name}"
            raise TemplateError(f"closure templates: unknown platform in {key}") from None
        for kind, text in dict(kinds).items():
            key = f"{outcome}.by_platform.{platform_name}.{kind}"
            allowed = {"public": _PUBLIC, "reply": _REPLY}.get(kind)
            if allowed is None:
                raise TemplateError(f"closure templates: unknown key {key} (public or reply)")
            out[(outcome, platform, kind)] = _check_text(key, text, allowed[outcome])
    return out



_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([.,;:!?])")


def render(template: str, values: Mapping[str, str]) -> str:
    """Substitute ``values``; a line whose placeholders all came out empty is dropped, spaces tidied."""
    lines = []
    for line in template.splitlines():
        text = string.Template(line).substitute(values)
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", text)).strip()
        if text or not line.strip():
            lines.append(text)
    return "\n".join(lines).strip()


