from __future__ import annotations

import asyncio
import copy

import pytest
from haystack import Document
from haystack.core.errors import SerializationError
from haystack_integrations.components.classifiers.gliclass import GLiClassDocumentClassifier

from gliclass_rag import ZeroShotClassifier

LABELS = ["sports", "science", "business"]
TEXTS = ["The team won the final match last night.", "Stocks fell sharply today."]


def docs() -> list[Document]:
    return [
        Document(id=f"d{i}", content=text, meta={"source": "news", "headline": text.split()[0]}, score=1.0)
        for i, text in enumerate(TEXTS)
    ]


@pytest.mark.parametrize("multi_label", [False, True])
def test_writes_label_score_and_details(classifier: ZeroShotClassifier, multi_label: bool) -> None:
    documents = docs()
    before = copy.deepcopy(documents)
    result = GLiClassDocumentClassifier(LABELS, classifier, multi_label=multi_label).run(documents)
    assert documents == before  # inputs untouched
    expected = classifier.scores(TEXTS, LABELS, multi_label=multi_label)
    for doc, original, details in zip(result["documents"], documents, expected, strict=True):
        best = max(details, key=details.__getitem__)
        assert doc.meta["classification"] == {"label": best, "score": details[best], "details": details}
        assert list(doc.meta["classification"]["details"]) == LABELS
        assert {k: v for k, v in doc.meta.items() if k != "classification"} == original.meta
        assert (doc.id, doc.content, doc.score) == (original.id, original.content, original.score)
    if not multi_label:
        assert sum(expected[0].values()) == pytest.approx(1.0)


def test_classification_field(classifier: ZeroShotClassifier) -> None:
    result = GLiClassDocumentClassifier(LABELS, classifier, classification_field="headline").run(docs())
    expected = classifier.scores(["The", "Stocks"], LABELS, multi_label=False)
    assert [doc.meta["classification"]["details"] for doc in result["documents"]] == expected
    with pytest.raises(ValueError, match=r"meta\['missing'\]; these documents have none: \['d0', 'd1'\]"):
        GLiClassDocumentClassifier(LABELS, classifier, classification_field="missing").run(docs())
    with pytest.raises(ValueError, match=r"content; these documents have none: \['blank'\]"):
        GLiClassDocumentClassifier(LABELS, classifier).run([Document(id="blank", content=" ")])


def test_empty_input_async_and_errors(classifier: ZeroShotClassifier) -> None:
    assert GLiClassDocumentClassifier(LABELS, "no/such-model").run([]) == {"documents": []}
    component = GLiClassDocumentClassifier(LABELS, classifier)
    assert asyncio.run(component.run_async(documents=docs())) == component.run(docs())
    with pytest.raises(TypeError, match="list of Documents"):
        component.run("a text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="labels has 'x' twice"):
        GLiClassDocumentClassifier(["x", "x"])
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, but got 0"):
        GLiClassDocumentClassifier(LABELS, batch_size=0)


def test_to_dict_from_dict(model_path: str, classifier: ZeroShotClassifier) -> None:
    component = GLiClassDocumentClassifier(LABELS, model_path, multi_label=True, prompt="Topic:", batch_size=2)
    data = component.to_dict()
    assert data == {
        "type": "haystack_integrations.components.classifiers.gliclass.classifier.GLiClassDocumentClassifier",
        "init_parameters": {
            "labels": LABELS,
            "model": model_path,
            "multi_label": True,
            "classification_field": None,
            "prompt": "Topic:",
            "label_descriptions": None,
            "batch_size": 2,
            "device": None,
            "dtype": None,
        },
    }
    restored = GLiClassDocumentClassifier.from_dict(data)
    assert restored.to_dict() == data
    assert restored.run(docs()) == component.run(docs())
    with pytest.raises(SerializationError):
        GLiClassDocumentClassifier(LABELS, classifier).to_dict()
