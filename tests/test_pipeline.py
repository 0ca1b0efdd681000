"""ZeroShotClassifier on tiny random models: results, options, batching, chunking, token safety, errors, checkpoints."""

from __future__ import annotations

import copy
import json
import math
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from tiny import LABELS, MARKERS, build_classifier

import gliclass_rag
from gliclass_rag import (
    CheckpointError,
    ChunkingOptions,
    ConfigError,
    ContextOverflowError,
    InvalidInputError,
    LabelScore,
    RankedPassage,
    UnsafeCheckpointError,
    ZeroShotClassifier,
)
from gliclass_rag.calibration import Calibration
from gliclass_rag.requests import build_requests, normalize_texts
from gliclass_rag.scoring import collate

ARCHS = ("uni-encoder", "bi-encoder", "bi-encoder-fused")
TEXT = "The team won the final match last night."
TEXTS = (
    "Stocks fell sharply today.",
    "The team won the final match last night.",
    "Scientists found a new planet near a small star and the discovery could change how we think about life in "
    "space, so the government will build a new rocket to fly there next year.",
    "My new phone has a great camera.",
)
LONG_TEXT = " ".join(
    ["the team won the match and the company reported profits while scientists found a planet near the sun"] * 8
)  # ~150 tokens
MANY_LABELS = (
    *("sports", "science", "business", "politics", "technology", "health", "travel", "entertainment", "finance"),
    *("education", "weather", "crime", "music", "food", "animal", "river", "mountain", "ocean", "island", "city"),
    *("country", "school", "family", "money", "market", "bank", "film", "movie", "review", "computer"),
)
PROMPT = "classify the topic of this news text:"
EXAMPLES = (
    {"text": "The company reported record profits this year.", "labels": ["business"]},
    {"text": "The player scored two goals in the game.", "labels": ["sports", "health"]},
)


# --- fixtures --------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def make() -> Callable[..., ZeroShotClassifier]:
    """``make(architecture, **config_overrides)``: a tiny classifier, built once per distinct arguments.

    Shared across tests: tests that change a classifier deep-copy it first.
    """
    built: dict[Any, ZeroShotClassifier] = {}

    def factory(architecture: str = "uni-encoder", **overrides: Any) -> ZeroShotClassifier:
        key = (architecture, tuple(sorted(overrides.items())))
        if key not in built:
            built[key] = build_classifier(architecture, **overrides)
        return built[key]

    return factory


@pytest.fixture(scope="session")
def uni(make) -> ZeroShotClassifier:
    return make("uni-encoder")


@pytest.fixture(scope="session", params=ARCHS)
def any_arch(request, make) -> ZeroShotClassifier:
    return make(request.param)


@pytest.fixture(scope="session")
def saved_uni(uni, tmp_path_factory) -> Path:
    """A saved uni-encoder checkpoint; read-only for tests (copy it to change it)."""
    return uni.save_pretrained(tmp_path_factory.mktemp("saved-uni") / "checkpoint")


def with_chunking(classifier: ZeroShotClassifier, chunking: ChunkingOptions) -> ZeroShotClassifier:
    """The same model with other chunking options (the model is shared, not copied)."""
    return ZeroShotClassifier(
        classifier.model, classifier.tokenizer, label_tokenizer=classifier.label_tokenizer, chunking=chunking
    )


def planned(classifier: ZeroShotClassifier, texts, labels, chunking: ChunkingOptions | None = None, **kwargs):
    requests = build_requests(normalize_texts(texts), labels, **kwargs)
    return classifier.engine.builder.plan(requests, chunking or classifier.chunking)


def marker_id(classifier: ZeroShotClassifier, marker: str) -> int:
    return int(classifier.tokenizer.convert_tokens_to_ids(marker))


def values(scores: dict[str, float]) -> np.ndarray:
    return np.array(list(scores.values()))


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


# --- results ---------------------------------------------------------------------------------------------------------
def test_scores_every_label_in_label_order(any_arch: ZeroShotClassifier) -> None:
    labels = ["travel", "sports", "health", "business"]
    result = any_arch.scores(TEXT, labels)
    assert list(result) == labels
    assert all(0.0 < v < 1.0 for v in result.values())
    batch = any_arch.scores(list(TEXTS), labels)
    assert isinstance(batch, list)
    assert len(batch) == len(TEXTS)
    assert all(list(row) == labels for row in batch)
    assert np.std([values(row) for row in batch]) > 0.05, "scores must spread, or the tests below prove little"


def test_single_text_in_single_result_out(uni: ZeroShotClassifier) -> None:
    single = uni.scores(TEXT, list(LABELS))
    assert isinstance(single, dict)
    listed = uni.scores([TEXT], list(LABELS))
    assert isinstance(listed, list)
    assert len(listed) == 1
    assert listed[0] == pytest.approx(single, abs=1e-6)
    classified = uni.classify(TEXT, list(LABELS), threshold=0.0)
    assert isinstance(classified, list)
    assert all(isinstance(item, LabelScore) for item in classified)
    nested = uni.classify([TEXT], list(LABELS), threshold=0.0)
    assert isinstance(nested, list)
    assert len(nested) == 1
    assert nested[0] == classified


def test_classify_is_sorted_and_thresholded(any_arch: ZeroShotClassifier) -> None:
    labels = list(LABELS)
    scores = any_arch.scores(TEXTS[2], labels)
    for threshold in (0.0, 0.3, 0.5, 0.8):
        result = any_arch.classify(TEXTS[2], labels, threshold=threshold)
        assert [r.score for r in result] == sorted((r.score for r in result), reverse=True)
        assert {r.label for r in result} == {label for label, s in scores.items() if s >= threshold}
        for item in result:
            assert item.score == pytest.approx(scores[item.label], abs=1e-6)
    assert len(any_arch.classify(TEXTS[2], labels, threshold=0.0)) == len(labels)


def test_classify_per_label_thresholds(uni: ZeroShotClassifier) -> None:
    labels = list(LABELS)
    scores = uni.scores(TEXTS[2], labels)
    ranked = sorted(labels, key=lambda label: -scores[label])
    high, low = ranked[0], ranked[-1]
    thresholds = {high: min(1.0, scores[high] + 0.01), low: max(0.0, scores[low] - 0.01)}
    result = {r.label for r in uni.classify(TEXTS[2], labels, threshold=thresholds)}
    expected = {label for label in labels if label not in thresholds and scores[label] >= 0.5} | {low}
    assert result == expected


def test_classify_top_k(uni: ZeroShotClassifier) -> None:
    labels = list(LABELS)
    everything = uni.classify(TEXTS[2], labels, threshold=0.0)
    assert uni.classify(TEXTS[2], labels, threshold=0.0, top_k=3) == everything[:3]
    assert uni.classify(TEXTS[2], labels, threshold=0.0, top_k=100) == everything


def test_single_label_softmax(any_arch: ZeroShotClassifier) -> None:
    labels = list(LABELS)
    probabilities = any_arch.scores(list(TEXTS), labels, multi_label=False)
    sigmoids = any_arch.scores(list(TEXTS), labels)
    for row, sig in zip(probabilities, sigmoids, strict=True):
        assert sum(row.values()) == pytest.approx(1.0, abs=1e-6)
        z = np.array([logit(sig[label]) for label in labels])  # the same logits, softmaxed
        expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        np.testing.assert_allclose(values(row), expected, atol=1e-5)
    top = any_arch.classify(TEXTS[0], labels, multi_label=False)
    assert len(top) == 1
    assert top[0].label == max(probabilities[0], key=probabilities[0].get)
    top3 = any_arch.classify(TEXTS[0], labels, multi_label=False, top_k=3)
    assert [r.label for r in top3] == sorted(labels, key=lambda label: -probabilities[0][label])[:3]


def test_nested_dict_labels_are_flattened_to_dot_names(uni: ZeroShotClassifier) -> None:
    labels = {"science": ["space", "physics"], "sports": {"team": ["football", "rugby"]}, "travel": "city"}
    names = ["science.space", "science.physics", "sports.team.football", "sports.team.rugby", "travel.city"]
    result = uni.scores(TEXT, labels)
    assert list(result) == names
    assert result == pytest.approx(uni.scores(TEXT, names), abs=1e-6)


def test_per_text_label_lists(any_arch: ZeroShotClassifier) -> None:
    per_text = [["sports", "travel"], list(LABELS), ["science"], ["health", "business", "crime"]]
    results = any_arch.scores(list(TEXTS), per_text)
    for text, labels, result in zip(TEXTS, per_text, results, strict=True):
        assert list(result) == labels
        assert result == pytest.approx(any_arch.scores(text, labels), abs=1e-5)


def test_per_text_prompts(uni: ZeroShotClassifier) -> None:
    prompts = ["classify the topic:", "what is this news about?", "label the text:", "topic:"]
    results = uni.scores(list(TEXTS), list(LABELS), prompt=prompts)
    for text, prompt, result in zip(TEXTS, prompts, results, strict=True):
        assert result == pytest.approx(uni.scores(text, list(LABELS), prompt=prompt), abs=1e-5)
    plain = uni.scores(TEXTS[0], list(LABELS))
    assert np.abs(values(results[0]) - values(plain)).max() > 1e-3, "the prompt must reach the model"


@pytest.mark.parametrize("architecture", ["uni-encoder", "bi-encoder-fused"])
def test_examples(make, architecture: str) -> None:
    classifier = make(architecture)
    labels = list(LABELS)
    shared = classifier.scores(list(TEXTS[:2]), labels, examples=list(EXAMPLES))
    plain = classifier.scores(list(TEXTS[:2]), labels)
    assert np.abs(values(shared[0]) - values(plain[0])).max() > 1e-3, "examples must reach the model"
    per_text = classifier.scores(list(TEXTS[:2]), labels, examples=[list(EXAMPLES), None])
    assert per_text[0] == pytest.approx(shared[0], abs=1e-5)
    assert per_text[1] == pytest.approx(plain[1], abs=1e-5)
    ids = planned(classifier, TEXTS[0], labels, examples=list(EXAMPLES))[0].input_ids
    assert ids.count(marker_id(classifier, "<<EXAMPLE>>")) == len(EXAMPLES)


def test_bi_encoder_examples_become_label_prototypes(make) -> None:
    """A bi-encoder reads no examples in its input: a label named by examples is scored against a mix of its name
    and its examples' embeddings; labels no example names keep their scores."""
    classifier = make("bi-encoder")
    labels = list(LABELS)
    named = {label for example in EXAMPLES for label in example["labels"]}
    shared = classifier.scores(list(TEXTS[:2]), labels, examples=list(EXAMPLES))
    plain = classifier.scores(list(TEXTS[:2]), labels)
    for label in labels:
        difference = abs(shared[0][label] - plain[0][label])
        assert difference > 1e-4 if label in named else difference < 1e-6, label
    per_text = classifier.scores(list(TEXTS[:2]), labels, examples=[list(EXAMPLES), None])
    assert per_text[0] == pytest.approx(shared[0], abs=1e-5)
    assert per_text[1] == pytest.approx(plain[1], abs=1e-5)


def test_label_descriptions_are_written_after_the_text(uni: ZeroShotClassifier) -> None:
    labels = list(LABELS)
    described = uni.scores(TEXT, labels, label_descriptions={"sports": "games and teams", "travel": "trips"})
    by_hand = uni.scores(TEXT + " sports: games and teams travel: trips", labels)
    assert list(described) == labels
    assert values(described) == pytest.approx(values(by_hand), abs=1e-6)
    assert np.abs(values(described) - values(uni.scores(TEXT, labels))).max() > 1e-3
    with pytest.raises(InvalidInputError, match="'golf'"):
        uni.scores(TEXT, labels, label_descriptions={"golf": "a sport"})


# --- batch invariance ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pooling", ["avg", "max", "last", "rms"])
@pytest.mark.parametrize("architecture", ARCHS)
def test_batch_invariance(make, architecture: str, pooling: str) -> None:
    classifier = make(architecture, pooling_strategy=pooling)
    labels = list(LABELS)
    alone = [classifier.scores(text, labels, batch_size=1) for text in TEXTS]
    for batch_size in (1, 2, 3, 8):
        together = classifier.scores(list(TEXTS), labels, batch_size=batch_size)
        for single, batched in zip(alone, together, strict=True):
            np.testing.assert_allclose(values(batched), values(single), atol=1e-5, err_msg=f"batch_size {batch_size}")
    # rows with different label counts share a batch (padded label slots)
    per_text = [labels[:2], labels, labels[:5], labels[3:]]
    mixed = classifier.scores(list(TEXTS), per_text, batch_size=4)
    for text, text_labels, result in zip(TEXTS, per_text, mixed, strict=True):
        np.testing.assert_allclose(values(result), values(classifier.scores(text, text_labels)), atol=1e-5)


# --- chunking: never drop a label ------------------------------------------------------------------------------------
SMALL = ChunkingOptions(max_length=48)


@pytest.mark.parametrize("architecture", ARCHS)
def test_many_labels_all_get_a_score(make, architecture: str) -> None:
    classifier = with_chunking(make(architecture), SMALL)
    labels = list(MANY_LABELS)
    result = classifier.scores(TEXT, labels)
    assert list(result) == labels
    assert all(0.0 < v < 1.0 for v in result.values())
    sequences = planned(classifier, TEXT, labels, SMALL)
    assert all(len(s.input_ids) <= 48 for s in sequences)
    assert sorted(i for s in sequences for i in s.labels) == list(range(len(labels)))
    if architecture == "uni-encoder":
        assert len(sequences) > 1, "30 labels cannot fit in 48 tokens: the labels must be chunked"
    label_id = marker_id(classifier, "<<LABEL>>")
    for sequence in sequences:
        expected = 0 if architecture == "bi-encoder" else len(sequence.labels)
        assert sequence.input_ids.count(label_id) == expected


@pytest.mark.parametrize("architecture", ARCHS)
def test_long_text_is_windowed_and_every_label_scored(make, architecture: str) -> None:
    classifier = with_chunking(make(architecture), SMALL)
    labels = list(LABELS)
    result = classifier.scores(LONG_TEXT, labels)
    assert list(result) == labels
    sequences = planned(classifier, LONG_TEXT, labels, SMALL)
    assert len(sequences) > 2
    assert all(len(s.input_ids) <= 48 for s in sequences)
    assert all(s.labels == tuple(range(len(labels))) for s in sequences)
    # the windows together cover the whole text
    text_ids = classifier.tokenizer(LONG_TEXT, add_special_tokens=False)["input_ids"]
    seen = [i for s in sequences for i in s.input_ids]
    assert set(text_ids) <= set(seen)


@pytest.mark.parametrize("architecture", ARCHS)
def test_small_context_does_not_change_inputs_that_fit(make, architecture: str) -> None:
    classifier = make(architecture)
    small = with_chunking(classifier, SMALL)
    labels = list(LABELS[:3])
    assert len(planned(small, TEXT, labels, SMALL)) == 1
    assert values(small.scores(TEXT, labels)) == pytest.approx(values(classifier.scores(TEXT, labels)), abs=1e-6)


def test_a_label_that_cannot_fit_raises(uni: ZeroShotClassifier) -> None:
    classifier = with_chunking(uni, SMALL)
    huge = " ".join(["word"] * 60)
    with pytest.raises(ContextOverflowError, match="max_length 48"):
        classifier.scores(TEXT, ["sports", huge])


def test_label_chunk_size(uni: ZeroShotClassifier) -> None:
    labels = list(LABELS[:5])
    options = ChunkingOptions(label_chunk_size=2)
    assert [s.labels for s in planned(uni, TEXT, labels, options)] == [(0, 1), (2, 3), (4,)]
    one = with_chunking(uni, ChunkingOptions(label_chunk_size=1))
    chunked = one.scores(TEXT, labels)
    alone = [uni.scores(TEXT, [label])[label] for label in labels]
    np.testing.assert_allclose(values(chunked), alone, atol=1e-6)
    assert np.abs(values(chunked) - values(uni.scores(TEXT, labels))).max() > 1e-4


def test_label_chunk_size_from_the_checkpoint_config(uni: ZeroShotClassifier) -> None:
    model = copy.deepcopy(uni.model)
    model.config = model.config.replace(rag={"label_chunk_size": 3})
    classifier = ZeroShotClassifier(model, uni.tokenizer)
    assert classifier.chunking.label_chunk_size == 3
    assert [s.labels for s in planned(classifier, TEXT, list(LABELS))] == [(0, 1, 2), (3, 4, 5), (6,)]


@pytest.mark.parametrize("aggregation", ["max", "mean"])
def test_window_aggregation(uni: ZeroShotClassifier, aggregation: str) -> None:
    options = ChunkingOptions(max_length=48, window_aggregation=aggregation)
    classifier = with_chunking(uni, options)
    labels = list(LABELS)
    requests = build_requests([LONG_TEXT], labels)
    sequences = classifier.engine.builder.plan(requests, options)
    assert len(sequences) > 2
    windows = []
    with torch.no_grad():
        for sequence in sequences:  # each window on its own
            batch = collate(
                [sequence],
                requests,
                pad_token_id=0,
                label_input=lambda request, index: request.labels[index],
                label_table=None,
                device=torch.device("cpu"),
            )
            windows.append(uni.model(batch).logits[0, : len(labels)].double().numpy())
    stacked = np.stack(windows)
    expected = stacked.max(axis=0) if aggregation == "max" else stacked.mean(axis=0)
    assert np.abs(stacked.max(axis=0) - stacked.mean(axis=0)).max() > 1e-3, "windows must disagree"
    np.testing.assert_allclose(values(classifier.scores(LONG_TEXT, labels)), 1 / (1 + np.exp(-expected)), atol=1e-5)


# --- special-token safety --------------------------------------------------------------------------------------------
def _inputs(where: str, spelling: str) -> dict[str, Any]:
    """Texts/labels/prompt/examples with ``spelling`` placed in one of them."""
    inputs: dict[str, Any] = {
        "texts": "the team won the match",
        "labels": ["sports", "science", "business"],
        "prompt": "classify the topic:",
        "examples": [{"text": "the player scored", "labels": ["sports"]}],
    }
    if where == "text":
        inputs["texts"] = f"the team {spelling} won{spelling}the match {spelling}"
    elif where == "label":
        inputs["labels"] = ["sports", f"sci{spelling}ence", f"{spelling}business"]
    elif where == "prompt":
        inputs["prompt"] = f"classify {spelling} the topic:{spelling}"
    elif where == "example_text":
        inputs["examples"] = [{"text": f"the player {spelling} scored", "labels": ["sports"]}]
    elif where == "example_label":
        inputs["examples"] = [{"text": "the player scored", "labels": [f"sports{spelling}", "health"]}]
    return inputs


WHERE = ("text", "label", "prompt", "example_text", "example_label")


@pytest.mark.parametrize("marker", MARKERS)
@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("architecture", ARCHS)
def test_marker_characters_never_open_a_slot(make, architecture: str, where: str, marker: str) -> None:
    """A marker written by the caller is tokenised as its characters: the same ids as the lower-case spelling,
    which the tokenizer does not match as a special token but splits into the same pieces (it lower-cases)."""
    classifier = make(architecture)
    hostile, spelled = _inputs(where, marker), _inputs(where, marker.lower())
    assert classifier.tokenizer.tokenize(marker.lower()) != [marker]
    texts, labels = hostile.pop("texts"), hostile.pop("labels")
    spelled_texts, spelled_labels = spelled.pop("texts"), spelled.pop("labels")
    (sequence,) = planned(classifier, texts, labels, **hostile)
    (reference,) = planned(classifier, spelled_texts, spelled_labels, **spelled)
    ids = sequence.input_ids
    assert ids.count(marker_id(classifier, "<<LABEL>>")) == (0 if architecture == "bi-encoder" else len(labels))
    num_examples = 0 if architecture == "bi-encoder" else len(hostile["examples"])  # bi: label prototypes
    assert ids.count(marker_id(classifier, "<<EXAMPLE>>")) == num_examples
    expected_seps = 0 if architecture == "bi-encoder" else 1 + (1 if num_examples else 0)
    assert ids.count(marker_id(classifier, "<<SEP>>")) == expected_seps
    assert ids == reference.input_ids
    got = values(classifier.scores(texts, labels, **hostile))
    want = values(classifier.scores(spelled_texts, spelled_labels, **spelled))
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_label_made_only_of_a_marker(uni: ZeroShotClassifier) -> None:
    labels = ["sports", "<<LABEL>>", "<<SEP>>"]
    (sequence,) = planned(uni, TEXT, labels)
    assert sequence.input_ids.count(marker_id(uni, "<<LABEL>>")) == 3
    assert sequence.input_ids.count(marker_id(uni, "<<SEP>>")) == 1
    assert list(uni.scores(TEXT, labels)) == labels


# --- exact tokenisation ----------------------------------------------------------------------------------------------
def _reference_string(architecture: str, prompt_first: bool, text: str, labels, prompt: str, examples) -> str:
    shots = ""
    if examples:
        shots = "".join(f"<<EXAMPLE>>{e['text']} \nLabels:\n {', '.join(e['labels'])}" for e in examples) + "<<SEP>>"
    if architecture == "uni-encoder":
        head = "".join(f"<<LABEL>>{label}" for label in labels) + "<<SEP>>" + prompt
    else:  # bi-encoder-fused
        head = (f"{prompt} " if prompt else "") + "<<LABEL>>" * len(labels) + "<<SEP>>"
    return head + text + shots if prompt_first else text + head + shots


CLEAN_TEXTS = (
    TEXT,
    "Café naïve   spacing\n\nnewlines\tand tabs, zzqx unknown-words!",
    "price <<",  # a partial marker next to a real one
    "ends with LABEL>> and <<SEP",
)


@pytest.mark.parametrize("with_examples", [False, True])
@pytest.mark.parametrize("prompt", ["", PROMPT])
@pytest.mark.parametrize("prompt_first", [False, True])
@pytest.mark.parametrize("architecture", ["uni-encoder", "bi-encoder-fused"])
def test_planned_ids_equal_the_reference_string(
    make, architecture: str, prompt_first: bool, prompt: str, with_examples: bool
) -> None:
    classifier = make(architecture, prompt_first=prompt_first)
    labels = ["Sports", "science fiction", "crime-news", "x"]
    examples = list(EXAMPLES) if with_examples else None
    for text in CLEAN_TEXTS:
        (sequence,) = planned(classifier, text, labels, prompt=prompt or None, examples=examples)
        full = _reference_string(architecture, prompt_first, text, labels, prompt, examples)
        assert list(sequence.input_ids) == classifier.tokenizer(full)["input_ids"], (text, full)


@pytest.mark.parametrize("prompt", ["", PROMPT])
def test_bi_encoder_planned_ids_equal_the_reference_string(make, prompt: str) -> None:
    classifier = make("bi-encoder")
    for text in CLEAN_TEXTS:
        (sequence,) = planned(classifier, text, list(LABELS), prompt=prompt or None)
        full = f"{prompt} {text}" if prompt else text
        assert list(sequence.input_ids) == classifier.tokenizer(full)["input_ids"]


# --- bad inputs ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"labels": []}, "labels"),
        ({"texts": ""}, "''"),
        ({"texts": ["fine text", "   "]}, "texts[1]"),
        ({"labels": ["sports", "sports"]}, "'sports'"),
        ({"labels": ["sports", 3]}, "3"),
        ({"labels": ["sports", ""]}, "labels[1]"),
        ({"labels": "sports"}, "str"),
        ({"texts": ["ok", 5]}, "5"),
        ({"texts": 5}, "int"),
        ({"threshold": 1.5}, "1.5"),
        ({"threshold": -0.1}, "-0.1"),
        ({"threshold": float("nan")}, "nan"),
        ({"threshold": {"nope": 0.2}}, "'nope'"),
        ({"threshold": {"sports": 2}}, "2"),
        ({"top_k": 0}, "0"),
        ({"top_k": -2}, "-2"),
        ({"batch_size": 0}, "0"),
        ({"multi_label": "yes"}, "'yes'"),
        ({"texts": ["a b", "c d"], "prompt": ["only one"]}, "1"),
        ({"texts": ["a b", "c d"], "labels": [["x"], ["y"], ["z"]]}, "3"),
        ({"texts": ["a b", "c d"], "labels": [["x"], ["y", "y"]]}, "'y'"),
        ({"examples": [{"text": "no labels"}]}, "labels"),
        ({"examples": [{"labels": ["sports"]}]}, "text"),
        ({"examples": [{"text": "x", "labels": "sports"}]}, "'sports'"),
        ({"examples": "an example"}, "examples"),
        ({"examples": [["nested"]]}, "examples"),
        ({"label_descriptions": {"sports": ""}}, "'sports'"),
    ],
)
def test_bad_inputs_raise_invalid_input(uni: ZeroShotClassifier, kwargs: dict[str, Any], named: str) -> None:
    call = {"texts": TEXT, "labels": ["sports", "science"], **kwargs}
    texts, labels = call.pop("texts"), call.pop("labels")
    with pytest.raises(InvalidInputError) as error:
        uni.classify(texts, labels, **call)
    assert named in str(error.value)


def test_empty_batch_gives_empty_results(any_arch: ZeroShotClassifier) -> None:
    assert any_arch.scores([], list(LABELS)) == []
    assert any_arch.classify([], list(LABELS)) == []


def test_the_callers_objects_are_not_modified(uni: ZeroShotClassifier) -> None:
    labels = ["sports", "science"]
    nested = {"science": ["space"], "sports": {"team": ["football"]}}
    examples = [{"text": "the player scored", "labels": ["sports"]}]
    before = copy.deepcopy((labels, nested, examples))
    uni.classify(TEXT, labels, examples=examples)
    uni.scores(TEXT, nested)
    assert (labels, nested, examples) == before


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [({"dtype": "float8"}, "'float8'"), ({"dtype": 3}, "3"), ({"device": "tpu:9"}, "'tpu:9'")],
)
def test_unknown_dtype_or_device(saved_uni: Path, uni: ZeroShotClassifier, kwargs, named: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        ZeroShotClassifier.from_pretrained(saved_uni, **kwargs)
    assert named in str(error.value)
    with pytest.raises(InvalidInputError) as error:
        copy.deepcopy(uni).to(**kwargs)
    assert named in str(error.value)


def test_chunking_options_are_validated() -> None:
    for kwargs in ({"max_length": 8}, {"label_chunk_size": 0}, {"window_overlap": -1}, {"window_aggregation": "sum"}):
        with pytest.raises(InvalidInputError):
            ChunkingOptions(**kwargs)


# --- rerank ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("architecture", ARCHS)
def test_rerank(make, architecture: str) -> None:
    classifier = make(architecture)
    query = "sports"
    passages = list(TEXTS)
    ranked = classifier.rerank(query, passages)
    assert all(isinstance(r, RankedPassage) for r in ranked)
    assert sorted(r.index for r in ranked) == list(range(len(passages)))
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    for item in ranked:
        assert item.text == passages[item.index]
        assert item.score == pytest.approx(classifier.scores(passages[item.index], [query])[query], abs=1e-5)
    assert classifier.rerank(query, passages, top_k=2) == ranked[:2]
    assert classifier.rerank(query, []) == []


def test_rerank_bad_inputs(uni: ZeroShotClassifier) -> None:
    with pytest.raises(InvalidInputError, match="passages"):
        uni.rerank("sports", "one passage, not a list")
    with pytest.raises(InvalidInputError, match="query"):
        uni.rerank("  ", list(TEXTS))
    with pytest.raises(InvalidInputError, match="passages\\[1\\]"):
        uni.rerank("sports", ["fine", ""])
    with pytest.raises(InvalidInputError, match="top_k"):
        uni.rerank("sports", list(TEXTS), top_k=0)


# --- checkpoints -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("architecture", ARCHS)
def test_save_and_load_round_trip(make, architecture: str, tmp_path: Path) -> None:
    classifier = make(architecture)
    path = classifier.save_pretrained(tmp_path / "checkpoint")
    assert (path / "config.json").is_file()
    assert (path / "model.safetensors").is_file()
    assert not any(p.suffix in (".bin", ".pt", ".pkl") for p in path.rglob("*"))
    assert (path / "label_tokenizer").is_dir() == (architecture != "uni-encoder")
    loaded = ZeroShotClassifier.from_pretrained(path)
    assert loaded.model.config.to_dict() == classifier.model.config.to_dict()
    labels = list(LABELS)
    for before, after in zip(classifier.scores(list(TEXTS), labels), loaded.scores(list(TEXTS), labels), strict=True):
        np.testing.assert_allclose(values(after), values(before), atol=1e-6)


def test_load_from_another_working_directory(make, tmp_path: Path, monkeypatch) -> None:
    """A saved bi-encoder is self-contained: its label tokenizer is found relative to the checkpoint."""
    classifier = make("bi-encoder")
    path = classifier.save_pretrained(tmp_path / "checkpoint")
    moved = tmp_path / "elsewhere" / "moved"
    shutil.move(str(path), str(moved))
    monkeypatch.chdir(tmp_path)
    loaded = ZeroShotClassifier.from_pretrained(moved)
    assert values(loaded.scores(TEXT, list(LABELS))) == pytest.approx(
        values(classifier.scores(TEXT, list(LABELS))), abs=1e-6
    )


class _Bomb:
    """Unpickling this creates a file: proof that pickle was (or was not) executed."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _write_pickle_weights(directory: Path, proof: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pytorch_model.bin").write_bytes(pickle.dumps({"model.logit_scale": _Bomb(proof)}))


def test_pickle_weights_next_to_a_config_are_refused(saved_uni: Path, tmp_path: Path) -> None:
    directory = tmp_path / "pickled"
    shutil.copytree(saved_uni, directory)
    (directory / "model.safetensors").unlink()
    proof = tmp_path / "unpickled"
    _write_pickle_weights(directory, proof)
    with pytest.raises(UnsafeCheckpointError, match=r"pytorch_model\.bin"):
        ZeroShotClassifier.from_pretrained(directory)
    with pytest.raises(UnsafeCheckpointError):
        gliclass_rag.GLiClassModel.from_pretrained(directory)
    assert not proof.exists(), "the pickle was executed"


def test_a_directory_with_only_pickle_weights_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "only-pickle"
    proof = tmp_path / "unpickled"
    _write_pickle_weights(directory, proof)
    with pytest.raises(UnsafeCheckpointError, match=r"pytorch_model\.bin"):
        ZeroShotClassifier.from_pretrained(directory)
    assert not proof.exists(), "the pickle was executed"


@pytest.mark.parametrize(
    "name",
    ["/no/such/directory/anywhere", "./relative/missing", "someone-unknown/no-such-gliclass-model", "a/b/c", "x"],
)
def test_missing_checkpoints_raise_checkpoint_error(name: str) -> None:
    with pytest.raises(CheckpointError) as error:
        ZeroShotClassifier.from_pretrained(name)
    assert name.strip("./") in str(error.value)


def test_a_file_is_not_a_checkpoint(saved_uni: Path) -> None:
    with pytest.raises(CheckpointError, match="file"):
        ZeroShotClassifier.from_pretrained(saved_uni / "config.json")


def test_unknown_architecture_in_a_checkpoint(saved_uni: Path, tmp_path: Path) -> None:
    directory = tmp_path / "odd"
    shutil.copytree(saved_uni, directory)
    config = json.loads((directory / "config.json").read_text())
    config["architecture_type"] = "encoder-decoder"
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError) as error:
        ZeroShotClassifier.from_pretrained(directory)
    assert "'encoder-decoder'" in str(error.value)
    assert "uni-encoder" in str(error.value)


def test_missing_weights_are_named(saved_uni: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    directory = tmp_path / "partial"
    shutil.copytree(saved_uni, directory)
    weights = load_file(str(directory / "model.safetensors"))
    del weights["model.text_projector.linear_1.weight"]
    save_file(weights, str(directory / "model.safetensors"))
    with pytest.raises(CheckpointError, match=r"model\.text_projector\.linear_1\.weight"):
        ZeroShotClassifier.from_pretrained(directory)


# --- calibration -----------------------------------------------------------------------------------------------------
def test_calibration_in_the_pipeline(uni: ZeroShotClassifier, tmp_path: Path) -> None:
    labels = list(LABELS)
    raw = uni.engine.logits(build_requests(list(TEXTS), labels), chunking=uni.chunking, batch_size=8)
    calibration = Calibration(temperature=2.5, bias=0.7, label_bias={"sports": -1.5, "travel": 0.4})
    classifier = copy.deepcopy(uni).with_calibration(calibration)
    assert classifier.calibration == calibration
    offsets = np.array([calibration.label_bias.get(label, 0.0) for label in labels])
    results = classifier.scores(list(TEXTS), labels)
    for row, result in zip(raw, results, strict=True):
        expected = 1.0 / (1.0 + np.exp(-(row / 2.5 + 0.7 + offsets)))
        np.testing.assert_allclose(values(result), expected, atol=1e-6)
    assert np.abs(values(results[0]) - values(uni.scores(TEXTS[0], labels))).max() > 1e-2
    single = classifier.scores(TEXTS[0], labels, multi_label=False)
    z = raw[0] / 2.5 + 0.7 + offsets
    np.testing.assert_allclose(values(single), np.exp(z - z.max()) / np.exp(z - z.max()).sum(), atol=1e-6)
    # saved with the model and applied again after loading
    loaded = ZeroShotClassifier.from_pretrained(classifier.save_pretrained(tmp_path / "calibrated"))
    assert loaded.calibration == calibration
    for before, after in zip(results, loaded.scores(list(TEXTS), labels), strict=True):
        np.testing.assert_allclose(values(after), values(before), atol=1e-6)
    # the shared classifier was not changed
    assert uni.calibration.is_identity


def test_calibration_is_validated() -> None:
    for kwargs in ({"temperature": 0.0}, {"temperature": float("inf")}, {"bias": float("nan")}):
        with pytest.raises(InvalidInputError):
            Calibration(**kwargs)
    with pytest.raises(InvalidInputError):
        Calibration(label_bias={"sports": float("nan")})
