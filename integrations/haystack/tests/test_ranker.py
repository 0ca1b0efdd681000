from __future__ import annotations

import asyncio
import copy

import pytest
from haystack import Document
from haystack.core.errors import SerializationError
from haystack.utils import ComponentDevice
from haystack_integrations.components.rankers.gliclass import GLiClassRanker

from gliclass_rag import CheckpointError, ZeroShotClassifier

QUERY = "sports team"
DOCS = [
    Document(id="match", content="The team won the final match last night.", meta={"topic": "sports"}, score=3.0),
    Document(id="stocks", content="Stocks fell sharply today.", meta={"topic": "business"}, score=2.0),
    Document(id="planet", content="Scientists found a new planet near a small star.", score=1.0),
    Document(id="phone", content="My new phone has a great camera.", meta={"topic": None}),
]


def expected(classifier: ZeroShotClassifier, query: str, texts: list[str]) -> list[tuple[str, float]]:
    ids = [doc.id for doc in DOCS]
    return [(ids[p.index], p.score) for p in classifier.rerank(query, texts)]


def ranked(result: dict[str, list[Document]]) -> list[tuple[str, float | None]]:
    return [(doc.id, doc.score) for doc in result["documents"]]


def test_ranks_best_first_with_the_engine_scores(classifier: ZeroShotClassifier) -> None:
    result = GLiClassRanker(classifier).run(query=QUERY, documents=DOCS)
    want = expected(classifier, QUERY, [doc.content for doc in DOCS])
    assert ranked(result) == want
    scores = [score for _, score in want]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == len(scores)  # distinct, so the order means something


def test_top_k_and_score_threshold(classifier: ZeroShotClassifier) -> None:
    want = expected(classifier, QUERY, [doc.content for doc in DOCS])
    assert ranked(GLiClassRanker(classifier, top_k=2).run(QUERY, DOCS)) == want[:2]
    cut = (want[1][1] + want[2][1]) / 2  # between the second and third scores
    assert ranked(GLiClassRanker(classifier, score_threshold=cut).run(QUERY, DOCS)) == want[:2]
    assert GLiClassRanker(classifier, score_threshold=1.0).run(QUERY, DOCS) == {"documents": []}


def test_run_overrides_use_is_none_semantics(classifier: ZeroShotClassifier) -> None:
    want = expected(classifier, QUERY, [doc.content for doc in DOCS])
    ranker = GLiClassRanker(classifier, top_k=1, score_threshold=1.0)
    assert ranker.run(QUERY, DOCS) == {"documents": []}  # None: the init values hold
    assert ranked(ranker.run(QUERY, DOCS, score_threshold=0.0)) == want[:1]  # 0.0 is not None
    assert ranked(ranker.run(QUERY, DOCS, top_k=3, score_threshold=0.0)) == want[:3]
    assert (ranker.top_k, ranker.score_threshold) == (1, 1.0)  # a run override does not stick


def test_prefixes_and_meta_fields_to_embed(classifier: ZeroShotClassifier) -> None:
    ranker = GLiClassRanker(
        classifier,
        query_prefix="query: ",
        document_prefix="passage: ",
        meta_fields_to_embed=["topic", "absent"],
        embedding_separator=" | ",
    )
    texts = [
        "passage: sports | The team won the final match last night.",
        "passage: business | Stocks fell sharply today.",
        "passage: Scientists found a new planet near a small star.",
        "passage: My new phone has a great camera.",  # a None meta value is skipped
    ]
    want = expected(classifier, "query: " + QUERY, texts)
    assert ranked(ranker.run(QUERY, DOCS)) == want
    assert want != expected(classifier, QUERY, [doc.content for doc in DOCS])  # the prefixes change the scores


def test_inputs_are_not_mutated(classifier: ZeroShotClassifier) -> None:
    documents = copy.deepcopy(DOCS)
    before = copy.deepcopy(documents)
    result = GLiClassRanker(classifier).run(QUERY, documents)
    assert documents == before
    assert all(out is not doc for out in result["documents"] for doc in documents)
    by_id = {doc.id: doc for doc in result["documents"]}
    assert by_id["match"].meta == DOCS[0].meta
    assert by_id["match"].content == DOCS[0].content


def test_empty_documents_return_empty() -> None:
    ranker = GLiClassRanker("no/such-model")  # empty input: the model is not even loaded
    assert ranker.run(QUERY, []) == {"documents": []}


def test_async_equals_sync(classifier: ZeroShotClassifier) -> None:
    ranker = GLiClassRanker(classifier, top_k=3)
    sync = ranker.run(QUERY, DOCS)
    assert asyncio.run(ranker.run_async(query=QUERY, documents=DOCS)) == sync


def test_init_is_cheap_and_warm_up_is_lazy_and_idempotent(model_path: str) -> None:
    GLiClassRanker("no/such-model")  # nothing is loaded at init
    ranker = GLiClassRanker(model_path)
    assert ranker._classifier is None
    ranker.warm_up()
    loaded = ranker._classifier
    ranker.warm_up()
    assert ranker._classifier is loaded is not None
    with pytest.raises(CheckpointError):
        GLiClassRanker("no/such-model").warm_up()


def test_run_warms_up_itself(model_path: str) -> None:
    result = GLiClassRanker(model_path, top_k=1).run(QUERY, DOCS)
    assert len(result["documents"]) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"top_k": 0}, "top_k must be an int >= 1, but got 0"),
        ({"top_k": 2.5}, "top_k must be an int >= 1, but got 2.5"),
        ({"score_threshold": 1.5}, "score_threshold must be a number in [0, 1] or None, but got 1.5"),
        ({"batch_size": 0}, "batch_size must be an int >= 1, but got 0"),
        ({"model": ""}, "model is an empty string"),
    ],
)
def test_bad_init_arguments_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        GLiClassRanker(**kwargs)


def test_bad_types_raise_type_error(classifier: ZeroShotClassifier) -> None:
    with pytest.raises(TypeError, match="model must be"):
        GLiClassRanker(model=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="meta_fields_to_embed"):
        GLiClassRanker(meta_fields_to_embed="topic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="device and dtype"):
        GLiClassRanker(classifier, device=ComponentDevice.from_str("cpu"))
    ranker = GLiClassRanker(classifier)
    with pytest.raises(TypeError, match="list of Documents"):
        ranker.run(QUERY, ["not a document"])  # type: ignore[list-item]


def test_bad_run_arguments_are_named(classifier: ZeroShotClassifier) -> None:
    ranker = GLiClassRanker(classifier)
    with pytest.raises(ValueError, match="top_k must be an int >= 1 or None, but got -1"):
        ranker.run(QUERY, DOCS, top_k=-1)
    with pytest.raises(ValueError, match="score_threshold"):
        ranker.run(QUERY, DOCS, score_threshold=-0.1)
    with pytest.raises(ValueError, match="empty query"):
        ranker.run("  ", DOCS)
    with pytest.raises(ValueError, match=r"without text.*'empty'"):
        ranker.run(QUERY, [*DOCS, Document(id="empty", content=None)])


def test_to_dict_from_dict(model_path: str) -> None:
    ranker = GLiClassRanker(
        model_path,
        top_k=3,
        score_threshold=0.2,
        query_prefix="q: ",
        meta_fields_to_embed=["title"],
        batch_size=4,
        device=ComponentDevice.from_str("cpu"),
        dtype="float32",
    )
    data = ranker.to_dict()
    assert data["type"] == "haystack_integrations.components.rankers.gliclass.ranker.GLiClassRanker"
    assert data["init_parameters"]["model"] == model_path
    assert data["init_parameters"]["device"] == {"type": "single", "device": "cpu"}
    restored = GLiClassRanker.from_dict(data)
    assert restored.to_dict() == data
    assert (restored.top_k, restored.score_threshold, restored.device) == (3, 0.2, ComponentDevice.from_str("cpu"))
    assert GLiClassRanker().to_dict()["init_parameters"]["model"] is None  # the embedded default model


def test_to_dict_refuses_a_loaded_classifier(classifier: ZeroShotClassifier) -> None:
    with pytest.raises(SerializationError, match="name or path"):
        GLiClassRanker(classifier).to_dict()


def test_to_dict_writes_the_embedded_default_instance_as_none(classifier: ZeroShotClassifier) -> None:
    classifier.is_embedded_default = True  # what ZeroShotClassifier.from_pretrained() sets on the embedded model
    data = GLiClassRanker(classifier).to_dict()
    assert data["init_parameters"]["model"] is None  # from_dict resolves None to the shared embedded instance
