r"""The project's own written training posts: short social text labelled ask / not_ask with spans.

``models/training/written_social.csv`` holds texts written for the project (see
``models/training/README.md``). Each row has an ``id`` (``ws-0001``...), a ``platform``, the
``text``, a ``label`` (``ask`` or ``not_ask``), a ``kind`` (what the post is: ask, bug, support,
...), the ``asks`` (character spans ``start-end`` of each ask clause, ``;``-separated, end
exclusive; empty for ``not_ask``) and the invented ``product`` it speaks to.

The CSV is built from ``models/training/written_social.txt``, where each post is one line
``platform | kind | text`` with each ask clause marked ``[[like this]]``; the spans are computed
from the marks (never typed by hand)::

    python -m models.written        # rewrites the CSV from the source

Lines starting ``# product:`` name the product of the lines below them; ``\n`` in a text is a
line break. Ids follow the order of the source, so rows are only ever appended to it.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TRAINING_DIR = Path(__file__).with_name("training")
WRITTEN_CSV = TRAINING_DIR / "written_social.csv"
WRITTEN_SOURCE = TRAINING_DIR / "written_social.txt"
COLUMNS = ("id", "platform", "text", "label", "kind", "asks", "product")
PLATFORMS = frozenset(
    {"x", "instagram", "facebook", "reddit", "forum", "app_store", "google_play", "youtube", "discord"}
)
KINDS = frozenset({"ask", "bug", "support", "question", "praise", "complaint", "other", "spam", "abuse"})
LABELS = frozenset({"ask", "not_ask"})
NEVER_ASK_KINDS = frozenset({"spam", "abuse"})
_MARK = re.compile(r"\[\[(.+?)\]\]")
_SPAN = re.compile(r"(\d+)-(\d+)")


class WrittenDataError(ValueError):
    """The written data set breaks one of its rules (message names the row)."""


@dataclass(frozen=True)
class WrittenPost:
    """One written post; ``asks`` are ``(start, end)`` character offsets into ``text``."""

    id: str
    platform: str
    text: str
    label: str
    kind: str
    asks: tuple[tuple[int, int], ...]
    product: str

    @property
    def is_ask(self) -> bool:
        return self.label == "ask"

    @property
    def ask_texts(self) -> tuple[str, ...]:
        """The text of each ask clause, in order."""
        return tuple(self.text[start:end] for start, end in self.asks)


def parse_spans(value: str) -> tuple[tuple[int, int], ...]:
    """``"3-10;15-20"`` -> ``((3, 10), (15, 20))``; an empty value gives ``()``."""
    spans: list[tuple[int, int]] = []
    for part in filter(None, (p.strip() for p in value.split(";"))):
        match = _SPAN.fullmatch(part)
        if match is None:
            raise WrittenDataError(f"span {part!r} is not start-end")
        spans.append((int(match.group(1)), int(match.group(2))))
    return tuple(spans)


def format_spans(spans: Sequence[tuple[int, int]]) -> str:
    """The inverse of :func:`parse_spans`."""
    return ";".join(f"{start}-{end}" for start, end in spans)


def validate(post: WrittenPost) -> None:
    """Raise :class:`WrittenDataError` when ``post`` breaks a rule of the data set."""
    where = f"row {post.id}"
    if post.platform not in PLATFORMS:
        raise WrittenDataError(f"{where}: unknown platform {post.platform!r}")
    if post.kind not in KINDS:
        raise WrittenDataError(f"{where}: unknown kind {post.kind!r}")
    if post.label not in LABELS:
        raise WrittenDataError(f"{where}: unknown label {post.label!r}")
    if not post.text.strip() or not post.product:
        raise WrittenDataError(f"{where}: empty text or product")
    if post.is_ask != bool(post.asks):
        raise WrittenDataError(f"{where}: label {post.label} does not match {len(post.asks)} ask spans")
    if (post.kind == "ask" and not post.is_ask) or (post.kind in NEVER_ASK_KINDS and post.is_ask):
        raise WrittenDataError(f"{where}: kind {post.kind} with label {post.label}")
    previous_end = 0
    for start, end in post.asks:
        if not previous_end <= start < end <= len(post.text):
            raise WrittenDataError(f"{where}: span {start}-{end} outside the text or out of order")
        if post.text[start:end] != post.text[start:end].strip():
            raise WrittenDataError(f"{where}: span {start}-{end} starts or ends on a space")
        if _inside_word(post.text, start) or _inside_word(post.text, end):
            raise WrittenDataError(f"{where}: span {start}-{end} cuts a word")
        previous_end = end


def _inside_word(text: str, offset: int) -> bool:
    """True when ``offset`` falls between two letters or digits of one word."""
    return 0 < offset < len(text) and text[offset - 1].isalnum() and text[offset].isalnum()


def read_written(path: Path | str = WRITTEN_CSV) -> tuple[WrittenPost, ...]:
    """Load and validate the written CSV; ids must be unique."""
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"written training data not found: {source}")
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise WrittenDataError(f"{source.name}: columns {reader.fieldnames}, expected {list(COLUMNS)}")
        posts = tuple(_post_from_row(row) for row in reader)
    seen: set[str] = set()
    for post in posts:
        if post.id in seen:
            raise WrittenDataError(f"row {post.id}: id repeated")
        seen.add(post.id)
        validate(post)
    return posts


def _post_from_row(row: dict[str, str]) -> WrittenPost:
    return WrittenPost(
        id=row["id"],
        platform=row["platform"],
        text=row["text"],
        label=row["label"],
        kind=row["kind"],
        asks=parse_spans(row["asks"]),
        product=row["product"],
    )


def parse_marked(marked: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Strip the ``[[...]]`` marks from ``marked``; return the plain text and the marked spans."""
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    cursor = 0
    for match in _MARK.finditer(marked):
        before = marked[cursor : match.start()]
        plain.append(before)
        length += len(before)
        spans.append((length, length + len(match.group(1))))
        plain.append(match.group(1))
        length += len(match.group(1))
        cursor = match.end()
    plain.append(marked[cursor:])
    text = "".join(plain)
    if "[[" in text or "]]" in text:
        raise WrittenDataError(f"unbalanced ask mark in {marked!r}")
    return text, tuple(spans)


def posts_from_source(source: str) -> list[WrittenPost]:
    """Parse the marked source (see the module docstring) into validated posts, ids in order."""
    posts: list[WrittenPost] = []
    product = ""
    for number, raw in enumerate(source.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("# product:"):
            product = line.removeprefix("# product:").strip()
            continue
        if not line or line.startswith("#"):
            continue
        parts = [part.strip() for part in line.split("|", 2)]
        if len(parts) != 3:
            raise WrittenDataError(f"source line {number}: expected 'platform | kind | text'")
        platform, kind, marked = parts
        text, spans = parse_marked(marked.replace("\\n", "\n"))
        post = WrittenPost(
            id=f"ws-{len(posts) + 1:04d}",
            platform=platform,
            text=text,
            label="ask" if spans else "not_ask",
            kind=kind,
            asks=spans,
            product=product,
        )
        try:
            validate(post)
        except WrittenDataError as error:
            raise WrittenDataError(f"source line {number}: {error}") from error
        posts.append(post)
    return posts


def to_csv(posts: Sequence[WrittenPost]) -> str:
    """The CSV text of ``posts`` with the columns of :data:`COLUMNS`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for post in posts:
        asks = format_spans(post.asks)
        writer.writerow([post.id, post.platform, post.text, post.label, post.kind, asks, post.product])
    return buffer.getvalue()


def build(source: Path = WRITTEN_SOURCE, target: Path = WRITTEN_CSV) -> list[WrittenPost]:
    """Rewrite ``target`` from the marked ``source``; return the posts written."""
    posts = posts_from_source(source.read_text(encoding="utf-8"))
    target.write_text(to_csv(posts), encoding="utf-8")
    return posts


if __name__ == "__main__":
    written = build()
    sys.stdout.write(f"{len(written)} posts, {sum(p.is_ask for p in written)} asks -> {WRITTEN_CSV}\n")
