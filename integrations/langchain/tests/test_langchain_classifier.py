"""GLiClassDocumentClassifier on a tiny random model: annotation, thresholds, keep/drop filters, copies, async."""

from __future__ import annotations

import asyncio
import copy

import pytest
from langchain_core.documents import Document
from langchain_gliclass import GLiClassDocumentClassifier
from pydantic import ValidationError

from gliclass_rag import InvalidInputError, ZeroShotClassifier

LABELS = ["sports", "science", "business", "politics", "health"]


def engine_scores(classifier, documents, labels=LABELS, **kwargs):
    return classifier.scores([d.page_content for d in documents], labels, **kwargs)


def test_annotates_every_document_with_labels_and_scores(tiny_classifier, documents):
    tagger = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS, threshold=0.5)

    out = tagger.compress_documents(documents, "the query is not used")

    assert [d.id for d in out] == [d.id for d in documents]  # input order, nothing dropped
    for doc, row in zip(out, engine_scores(tiny_classifier, documents), strict=True):
        assert list(doc.metadata["label_scores"]) == LABELS
        assert doc.metadata["label_scores"] == pytest.approx(row, abs=1e-6)
        applied = doc.metadata["labels"]
        assert set(applied) == {label for label, s in row.items() if s >= 0.5}
        assert [row[label] for label in applied] == sorted((row[label] for label in applied), reverse=True)
    assert any(d.metadata["labels"] for d in out)
    assert any(len(d.metadata["labels"]) < len(LABELS) for d in out)


def test_per_label_thresholds(tiny_classifier, documents):
    rows = engine_scores(tiny_classifier, documents)
    threshold = {"sports": 0.0, "science": 1.0}  # the others keep the default 0.5

    out = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS, threshold=threshold).transform_documents(
        documents
    )

    for doc, row in zip(out, rows, strict=True):
        expected = {label for label, s in row.items() if s >= threshold.get(label, 0.5)}
        assert set(doc.metadata["labels"]) == expected
        assert "sports" in expected
        assert "science" not in expected or row["science"] >= 1.0


def test_single_label_gives_the_top_label_of_a_softmax(tiny_classifier, documents):
    out = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS, multi_label=False).transform_documents(
        documents
    )

    for doc, row in zip(out, engine_scores(tiny_classifier, documents, multi_label=False), strict=True):
        assert doc.metadata["labels"] == [max(row, key=row.__getitem__)]
        assert sum(doc.metadata["label_scores"].values()) == pytest.approx(1.0, abs=1e-5)


def test_keep_and_drop_labels_filter_in_input_order(tiny_classifier, documents):
    tagged = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS).transform_documents(documents)
    labels_of = {d.id: set(d.metadata["labels"]) for d in tagged}
    # labels that some documents have and others do not, so that every filter really separates documents
    splitting = [label for label in LABELS if 0 < sum(label in found for found in labels_of.values()) < len(tagged)]
    assert len(splitting) >= 2
    keep_label, drop_label = splitting[0], splitting[1]

    keep = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS, keep_labels=[keep_label])
    drop = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS, drop_labels=[drop_label])
    both = GLiClassDocumentClassifier(
        model=tiny_classifier, labels=LABELS, keep_labels=[keep_label], drop_labels=[drop_label]
    )
    either = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS, keep_labels=splitting[:2])

    ids = [d.id for d in documents]
    assert [d.id for d in keep.compress_documents(documents, "q")] == [i for i in ids if keep_label in labels_of[i]]
    assert [d.id for d in drop.compress_documents(documents, "q")] == [i for i in ids if drop_label not in labels_of[i]]
    assert [d.id for d in both.compress_documents(documents, "q")] == [
        i for i in ids if keep_label in labels_of[i] and drop_label not in labels_of[i]
    ]
    assert [d.id for d in either.compress_documents(documents, "q")] == [
        i for i in ids if labels_of[i] & set(splitting[:2])
    ]
    assert keep.compress_documents(documents, "q") == [d for d in tagged if keep_label in labels_of[d.id]]


def test_metadata_keys_can_be_renamed_or_switched_off(tiny_classifier, documents):
    renamed = GLiClassDocumentClassifier(
        model=tiny_classifier, labels=LABELS, labels_key="topics", scores_key=None
    ).transform_documents(documents)
    assert all(set(d.metadata) == {"source", "tags", "topics"} for d in renamed)

    silent = GLiClassDocumentClassifier(
        model=tiny_classifier, labels=LABELS, labels_key=None, scores_key=None, keep_labels=["sports"]
    ).transform_documents(documents)
    assert silent
    assert all(d.metadata == o.metadata for d in silent for o in documents if o.id == d.id)


def test_label_groups_are_flattened_like_the_engine(tiny_classifier, documents):
    groups = {"topic": ["sports", "science"], "tone": ["business"]}
    tagger = GLiClassDocumentClassifier(
        model=tiny_classifier, labels=groups, threshold={"topic.sports": 0.2}, keep_labels=["topic.sports"]
    )

    assert tagger.label_names == ["topic.sports", "topic.science", "tone.business"]
    out = tagger.transform_documents(documents)
    rows = dict(zip([d.id for d in documents], engine_scores(tiny_classifier, documents, groups), strict=True))
    assert out
    for doc in out:
        assert doc.metadata["label_scores"] == pytest.approx(rows[doc.id], abs=1e-6)
        assert "topic.sports" in doc.metadata["labels"]


def test_prompt_and_label_descriptions_reach_the_model(tiny_classifier, documents):
    descriptions = {"sports": "games and matches"}
    tagger = GLiClassDocumentClassifier(
        model=tiny_classifier, labels=LABELS, prompt="Classify the news.", label_descriptions=descriptions
    )

    out = tagger.transform_documents(documents)

    expected = engine_scores(tiny_classifier, documents, prompt="Classify the news.", label_descriptions=descriptions)
    plain = engine_scores(tiny_classifier, documents)
    for doc, row in zip(out, expected, strict=True):
        assert doc.metadata["label_scores"] == pytest.approx(row, abs=1e-6)
    assert any(row != pytest.approx(plain_row, abs=1e-4) for row, plain_row in zip(expected, plain, strict=True))


def test_returns_copies_and_never_mutates_inputs(tiny_classifier, documents):
    documents[1].metadata["labels"] = ["set by the user"]
    before = copy.deepcopy(documents)

    out = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS).compress_documents(documents, "q")

    assert documents == before
    assert all(o is not d for o, d in zip(out, documents, strict=True))
    assert [o.id for o in out] == [d.id for d in documents]
    assert all(o.metadata["source"] == d.metadata["source"] for o, d in zip(out, documents, strict=True))
    assert out[1].metadata["labels"] != ["set by the user"]  # overwritten on the copy only
    out[0].metadata["tags"].append("changed downstream")
    assert documents == before


def test_blank_documents_get_no_labels(tiny_classifier, documents):
    tagger = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS, threshold=0.0)
    blank, *rest = tagger.transform_documents([Document(page_content=" \n"), *documents])
    assert blank.metadata == {"labels": [], "label_scores": dict.fromkeys(LABELS, 0.0)}
    assert all(d.metadata["labels"] for d in rest)  # threshold 0 gives every label to real text
    keep = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS, threshold=0.0, keep_labels=["sports"])
    assert keep.transform_documents([Document(page_content="")]) == []


def test_empty_input_returns_empty(tiny_classifier):
    tagger = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS)
    assert tagger.compress_documents([], "q") == []
    assert tagger.transform_documents(()) == []
    assert asyncio.run(tagger.acompress_documents([], "q")) == []
    assert asyncio.run(tagger.atransform_documents([])) == []


def test_async_equals_sync(tiny_classifier, documents):
    tagger = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS, drop_labels=["politics"])
    sync = tagger.compress_documents(documents, "q")
    assert asyncio.run(tagger.acompress_documents(documents, "q")) == sync
    assert asyncio.run(tagger.atransform_documents(documents)) == sync
    assert tagger.transform_documents(documents) == sync


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"labels": []}, "labels is empty"),
        ({"labels": {}}, "labels is empty"),
        ({"labels": ["a", "a"]}, "'a' twice"),
        ({"labels": ["a", " "]}, "empty or whitespace label"),
        ({"labels": "sports"}, "labels"),
        ({"labels": ["a"], "threshold": 1.5}, "less than or equal to 1"),
        ({"labels": ["a"], "threshold": {"a": -0.1}}, "greater than or equal to 0"),
        ({"labels": ["a"], "threshold": {"b": 0.2}}, r"threshold names \['b'\]"),
        ({"labels": ["a"], "keep_labels": []}, "keep_labels is empty"),
        ({"labels": ["a"], "drop_labels": ["z"]}, r"drop_labels names \['z'\]"),
        ({"labels": ["a", "b"], "keep_labels": ["a"], "drop_labels": ["a"]}, "both name"),
        ({"labels": ["a"], "label_descriptions": {"b": "x"}}, "label_descriptions names"),
        ({"labels": ["a"], "labels_key": "k", "scores_key": "k"}, "both 'k'"),
        ({"labels": ["a"], "labels_key": ""}, "metadata key"),
        ({"labels": ["a"], "multi_label": "yes"}, "multi_label"),
        ({"labels": ["a"], "batch_size": 0}, "greater than or equal to 1"),
    ],
)
def test_bad_settings_raise_clear_errors(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        GLiClassDocumentClassifier(**kwargs)


def test_bad_documents_raise_invalid_input(tiny_classifier):
    tagger = GLiClassDocumentClassifier(model=tiny_classifier, labels=LABELS)
    with pytest.raises(InvalidInputError, match=r"documents\[0\] must be a langchain_core Document"):
        tagger.transform_documents(["a plain string"])
    with pytest.raises(InvalidInputError, match="documents must be a sequence of Document"):
        asyncio.run(tagger.acompress_documents(Document("one"), "q"))


def test_settings_serialise_with_the_models_source(tiny_checkpoint):
    loaded = ZeroShotClassifier.from_pretrained(tiny_checkpoint)
    tagger = GLiClassDocumentClassifier(model=loaded, labels=LABELS, threshold={"sports": 0.3}, keep_labels=["sports"])
    data = tagger.model_dump()
    assert data["model"] == str(tiny_checkpoint)
    assert data["labels"] == LABELS
    assert data["threshold"] == {"sports": 0.3}

    rebuilt = GLiClassDocumentClassifier.model_validate_json(tagger.model_dump_json())
    assert rebuilt.model_dump() == data
    assert rebuilt.transform_documents([Document("The team won the match.")]) == tagger.transform_documents(
        [Document("The team won the match.")]
    )
