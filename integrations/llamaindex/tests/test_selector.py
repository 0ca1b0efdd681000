"""GLiClassSelector on a tiny random model: single, multi, threshold, fallback, labels, async, settings."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re

import pytest
from llama_index.core.base.base_selector import BaseSelector, SelectorResult
from llama_index.core.schema import QueryBundle
from llama_index.core.tools.types import ToolMetadata
from llama_index.postprocessor.gliclass import GLiClassSelector

from gliclass_rag import ZeroShotClassifier

QUERY = "rocket launch to orbit"
CHOICES = [
    ToolMetadata(name="sports_tool", description="news about sports, the team and the match"),
    ToolMetadata(name="science_tool", description="science: planets, stars and space"),
    ToolMetadata(name="business_tool", description="business news: the market, stocks and the bank"),
    ToolMetadata(name="health_tool", description="health: the doctor, the hospital and medicine"),
]
LABELS = [choice.description for choice in CHOICES]


def scored(reason: str) -> float:
    match = re.fullmatch(r"GLiClass score (\d\.\d{3}) for '(\w+)'.*", reason)
    assert match, reason
    return float(match.group(1))


def test_is_a_selector_without_prompts() -> None:
    selector = GLiClassSelector("unused/name")
    assert isinstance(selector, BaseSelector)
    assert selector.get_prompts() == {}
    selector.update_prompts({})


def test_single_select_is_the_softmax_top_choice(classifier: ZeroShotClassifier) -> None:
    scores = classifier.scores(QUERY, LABELS, multi_label=False)
    best = max(range(len(LABELS)), key=lambda i: scores[LABELS[i]])
    result = GLiClassSelector(classifier).select(CHOICES, QUERY)
    assert isinstance(result, SelectorResult)
    assert result.ind == best
    assert result.reason == f"GLiClass score {scores[LABELS[best]]:.3f} for {CHOICES[best].name!r}"


def test_multi_select_keeps_every_choice_above_the_threshold(classifier: ZeroShotClassifier) -> None:
    scores = classifier.scores(QUERY, LABELS, multi_label=True)
    ordered = sorted(range(len(LABELS)), key=lambda i: -scores[LABELS[i]])
    threshold = (scores[LABELS[ordered[1]]] + scores[LABELS[ordered[2]]]) / 2  # two choices pass
    result = GLiClassSelector(classifier, multi_select=True, threshold=threshold).select(CHOICES, QUERY)
    assert result.inds == ordered[:2]
    assert [scored(reason) for reason in result.reasons] == pytest.approx(
        [scores[LABELS[i]] for i in ordered[:2]], abs=5e-4
    )
    capped = GLiClassSelector(classifier, multi_select=True, threshold=0.0, max_outputs=3).select(CHOICES, QUERY)
    assert capped.inds == ordered[:3]
    everything = GLiClassSelector(classifier, multi_select=True, threshold=0.0).select(CHOICES, QUERY)
    assert everything.inds == ordered


def test_multi_select_falls_back_to_the_best_choice(classifier: ZeroShotClassifier) -> None:
    scores = classifier.scores(QUERY, LABELS, multi_label=True)
    best = max(range(len(LABELS)), key=lambda i: scores[LABELS[i]])
    assert scores[LABELS[best]] < 1.0
    result = GLiClassSelector(classifier, multi_select=True, threshold=1.0).select(CHOICES, QUERY)
    assert result.inds == [best]
    assert result.reason.endswith("(the best choice; none reached the threshold 1)")
    assert scored(result.reason) == pytest.approx(scores[LABELS[best]], abs=5e-4)


def test_labels_from_descriptions_and_names(classifier: ZeroShotClassifier) -> None:
    choices = [ToolMetadata(name="a_tool", description="  science and space "), ToolMetadata(name="b", description="")]
    assert GLiClassSelector(classifier).labels(choices) == ["science and space", "b"]
    assert GLiClassSelector(classifier, include_names=True).labels(choices) == ["a_tool: science and space", "b"]
    named = GLiClassSelector(classifier, include_names=True)
    scores = classifier.scores(QUERY, named.labels(CHOICES), multi_label=False)
    labels = named.labels(CHOICES)
    assert named.select(CHOICES, QUERY).ind == max(range(len(labels)), key=lambda i: scores[labels[i]])


def test_string_choices_and_reasons_without_names(classifier: ZeroShotClassifier) -> None:
    result = GLiClassSelector(classifier).select(LABELS, QueryBundle(QUERY))  # BaseSelector wraps str choices
    assert result.reason.endswith(f"for {LABELS[result.ind]!r}")


def test_bad_choices_are_named(classifier: ZeroShotClassifier) -> None:
    selector = GLiClassSelector(classifier)
    with pytest.raises(ValueError, match=r"choices\[0\] and choices\[2\] have the same label 'science'"):
        selector.select(["science", "sports", "science"], QUERY)
    with pytest.raises(ValueError, match=r"choices\[1\] has neither a description nor a name"):
        selector.select([ToolMetadata(description="science"), ToolMetadata(description=" ")], QUERY)


def test_empty_choices_select_nothing_and_queries_are_checked(classifier: ZeroShotClassifier) -> None:
    selector = GLiClassSelector(classifier)
    assert selector.select([], QUERY).selections == []
    assert asyncio.run(selector.aselect([], QUERY)).selections == []
    with pytest.raises(ValueError, match="the query must be a non-empty str, but got ''"):
        selector.select(CHOICES, "")


def test_aselect_equals_select(classifier: ZeroShotClassifier) -> None:
    for selector in (GLiClassSelector(classifier), GLiClassSelector(classifier, multi_select=True, threshold=0.3)):
        assert asyncio.run(selector.aselect(CHOICES, QUERY)) == selector.select(CHOICES, QUERY)


def test_choices_are_not_mutated(classifier: ZeroShotClassifier) -> None:
    choices = [dataclasses.replace(choice) for choice in CHOICES]  # ToolMetadata is a dataclass
    before = [dataclasses.asdict(choice) for choice in choices]
    listed = list(choices)
    GLiClassSelector(classifier, include_names=True, multi_select=True).select(choices, QUERY)
    assert [dataclasses.asdict(choice) for choice in choices] == before
    assert choices == listed


# --- settings ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"threshold": -0.1}, r"threshold must be a number in \[0, 1\], but got -0.1"),
        ({"threshold": None}, r"threshold must be a number in \[0, 1\], but got None"),
        ({"max_outputs": 0}, "max_outputs must be a positive int or None, but got 0"),
        ({"multi_select": 1}, "multi_select must be True or False, but got 1"),
        ({"include_names": None}, "include_names must be True or False, but got None"),
        ({"batch_size": 2.0}, "batch_size must be a positive int, but got 2.0"),
        ({"model": ["a"]}, "model must be a name, a path, a ZeroShotClassifier or None, but got list"),
        ({"device": "tpu9"}, "device must be .* but got 'tpu9'"),
    ],
)
def test_bad_settings_name_the_value(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GLiClassSelector(**settings)


def test_settings_serialise_and_round_trip(classifier: ZeroShotClassifier) -> None:
    selector = GLiClassSelector("some/name", multi_select=True, threshold=0.4, max_outputs=2, dtype="bfloat16")
    data = json.loads(json.dumps(selector.to_dict()))
    assert data == {
        "class_name": "GLiClassSelector",
        "model": "some/name",
        "multi_select": True,
        "threshold": 0.4,
        "max_outputs": 2,
        "include_names": False,
        "batch_size": 8,
        "device": None,
        "dtype": "bfloat16",
    }
    assert GLiClassSelector.from_dict(data).to_dict() == data
    with pytest.raises(ValueError, match=r"unknown GLiClassSelector settings \['top_n'\]"):
        GLiClassSelector.from_dict({**data, "top_n": 3})
    with pytest.raises(ValueError, match="cannot be written as a setting"):
        GLiClassSelector(classifier).to_dict()
    assert "in memory" in repr(GLiClassSelector(classifier))
