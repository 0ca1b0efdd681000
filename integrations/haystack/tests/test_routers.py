from __future__ import annotations

import asyncio
import copy

import pytest
from haystack import Document
from haystack.core.errors import SerializationError
from haystack_integrations.components.routers.gliclass import GLiClassDocumentRouter, GLiClassTextRouter

from gliclass_rag import ZeroShotClassifier

LABELS = ["sports", "science", "business", "politics"]
TEXT = "The team won the final match last night."
TEXTS = [TEXT, "Stocks fell sharply today.", "Scientists found a new planet near a small star."]


def ranked_labels(classifier: ZeroShotClassifier, text: str) -> list[str]:
    scores = classifier.scores(text, LABELS)
    return sorted(LABELS, key=lambda label: -scores[label])


def outputs(component: object) -> set[str]:
    return set(component.__haystack_output__._sockets_dict)  # type: ignore[attr-defined]


def test_one_output_per_label_plus_unmatched_and_scores(classifier: ZeroShotClassifier) -> None:
    router = GLiClassTextRouter(LABELS, classifier)
    assert outputs(router) == {*LABELS, "unmatched", "scores"}
    sockets = router.__haystack_output__._sockets_dict  # type: ignore[attr-defined]
    assert sockets["sports"].type is str
    assert sockets["scores"].type == dict[str, float]


def test_scores_output_is_every_label_in_order(classifier: ZeroShotClassifier) -> None:
    result = GLiClassTextRouter(LABELS, classifier, threshold=0.0).run(TEXT)
    assert result["scores"] == classifier.scores(TEXT, LABELS)
    assert list(result["scores"]) == LABELS


def test_multi_label_routes_a_text_to_two_outputs(classifier: ZeroShotClassifier) -> None:
    scores = classifier.scores(TEXT, LABELS)
    first, second, *rest = ranked_labels(classifier, TEXT)
    cut = (scores[second] + scores[rest[0]]) / 2  # the two best labels pass, the others do not
    result = GLiClassTextRouter(LABELS, classifier, threshold=cut).run(TEXT)
    assert set(result) == {first, second, "scores"}
    assert result[first] == result[second] == TEXT


def test_single_label_keeps_the_best_match(classifier: ZeroShotClassifier) -> None:
    first, *_ = ranked_labels(classifier, TEXT)
    result = GLiClassTextRouter(LABELS, classifier, threshold=0.0, multi_label=False).run(TEXT)
    assert set(result) == {first, "scores"}


def test_per_label_thresholds(classifier: ZeroShotClassifier) -> None:
    first, second, *_ = ranked_labels(classifier, TEXT)
    router = GLiClassTextRouter(
        LABELS, classifier, threshold=1.0, label_thresholds={first: 1.0, second: 0.0}, multi_label=False
    )
    assert set(router.run(TEXT)) == {second, "scores"}  # the best label is held back by its own threshold


def test_unmatched(classifier: ZeroShotClassifier) -> None:
    result = GLiClassTextRouter(LABELS, classifier, threshold=1.0).run(TEXT)
    assert set(result) == {"unmatched", "scores"}
    assert result["unmatched"] == TEXT


def test_blank_text_goes_to_unmatched_unscored() -> None:
    router = GLiClassTextRouter(LABELS, "no/such-model")  # not loaded for a blank text
    assert router.run(" ") == {"unmatched": " ", "scores": {}}


def test_text_router_async_equals_sync(classifier: ZeroShotClassifier) -> None:
    router = GLiClassTextRouter(LABELS, classifier, threshold=0.3)
    assert asyncio.run(router.run_async(text=TEXT)) == router.run(TEXT)


def test_text_router_type_error(classifier: ZeroShotClassifier) -> None:
    with pytest.raises(TypeError, match="text to be a str"):
        GLiClassTextRouter(LABELS, classifier).run(["a list"])  # type: ignore[arg-type]


@pytest.mark.parametrize("router_class", [GLiClassTextRouter, GLiClassDocumentRouter])
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"labels": []}, ValueError, "labels is empty"),
        ({"labels": "sports"}, TypeError, "labels must be a list of str"),
        ({"labels": ["a", "a"]}, ValueError, "labels has 'a' twice"),
        ({"labels": ["a", " "]}, ValueError, r"labels\[1\] is empty"),
        ({"labels": ["a", "unmatched"]}, ValueError, "reserved output name"),
        ({"labels": ["scores"]}, ValueError, "reserved output name"),
        ({"labels": ["a"], "threshold": 1.5}, ValueError, r"threshold must be a number in \[0, 1\], but got 1.5"),
        ({"labels": ["a"], "label_thresholds": {"b": 0.5}}, ValueError, "label_thresholds names 'b'"),
        ({"labels": ["a"], "label_thresholds": {"a": -1}}, ValueError, r"label_thresholds\['a'\] must be"),
        ({"labels": ["a"], "label_descriptions": {"b": "x"}}, ValueError, "label_descriptions names 'b'"),
        ({"labels": ["a"], "multi_label": "yes"}, TypeError, "multi_label must be True or False"),
    ],
)
def test_bad_router_arguments_are_named(router_class: type, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        router_class(**kwargs)


def test_text_router_to_dict_from_dict(model_path: str, classifier: ZeroShotClassifier) -> None:
    router = GLiClassTextRouter(
        LABELS,
        model_path,
        threshold=0.4,
        label_thresholds={"sports": 0.7},
        multi_label=False,
        prompt="Topic of the text:",
        label_descriptions={"sports": "games and athletes"},
    )
    data = router.to_dict()
    assert data["type"] == "haystack_integrations.components.routers.gliclass.router.GLiClassTextRouter"
    restored = GLiClassTextRouter.from_dict(data)
    assert restored.to_dict() == data
    assert outputs(restored) == outputs(router)
    assert restored.run(TEXT) == router.run(TEXT)
    with pytest.raises(SerializationError):
        GLiClassTextRouter(LABELS, classifier).to_dict()


# --- the batch shape: Documents ---------------------------------------------------------------------------------
def docs() -> list[Document]:
    return [Document(id=f"d{i}", content=text, meta={"n": i}) for i, text in enumerate(TEXTS)]


def test_document_router_matches_the_text_router(classifier: ZeroShotClassifier) -> None:
    documents = docs()
    before = copy.deepcopy(documents)
    kwargs = {"threshold": 0.5, "label_thresholds": {"science": 0.3}}
    result = GLiClassDocumentRouter(LABELS, classifier, batch_size=2, **kwargs).run(documents)
    text_router = GLiClassTextRouter(LABELS, classifier, **kwargs)
    expected: dict[str, list[str]] = {}
    for doc in documents:
        for output in text_router.run(doc.content) if doc.content else {}:
            if output != "scores":
                expected.setdefault(output, []).append(doc.id)
    assert {k: [d.id for d in v] for k, v in result.items() if k != "scores"} == expected
    for row, want in zip(result["scores"], classifier.scores(TEXTS, LABELS), strict=True):
        assert row == pytest.approx(want, abs=1e-5)  # batched by 2 here, by 8 there: padding differs
    assert documents == before
    assert outputs(GLiClassDocumentRouter(LABELS)) == {*LABELS, "unmatched", "scores"}


def test_document_router_emits_only_non_empty_outputs(classifier: ZeroShotClassifier) -> None:
    result = GLiClassDocumentRouter(LABELS, classifier, threshold=1.0).run(docs())
    assert set(result) == {"unmatched", "scores"}
    assert [doc.id for doc in result["unmatched"]] == ["d0", "d1", "d2"]


def test_document_router_sends_documents_without_text_to_unmatched(classifier: ZeroShotClassifier) -> None:
    documents = [Document(id="empty", content=None), *docs()]
    result = GLiClassDocumentRouter(LABELS, classifier, threshold=0.0).run(documents)
    assert [doc.id for doc in result["unmatched"]] == ["empty"]
    assert result["scores"][0] == {}
    assert [doc.id for doc in result["sports"]] == ["d0", "d1", "d2"]
    by_field = GLiClassDocumentRouter(LABELS, classifier, threshold=0.0, classification_field="n").run(docs())
    assert "unmatched" not in by_field  # meta values are read as text


def test_document_router_empty_and_async(classifier: ZeroShotClassifier) -> None:
    assert GLiClassDocumentRouter(LABELS, "no/such-model").run([]) == {"scores": []}
    router = GLiClassDocumentRouter(LABELS, classifier, threshold=0.4)
    assert asyncio.run(router.run_async(documents=docs())) == router.run(docs())
    with pytest.raises(TypeError, match="list of Documents"):
        router.run("a text")  # type: ignore[arg-type]


def test_document_router_to_dict_from_dict(model_path: str) -> None:
    router = GLiClassDocumentRouter(LABELS, model_path, label_thresholds={"sports": 0.6}, batch_size=3)
    data = router.to_dict()
    assert data["type"] == "haystack_integrations.components.routers.gliclass.router.GLiClassDocumentRouter"
    assert GLiClassDocumentRouter.from_dict(data).to_dict() == data
