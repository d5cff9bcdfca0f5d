"""An erased person leaves a closure's copy in the read model whole: thanked, held or left out."""

from __future__ import annotations

from api.readmodel.project import hash_author, redact_closure
from contracts.lifecycle import ClosureAskJudged
from tests.readmodel_support import T0, closure


def judged(author: str, verdict: str) -> ClosureAskJudged:
    return ClosureAskJudged(
        suggestion_id=f"x:{author}#1", platform="x", author_id=author,  # type: ignore[arg-type]
        comment_id=f"c-{author}", asked_at=T0, ask="please add offline maps",
        verdict=verdict, rule="relevance", release_similarity=0.8, centre_similarity=0.9,  # type: ignore[arg-type]
    )


def test_a_held_or_left_out_person_is_redacted_too() -> None:
    event = closure("t-1").model_copy(
        update={"judged": [judged("user1", "thanked"), judged("user2", "held"), judged("user3", "left_out")]}
    )

    held_gone = redact_closure(event, hash_author("x", "user2"))
    assert [j.author_id for j in held_gone.judged] == ["user1", "user3"]
    assert [p.author_id for p in held_gone.people] == ["user1"]  # the thanked stay

    thanked_gone = redact_closure(event, hash_author("x", "user1"))
    assert [j.author_id for j in thanked_gone.judged] == ["user2", "user3"]
    assert thanked_gone.people == [] and thanked_gone.replies == []
    assert "user1" not in thanked_gone.model_dump_json()

    assert redact_closure(event, hash_author("x", "nobody")) is event
