"""GLiClassRerank on a tiny random model: order, scores, top_n/threshold, copies, async, errors, settings."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_gliclass import GLiClassRerank
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from gliclass_rag import CheckpointError, InvalidInputError, ZeroShotClassifier, resolve_classifier

QUERY = "space rocket launch"


def expected_ranking(classifier: ZeroShotClassifier, documents: list[Document]) -> list[tuple[str, float]]:
    ranked = classifier.rerank(QUERY, [d.page_content for d in documents])
    return [(documents[p.index].id, p.score) for p in ranked]


def ids_and_scores(documents: list[Document]) -> list[tuple[str | None, float]]:
    return [(d.id, d.metadata["relevance_score"]) for d in documents]


def test_orders_by_the_engines_scores(tiny_classifier, documents):
    reranker = GLiClassRerank(model=tiny_classifier, top_n=None)

    out = reranker.compress_documents(documents, QUERY)

    expected = expected_ranking(tiny_classifier, documents)
    assert [d.id for d in out] == [doc_id for doc_id, _ in expected]
    assert [d.metadata["relevance_score"] for d in out] == pytest.approx([s for _, s in expected], abs=1e-6)
    scores = [d.metadata["relevance_score"] for d in out]
    assert scores == sorted(scores, reverse=True)
    assert all(type(s) is float and 0.0 <= s <= 1.0 for s in scores)
    assert len(set(scores)) > 1  # the tiny model separates the documents


def test_top_n_defaults_to_three_and_caps(tiny_classifier, documents):
    full = GLiClassRerank(model=tiny_classifier, top_n=None).compress_documents(documents, QUERY)

    assert GLiClassRerank().top_n == 3
    assert ids_and_scores(GLiClassRerank(model=tiny_classifier).compress_documents(documents, QUERY)) == (
        ids_and_scores(full[:3])
    )
    assert ids_and_scores(GLiClassRerank(model=tiny_classifier, top_n=1).compress_documents(documents, QUERY)) == (
        ids_and_scores(full[:1])
    )
    assert len(GLiClassRerank(model=tiny_classifier, top_n=50).compress_documents(documents, QUERY)) == 6


def test_score_threshold_drops_low_scores(tiny_classifier, documents):
    full = GLiClassRerank(model=tiny_classifier, top_n=None).compress_documents(documents, QUERY)
    cut = (full[1].metadata["relevance_score"] + full[2].metadata["relevance_score"]) / 2

    kept = GLiClassRerank(model=tiny_classifier, top_n=None, score_threshold=cut).compress_documents(documents, QUERY)
    assert ids_and_scores(kept) == ids_and_scores(full[:2])
    capped = GLiClassRerank(model=tiny_classifier, top_n=1, score_threshold=cut).compress_documents(documents, QUERY)
    assert ids_and_scores(capped) == ids_and_scores(full[:1])
    assert GLiClassRerank(model=tiny_classifier, score_threshold=1.0).compress_documents(documents, QUERY) == []


def test_returns_copies_and_never_mutates_inputs(tiny_classifier, documents):
    documents[0].metadata["relevance_score"] = "from the retriever"
    before = copy.deepcopy(documents)
    given = tuple(documents)

    out = GLiClassRerank(model=tiny_classifier, top_n=None).compress_documents(given, QUERY)

    assert given == tuple(before)  # the caller's documents and metadata are unchanged
    assert all(o is not d for o in out for d in documents)
    by_id = {d.id: d for d in before}
    for doc in out:
        original = by_id[doc.id]
        assert doc.page_content == original.page_content
        assert {k: v for k, v in doc.metadata.items() if k != "relevance_score"} == {
            k: v for k, v in original.metadata.items() if k != "relevance_score"
        }
        assert isinstance(doc.metadata["relevance_score"], float)  # overwritten on the copy, as Cohere does
    out[0].metadata["tags"].append("changed downstream")  # deep copies: nothing leaks back
    assert documents == before


def test_keeps_document_subclass_and_id(tiny_classifier):
    class TaggedDocument(Document):
        pass

    (out,) = GLiClassRerank(model=tiny_classifier).compress_documents([TaggedDocument("a rocket", id="x")], QUERY)
    assert type(out) is TaggedDocument
    assert out.id == "x"


def test_empty_input_returns_empty(tiny_classifier):
    reranker = GLiClassRerank(model=tiny_classifier)
    assert reranker.compress_documents([], QUERY) == []
    assert asyncio.run(reranker.acompress_documents((), QUERY)) == []


def test_blank_documents_score_zero_and_come_last(tiny_classifier, documents):
    blank = Document(page_content="   ", id="blank")

    out = GLiClassRerank(model=tiny_classifier, top_n=None).compress_documents([blank, *documents], QUERY)

    assert out[-1].id == "blank"
    assert out[-1].metadata["relevance_score"] == 0.0
    expected = expected_ranking(tiny_classifier, documents)
    assert [d.id for d in out[:-1]] == [doc_id for doc_id, _ in expected]
    assert [d.metadata["relevance_score"] for d in out[:-1]] == pytest.approx([s for _, s in expected], abs=1e-6)


def test_batch_size_does_not_change_scores(tiny_classifier, documents):
    one = GLiClassRerank(model=tiny_classifier, top_n=None, batch_size=1).compress_documents(documents, QUERY)
    many = GLiClassRerank(model=tiny_classifier, top_n=None, batch_size=64).compress_documents(documents, QUERY)
    assert [d.id for d in one] == [d.id for d in many]
    assert [d.metadata["relevance_score"] for d in one] == pytest.approx(
        [d.metadata["relevance_score"] for d in many], abs=1e-5
    )


def test_async_equals_sync(tiny_classifier, documents):
    reranker = GLiClassRerank(model=tiny_classifier, top_n=4, score_threshold=0.05)
    sync = reranker.compress_documents(documents, QUERY)
    assert asyncio.run(reranker.acompress_documents(documents, QUERY)) == sync


def test_async_runs_the_model_off_the_event_loop(tiny_classifier, documents):
    """While the model scores, other coroutines keep running (a blocking call would starve the heartbeat)."""
    reranker = GLiClassRerank(model=tiny_classifier, top_n=None)

    async def main() -> tuple[int, list[Document]]:
        beats = 0
        done = asyncio.Event()

        async def heartbeat() -> None:
            nonlocal beats
            while not done.is_set():
                beats += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(heartbeat())
        await asyncio.sleep(0)
        start = beats
        out = await reranker.acompress_documents(documents * 4, QUERY)
        done.set()
        await task
        return beats - start, list(out)

    beats, out = asyncio.run(main())
    assert beats > 0
    assert len(out) == 24


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"top_n": 0}, "greater than or equal to 1"),
        ({"top_n": -2}, "greater than or equal to 1"),
        ({"top_n": True}, "valid integer"),
        ({"score_threshold": 1.5}, "less than or equal to 1"),
        ({"score_threshold": -0.1}, "greater than or equal to 0"),
        ({"batch_size": 0}, "greater than or equal to 1"),
        ({"model": "  "}, "model must be a checkpoint name or path"),
        ({"model": 3}, "model"),
        ({"device": "cpu", "model": "__loaded__"}, "move a loaded classifier"),
        ({"unknown_option": 1}, "Extra inputs are not permitted"),
    ],
)
def test_bad_settings_raise_clear_errors(tiny_classifier, kwargs, message):
    if kwargs.get("model") == "__loaded__":
        kwargs = {**kwargs, "model": tiny_classifier}
    with pytest.raises(ValidationError, match=message):
        GLiClassRerank(**kwargs)


def test_settings_are_validated_on_assignment_and_the_model_is_fixed(tiny_classifier):
    reranker = GLiClassRerank(model=tiny_classifier)
    reranker.top_n = 5
    assert reranker.top_n == 5
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        reranker.top_n = 0
    with pytest.raises(ValidationError, match="frozen"):
        reranker.model = "another/model"


@pytest.mark.parametrize(
    ("documents", "query", "message"),
    [
        ("a text", QUERY, "documents must be a sequence of Document"),
        ([Document("ok"), {"page_content": "no"}], QUERY, r"documents\[1\] must be a langchain_core Document"),
        ([Document("ok")], None, "query must be a str"),
        ([Document("ok")], "   ", "query"),
    ],
)
def test_bad_call_inputs_raise_invalid_input(tiny_classifier, documents, query, message):
    reranker = GLiClassRerank(model=tiny_classifier)
    with pytest.raises(InvalidInputError, match=message):
        reranker.compress_documents(documents, query)
    with pytest.raises(InvalidInputError, match=message):
        asyncio.run(reranker.acompress_documents(documents, query))


def test_a_loaded_model_serialises_as_its_source(tiny_classifier, tiny_checkpoint):
    built_in_code = GLiClassRerank(model=tiny_classifier, top_n=2)
    with pytest.raises(PydanticSerializationError, match="built in code"):
        built_in_code.model_dump()  # a rebuilt component would silently run another model
    loaded = ZeroShotClassifier.from_pretrained(tiny_checkpoint)
    reranker = GLiClassRerank(model=loaded, top_n=2, score_threshold=0.25, batch_size=4)
    data = reranker.model_dump()
    assert data == {
        "model": str(tiny_checkpoint), "device": None, "dtype": None, "batch_size": 4, "top_n": 2,
        "score_threshold": 0.25,
    }  # fmt: skip
    assert reranker.model is loaded  # dumping does not touch the component
    assert GLiClassRerank(**data).classifier is resolve_classifier(str(tiny_checkpoint))

    named = GLiClassRerank(model=Path("some/checkpoint"), device="cpu", top_n=None)
    assert named.model_dump()["model"] == "some/checkpoint"
    rebuilt = GLiClassRerank.model_validate_json(named.model_dump_json())
    assert rebuilt.model_dump() == named.model_dump()
    assert GLiClassRerank(**GLiClassRerank().model_dump()).model_dump() == GLiClassRerank().model_dump()


def test_construction_is_cheap_and_loading_lazy(shared_cache):
    reranker = GLiClassRerank(model="/nowhere/to/be/found")  # nothing is read yet
    assert reranker.compress_documents([], QUERY) == []  # empty input needs no model
    with pytest.raises(CheckpointError, match="/nowhere/to/be/found"):
        reranker.warm_up()
    with pytest.raises(CheckpointError):
        reranker.compress_documents([Document("a text")], QUERY)
