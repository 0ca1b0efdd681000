"""Streaming output checks: chunk buffering, context overlap, offsets and what each fail action does mid-stream."""

from __future__ import annotations

import pytest
from gliclass_guards import GuardViolation, HallucinationGuard, SafetyGuard, StreamChunk
from guards_tiny import ScriptedScorer, overlap_score

from gliclass_rag import InvalidInputError

CATEGORIES = {"spam": "ads"}
PARTS = ["Hello the", "re. This is ", "fine. Buy spam ", "now. More ", "text here. End."]
TEXT = "".join(PARTS)


def stream(on_fail: object = "noop", **kwargs: object) -> tuple[list[StreamChunk], ScriptedScorer]:
    scorer = ScriptedScorer()
    guard = SafetyGuard(scorer, categories=CATEGORIES, on_fail=on_fail, granularity="sentence")  # type: ignore[arg-type]
    sizes = {"chunk_size": 12, "context_size": 8, **kwargs}
    return list(guard.check_stream(iter(PARTS), **sizes)), scorer  # type: ignore[arg-type]


def test_pieces_are_cut_at_sentence_ends_and_checked_with_context() -> None:
    chunks, scorer = stream()
    assert "".join(c.result.text for c in chunks) == TEXT
    assert [c.result.text for c in chunks] == [
        "Hello there. ",
        "This is fine. ",
        "Buy spam now. ",
        "More text here. ",
        "End.",
    ]
    assert [c.offset for c in chunks] == [0, 13, 27, 41, 57]
    windows = [call["texts"] for call in scorer.calls]
    assert windows[1] == ["there.", "This is fine."]  # the context: the last 8 characters emitted, whole words
    assert [c.result.passed for c in chunks] == [True, True, False, True, True]


def test_violations_in_the_context_are_not_reported_twice() -> None:
    chunks, _ = stream()
    spam = chunks[2].result
    assert [(v.label, v.span, v.text) for v in spam.violations] == [("spam", (0, 13), "Buy spam now.")]
    assert chunks[3].result.passed  # "now." in its context holds no "spam"


def test_fix_redacts_the_piece_and_goes_on() -> None:
    chunks, _ = stream("fix")
    assert "".join(c.text for c in chunks) == "Hello there. This is fine. More text here. End."
    assert not any(c.stopped for c in chunks)


def test_filter_and_refrain_stop_the_stream() -> None:
    chunks, scorer = stream("filter")
    assert [c.text for c in chunks] == ["Hello there. ", "This is fine. ", ""]
    assert chunks[-1].stopped
    assert len(scorer.calls) == 3
    chunks, _ = stream("refrain")
    assert chunks[-1].text == "I'm sorry, but I can't help with that."
    assert chunks[-1].stopped


def test_exception_raises_mid_stream_after_the_passed_pieces() -> None:
    scorer = ScriptedScorer()
    guard = SafetyGuard(scorer, categories=CATEGORIES, on_fail="exception")
    stream = guard.check_stream(PARTS, chunk_size=12, context_size=0)
    emitted = [next(stream).text, next(stream).text]
    with pytest.raises(GuardViolation) as caught:
        next(stream)
    assert emitted == ["Hello there. ", "This is fine. "]
    assert caught.value.result.text == "Buy spam now. "


def test_a_callable_returning_none_stops_the_stream() -> None:
    chunks, _ = stream(lambda result: None)
    assert chunks[-1].stopped
    assert chunks[-1].result.action == "custom"
    assert len(chunks) == 3


def test_a_piece_without_a_sentence_end_is_cut_whole_and_the_rest_is_flushed() -> None:
    guard = SafetyGuard(ScriptedScorer(), categories=CATEGORIES)
    chunks = list(guard.check_stream(["abcdefghij", "klmno", "pq"], chunk_size=8, context_size=0))
    assert [c.result.text for c in chunks] == ["abcdefghij", "klmnopq"]


def test_hallucination_stream_checks_each_piece_against_the_context() -> None:
    guard = HallucinationGuard(ScriptedScorer(overlap_score), threshold=0.9, on_fail="fix")
    context = "Paris is the capital of France."
    parts = ["Paris is the capital ", "of France. Rome is the capital of Mars. ", "Hi!"]
    chunks = list(guard.check_stream(parts, context, chunk_size=20, context_size=10))
    assert [c.result.text for c in chunks] == [
        "Paris is the capital ",
        "of France. Rome is the capital of Mars. ",
        "Hi!",
    ]
    # the sentence cut at the first piece is checked whole with the second: "capital of France." is supported
    assert [c.label for c in chunks[1].result.checks] == ["capital of France.", "Rome is the capital of Mars."]
    assert [v.text for c in chunks for v in c.result.violations] == ["Rome is the capital of Mars."]
    assert "".join(c.text for c in chunks) == "Paris is the capital of France. Hi!"


def test_stream_settings_and_chunks_are_validated() -> None:
    guard = SafetyGuard(ScriptedScorer(), categories=CATEGORIES)
    with pytest.raises(InvalidInputError, match="chunk_size must be a positive int"):
        guard.check_stream(PARTS, chunk_size=0)
    with pytest.raises(InvalidInputError, match="a stream must yield str chunks"):
        list(guard.check_stream([b"bytes"], chunk_size=4))  # type: ignore[list-item]


def test_a_sentence_partly_emitted_before_is_cut_from_the_new_piece_only() -> None:
    guard = HallucinationGuard(ScriptedScorer(overlap_score), threshold=0.9, on_fail="fix")
    context = "Paris is in France. It was built on the Moon long ago. Bye now then."
    parts = ["Paris is in France. It was built on the Moon", " in 1650. Bye now then."]
    chunks = list(guard.check_stream(parts, context, chunk_size=20, context_size=40))
    pieces = ["Paris is in France. ", "It was built on the Moon", " in 1650. ", "Bye now then."]
    assert [c.result.text for c in chunks] == pieces
    (violation,) = chunks[2].result.violations  # the sentence "It was built on the Moon in 1650." (7 of 8 words)
    assert violation.text == "in 1650."
    assert "".join(c.text for c in chunks) == "Paris is in France. It was built on the Moon Bye now then."
