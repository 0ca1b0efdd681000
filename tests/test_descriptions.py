"""Label descriptions: beside the text for uni-encoders (only those of a sequence's labels), in the label encoder's
input for bi-encoders."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tiny import build_classifier

from gliclass_rag import ChunkingOptions, InvalidInputError
from gliclass_rag.inputs import Request

LABELS = ["sports", "politics", "science"]
DESCRIPTIONS = {"sports": "games and teams", "science": "planets and discovery"}
TEXT = "the team won the final match"


def test_uni_encoder_chunks_carry_only_their_own_descriptions() -> None:
    classifier = build_classifier("uni-encoder")
    classifier.chunking = replace(classifier.chunking, label_chunk_size=1)
    request = Request(TEXT, tuple(LABELS), descriptions=("games and teams", None, "planets and discovery"))
    planned = classifier.engine.builder.plan([request], classifier.chunking)
    decoded = [classifier.tokenizer.decode(p.input_ids) for p in planned]
    assert len(planned) == 3
    assert "games and teams" in decoded[0]
    assert "planets" not in decoded[0]
    assert "games" not in decoded[1]
    assert "planets" not in decoded[1]
    assert "planets and discovery" in decoded[2]
    assert "games" not in decoded[2]


def test_uni_encoder_reads_descriptions_beside_the_text() -> None:
    classifier = build_classifier("uni-encoder")
    plain = classifier.scores(TEXT, LABELS)
    described = classifier.scores(TEXT, LABELS, label_descriptions=DESCRIPTIONS)
    manual = classifier.scores(f"{TEXT} sports: games and teams science: planets and discovery", LABELS)
    assert described == pytest.approx(manual, abs=1e-6)
    assert described != pytest.approx(plain, abs=1e-6)


def test_bi_encoder_reads_descriptions_in_the_label_encoder() -> None:
    classifier = build_classifier("bi-encoder")
    described = classifier.scores(TEXT, LABELS, label_descriptions=DESCRIPTIONS)
    renamed = classifier.scores(TEXT, ["sports: games and teams", "politics", "science: planets and discovery"])
    assert list(described.values()) == pytest.approx(list(renamed.values()), abs=1e-6)


def test_many_long_descriptions_are_chunked_not_refused() -> None:
    classifier = build_classifier("uni-encoder")
    classifier.chunking = ChunkingOptions(max_length=64)
    labels = [f"label {i}" for i in range(12)]
    descriptions = {label: "a long description of what this label is about and when it applies" for label in labels}
    scores = classifier.scores(TEXT, labels, label_descriptions=descriptions)
    assert list(scores) == labels


def test_description_for_an_unknown_label_is_refused() -> None:
    classifier = build_classifier("uni-encoder")
    with pytest.raises(InvalidInputError, match="'nope'"):
        classifier.scores(TEXT, LABELS, label_descriptions={"nope": "x"})
