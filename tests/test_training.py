"""Training: data validation and augmentation, losses, arguments, the Trainer, LoRA, starting from a backbone."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tiny import LABELS, build_classifier, save_tiny_bert

from gliclass_rag import GLiClassModel, InvalidInputError, ZeroShotClassifier
from gliclass_rag.calibration import Calibration
from gliclass_rag.inputs import Example
from gliclass_rag.training import (
    Augmentation,
    DataError,
    Trainer,
    TrainingArguments,
    TrainingExample,
    augment,
    load_examples,
    parse_example,
)
from gliclass_rag.training.losses import focal_loss, label_contrastive_loss, listwise_loss

TOPICS = {
    "sports": ["the team won the match", "the player scored two goals", "the game ended late at night"],
    "science": ["scientists found a new planet", "the star is near the sun", "a study of the moon and earth"],
    "business": ["the company reported profits", "stocks fell sharply today", "the bank raised the price"],
    "travel": ["we took the boat to the island", "a trip to the city by car", "the plane will fly north"],
}
TOY_LABELS = list(TOPICS)
TOY_ROWS = [{"text": t, "all_labels": TOY_LABELS, "true_labels": [topic]} for topic, ts in TOPICS.items() for t in ts]
ROW = {"text": "the team won", "all_labels": ["sports", "science", "travel"], "true_labels": ["sports"]}


@pytest.fixture(scope="module")
def base() -> ZeroShotClassifier:
    """A tiny uni-encoder; tests deep-copy it before changing anything."""
    return build_classifier("uni-encoder")


def fresh(classifier: ZeroShotClassifier) -> ZeroShotClassifier:
    return copy.deepcopy(classifier)


def values(scores: dict[str, float]) -> np.ndarray:
    return np.array(list(scores.values()))


def probe(classifier: ZeroShotClassifier) -> np.ndarray:
    texts = [row["text"] for row in TOY_ROWS[::2]]
    return np.array([values(row) for row in classifier.scores(texts, list(LABELS))])


# --- data --------------------------------------------------------------------------------------------------------
def test_parse_example_targets() -> None:
    example = parse_example(ROW)
    assert example.all_labels == ("sports", "science", "travel")
    assert example.targets == (1.0, 0.0, 0.0)
    confident = parse_example({**ROW, "true_labels": {"science": 0.7, "travel": 0.2}})
    assert confident.targets == (0.0, 0.7, 0.2)
    assert confident.true_labels == ("science",)
    full = parse_example(
        {
            **ROW,
            "prompt": "topic:",
            "examples": [{"text": "a game", "labels": ["sports"]}, {"text": "x", "true_labels": []}],
        }
    )
    assert full.prompt == "topic:"
    assert full.examples == (Example("a game", ("sports",)), Example("x", ()))


@pytest.mark.parametrize(
    ("change", "field", "named"),
    [
        ({"text": None}, "text", "non-empty"),
        ({"text": "   "}, "text", "non-empty"),
        ({"all_labels": []}, "all_labels", "non-empty"),
        ({"all_labels": "sports"}, "all_labels", "list"),
        ({"all_labels": ["sports", "sports"]}, "all_labels", "duplicate"),
        ({"all_labels": ["sports", 3]}, "all_labels", "string"),
        ({"true_labels": ["golf"]}, "true_labels", "golf"),
        ({"true_labels": {"golf": 1.0}}, "true_labels", "golf"),
        ({"true_labels": {"sports": 1.5}}, "true_labels", "sports"),
        ({"true_labels": {"sports": True}}, "true_labels", "sports"),
        ({"true_labels": {"sports": "high"}}, "true_labels", "sports"),
        ({"true_labels": "sports"}, "true_labels", "list"),
        ({"prompt": 3}, "prompt", "string"),
        ({"examples": ["not a dict"]}, "examples[0]", "text"),
        ({"examples": [{"text": "x", "labels": "sports"}]}, "examples[0].labels", "list"),
        ({"examples": [{"text": "x", "labels": 5}]}, "examples[0].labels", "list"),
        ({"examples": [{"text": "x", "labels": None}]}, "examples[0].labels", "list"),
    ],
)
def test_parse_example_errors_name_row_field_and_problem(change: dict[str, Any], field: str, named: str) -> None:
    row = {**ROW, **change}
    before = copy.deepcopy(row)
    with pytest.raises(DataError) as error:
        parse_example(row, "train.json[7]")
    message = str(error.value)
    assert "train.json[7]" in message
    assert repr(field) in message
    assert named in message
    assert isinstance(error.value, InvalidInputError)
    assert row == before


def test_a_row_must_be_an_object() -> None:
    with pytest.raises(DataError, match="row 2"):
        parse_example(["text", "labels"], "row 2")


def test_load_json_list(tmp_path: Path) -> None:
    path = tmp_path / "train.json"
    path.write_text(json.dumps(TOY_ROWS))
    examples = list(load_examples(path))
    assert [e.text for e in examples] == [row["text"] for row in TOY_ROWS]
    assert list(load_examples(str(path))) == examples
    path.write_text(json.dumps([ROW, {**ROW, "true_labels": ["golf"]}]))
    with pytest.raises(DataError, match=r"train\.json\[1\].*golf"):
        list(load_examples(path))
    path.write_text('{"text": "not a list"}')
    with pytest.raises(DataError, match="list"):
        list(load_examples(path))
    path.write_text("[{not json")
    with pytest.raises(DataError, match="JSON"):
        list(load_examples(path))


def test_load_jsonl_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(ROW) + "\n\n" + json.dumps({**ROW, "text": "second"}) + "\n{broken\n")
    stream = load_examples(path)
    assert next(stream).text == "the team won"  # read before the broken line is reached
    assert next(stream).text == "second"
    with pytest.raises(DataError, match=r"train\.jsonl:4"):
        next(stream)


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such"):
        list(load_examples(tmp_path / "missing.jsonl"))


def test_load_rows_from_an_iterable() -> None:
    assert [e.text for e in load_examples(iter([ROW, ROW]))] == ["the team won"] * 2
    with pytest.raises(DataError, match="row 1"):
        list(load_examples([ROW, {"text": "x"}]))


EXAMPLE = TrainingExample(
    "the team won the match",
    ("sports", "science", "business", "travel", "health", "crime"),
    (1.0, 0.0, 0.3, 0.0, 1.0, 0.0),
    (Example("a game", ("sports",)),),
    "topic:",
)


@pytest.mark.parametrize("seed", range(5))
def test_augment_keeps_targets_aligned_and_does_not_modify_its_input(seed: int) -> None:
    before = copy.deepcopy(EXAMPLE)
    spec = Augmentation(shuffle_labels=True, negatives=2, label_pool=("music", "food", "sports", "river"))
    out = augment(EXAMPLE, spec, random.Random(seed))
    assert before == EXAMPLE
    truth = dict(zip(EXAMPLE.all_labels, EXAMPLE.targets, strict=True))
    pairs = dict(zip(out.all_labels, out.targets, strict=True))
    assert len(pairs) == len(out.all_labels), "no duplicate labels"
    for label, target in pairs.items():
        assert target == truth.get(label, 0.0), label
    assert set(EXAMPLE.all_labels) <= set(out.all_labels)
    extra = set(out.all_labels) - set(EXAMPLE.all_labels)
    assert len(extra) <= 2
    assert extra <= {"music", "food", "river"}
    assert out.prompt == EXAMPLE.prompt
    assert out.examples == EXAMPLE.examples


def test_augment_shuffles_and_is_seeded() -> None:
    spec = Augmentation(shuffle_labels=True)
    orders = {augment(EXAMPLE, spec, random.Random(seed)).all_labels for seed in range(10)}
    assert len(orders) > 1
    assert augment(EXAMPLE, spec, random.Random(3)) == augment(EXAMPLE, spec, random.Random(3))
    assert augment(EXAMPLE, Augmentation(shuffle_labels=False), random.Random(0)) == EXAMPLE


def test_augment_max_labels_keeps_the_positives() -> None:
    out = augment(EXAMPLE, Augmentation(max_labels=3), random.Random(0))
    assert len(out.all_labels) == 3
    assert {"sports", "business", "health"} == set(out.all_labels)  # the three labels with target > 0
    pairs = dict(zip(out.all_labels, out.targets, strict=True))
    assert pairs == {"sports": 1.0, "business": 0.3, "health": 1.0}


def test_augment_descriptions_and_dropped_examples() -> None:
    spec = Augmentation(descriptions={"sports": "games"}, description_prob=1.0, drop_examples_prob=1.0)
    out = augment(EXAMPLE, spec, random.Random(0))
    assert out.text == "the team won the match sports: games"
    assert out.examples == ()


@pytest.mark.parametrize(
    "kwargs", [{"max_labels": 0}, {"negatives": -1}, {"description_prob": 1.5}, {"drop_examples_prob": -0.1}]
)
def test_augmentation_is_validated(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError, match=next(iter(kwargs))):
        Augmentation(**kwargs)


# --- losses ------------------------------------------------------------------------------------------------------
def _loss_inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(4, 5, generator=generator)
    targets = (torch.rand(4, 5, generator=generator) > 0.6).float()
    targets[0, 1] = 0.4  # a soft target
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 0, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)
    return logits, targets, mask


def test_focal_loss_without_alpha_and_gamma_is_bce_over_real_slots() -> None:
    logits, targets, mask = _loss_inputs()
    expected = F.binary_cross_entropy_with_logits(logits[mask], targets[mask])
    torch.testing.assert_close(focal_loss(logits, targets, mask, alpha=-1, gamma=0), expected)
    garbage = logits.masked_fill(~mask, 1e4)
    torch.testing.assert_close(focal_loss(garbage, targets, mask, alpha=-1, gamma=0), expected)


def test_focal_loss_formula() -> None:
    logits, targets, mask = _loss_inputs(1)
    p = torch.sigmoid(logits)
    p_t = p * targets + (1 - p) * (1 - targets)
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    weighted = 0.25 * targets + 0.75 * (1 - targets)
    expected = (bce * (1 - p_t) ** 2 * weighted)[mask].mean()
    torch.testing.assert_close(focal_loss(logits, targets, mask, alpha=0.25, gamma=2.0), expected)


def test_listwise_loss() -> None:
    logits = torch.tensor([[0.0, float(np.log(3.0)), 7.0], [1.0, 2.0, 3.0]])
    targets = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])  # row 2 has no positive: skipped
    mask = torch.tensor([[True, True, False], [True, True, True]])  # the 7.0 is padding
    torch.testing.assert_close(listwise_loss(logits, targets, mask), torch.tensor(-np.log(0.75), dtype=torch.float32))
    none = listwise_loss(logits, torch.zeros_like(targets), mask)
    assert none.item() == 0.0


def test_contrastive_loss() -> None:
    orthogonal = torch.eye(4).unsqueeze(0).repeat(2, 1, 1)  # (B=2, C=4, D=4)
    identical = torch.ones(2, 4, 4)
    mask = torch.tensor([[True, True, True, False], [True, True, False, False]])
    low, high = label_contrastive_loss(orthogonal, mask), label_contrastive_loss(identical, mask)
    assert low.shape == ()
    assert high.shape == ()
    assert low < high
    # cross-entropy over the real labels only: identical vectors give log(number of real labels) per slot
    torch.testing.assert_close(high, torch.tensor((3 * np.log(3) + 2 * np.log(2)) / 5, dtype=torch.float32))
    garbage = orthogonal.clone()
    garbage[0, 3] = orthogonal[0, 0] * 5  # a padded slot that copies a real label's direction
    torch.testing.assert_close(label_contrastive_loss(garbage, mask), low)


# --- arguments ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"gradient_accumulation_steps": 0}, "gradient_accumulation_steps"),
        ({"max_steps": 0}, "max_steps"),
        ({"epochs": 0}, "epochs"),
        ({"encoder_lr": -1e-5}, "encoder_lr"),
        ({"head_lr": -1.0}, "head_lr"),
        ({"warmup_ratio": 1.0}, "warmup_ratio"),
        ({"scheduler": "step"}, "scheduler"),
        ({"mixed_precision": "fp8"}, "mixed_precision"),
        ({"eval_every": 0}, "eval_every"),
        ({"listwise_coef": -1.0}, "listwise_coef"),
        ({"contrastive_coef": -0.5}, "contrastive_coef"),
        ({"max_length": 8}, "max_length"),
    ],
)
def test_training_arguments_are_validated(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidInputError, match=named):
        TrainingArguments(**kwargs)


# --- trainer -----------------------------------------------------------------------------------------------------
def _args(**changes: Any) -> TrainingArguments:
    settings: dict[str, Any] = {
        "max_steps": 30,
        "batch_size": 6,
        "head_lr": 3e-3,
        "encoder_lr": 1e-3,
        "warmup_ratio": 0.0,
        "scheduler": "constant",
        "show_progress": False,
        "augmentation": Augmentation(shuffle_labels=False),
        "max_length": 64,
    }
    return TrainingArguments(**(settings | changes))


def test_training_lowers_the_loss(base: ZeroShotClassifier) -> None:
    classifier = fresh(base)
    trainer = Trainer(classifier, _args(), TOY_ROWS, TOY_ROWS)
    before = trainer.evaluate()
    result = trainer.train()
    after = trainer.evaluate()
    assert result.steps == 30
    assert len(result.history) == 30
    assert after.loss < 0.5 * before.loss, (before, after)
    losses = [record["loss"] for record in result.history]
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert not classifier.model.training
    # the classifier itself was trained and is usable
    assert not np.allclose(probe(classifier), probe(base), atol=1e-3)


def test_evaluate_returns_macro_f1(base: ZeroShotClassifier) -> None:
    """Macro-F1 over label names at threshold 0.5, recomputed here from the classifier's own scores."""
    classifier = fresh(base)
    result = Trainer(classifier, _args(), TOY_ROWS, TOY_ROWS).evaluate()
    tallies: dict[str, list[int]] = {label: [0, 0, 0] for label in TOY_LABELS}
    correct = 0
    for row in TOY_ROWS:
        scores = classifier.scores(row["text"], row["all_labels"])
        for label, score in scores.items():
            predicted, true = score >= 0.5, label in row["true_labels"]
            tallies[label][0] += predicted and true
            tallies[label][1] += predicted and not true
            tallies[label][2] += true and not predicted
        correct += max(scores, key=scores.get) == row["true_labels"][0]
    f1s = [2 * tp / (2 * tp + fp + fn) for tp, fp, fn in tallies.values() if tp + fn]
    assert 0.0 < result.macro_f1 < 1.0, "the check needs a non-trivial value"
    assert result.macro_f1 == pytest.approx(np.mean(f1s))
    assert result.accuracy == pytest.approx(correct / len(TOY_ROWS))
    assert result.rows == len(TOY_ROWS)


def test_a_nan_step_raises(base: ZeroShotClassifier, monkeypatch: pytest.MonkeyPatch) -> None:
    classifier = fresh(base)
    network = classifier.model.model
    original = network.scorer.forward

    def nan_scores(*args: Any, **kwargs: Any) -> torch.Tensor:
        return original(*args, **kwargs) * float("nan")

    monkeypatch.setattr(network.scorer, "forward", nan_scores)
    trainer = Trainer(classifier, _args(max_steps=3), TOY_ROWS)
    with pytest.raises(FloatingPointError, match="step 0"):
        trainer.train()


def test_an_error_in_a_step_propagates(base: ZeroShotClassifier, monkeypatch: pytest.MonkeyPatch) -> None:
    classifier = fresh(base)

    def broken(*args: Any, **kwargs: Any) -> torch.Tensor:
        raise RuntimeError("boom in the scorer")

    monkeypatch.setattr(classifier.model.model.scorer, "forward", broken)
    with pytest.raises(RuntimeError, match="boom in the scorer"):
        Trainer(classifier, _args(max_steps=2), TOY_ROWS).train()


def test_freeze_encoder_trains_only_the_heads(base: ZeroShotClassifier) -> None:
    classifier = fresh(base)
    before = {k: v.clone() for k, v in classifier.model.state_dict().items()}
    Trainer(classifier, _args(max_steps=3, freeze_encoder=True), TOY_ROWS).train()
    after = classifier.model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed, "the heads must have trained"
    assert not any(k.startswith("model.encoder_model.") for k in changed)


def test_training_saves_best_and_final_checkpoints(base: ZeroShotClassifier, tmp_path: Path) -> None:
    classifier = fresh(base)
    args = _args(max_steps=12, eval_every=4, output_dir=tmp_path / "run", save_best=False)
    result = Trainer(classifier, args, TOY_ROWS, TOY_ROWS, learn_logit_bias=True).train()
    assert result.best_step in (4, 8, 12)
    assert [r["step"] for r in result.history if "eval_macro_f1" in r] == [4.0, 8.0, 12.0]
    assert result.logit_bias != 0.0
    loaded = ZeroShotClassifier.from_pretrained(tmp_path / "run" / "final")
    assert loaded.calibration.bias == pytest.approx(result.logit_bias)
    assert classifier.calibration.bias == pytest.approx(result.logit_bias)  # the in-memory classifier has it too
    uncalibrated = probe(classifier.with_calibration(Calibration()))
    z = np.log(uncalibrated / (1 - uncalibrated)) + result.logit_bias
    np.testing.assert_allclose(probe(loaded), 1 / (1 + np.exp(-z)), atol=1e-5)


def test_the_trained_classifier_scores_like_its_saved_checkpoint(base: ZeroShotClassifier, tmp_path: Path) -> None:
    classifier = fresh(base)
    args = _args(max_steps=5, head_lr=0.01, output_dir=tmp_path)
    Trainer(classifier, args, TOY_ROWS, learn_logit_bias=True).train()
    loaded = ZeroShotClassifier.from_pretrained(tmp_path / "final")
    np.testing.assert_allclose(probe(loaded), probe(classifier), atol=1e-6)


def test_training_a_bi_encoder(tmp_path: Path) -> None:
    classifier = build_classifier("bi-encoder")
    trainer = Trainer(classifier, _args(max_steps=15), TOY_ROWS, TOY_ROWS)
    before = trainer.evaluate().loss
    trainer.train()
    assert trainer.evaluate().loss < before
    # label embeddings cached before training were dropped: scores match a fresh load
    path = classifier.save_pretrained(tmp_path / "bi")
    np.testing.assert_allclose(probe(ZeroShotClassifier.from_pretrained(path)), probe(classifier), atol=1e-6)


def test_empty_training_data_raises(base: ZeroShotClassifier) -> None:
    with pytest.raises((ValueError, InvalidInputError)):
        Trainer(fresh(base), _args(max_steps=1), []).train()


# --- LoRA --------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lora():
    return pytest.importorskip("gliclass_rag.training.lora", reason="needs peft (the train extra)")


def _randomize_lora(model: GLiClassModel, seed: int = 0) -> None:
    """LoRA starts as a no-op (B = 0); give its factors values so that adapters change the scores."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_" in name:
                parameter.copy_(0.05 * torch.randn(parameter.shape, generator=generator))


def _adapted(base: ZeroShotClassifier, lora) -> ZeroShotClassifier:
    pytest.importorskip("peft")
    classifier = fresh(base)
    lora.apply_lora(classifier.model, lora.LoraSettings(r=4, alpha=8.0, target_modules=("query", "value", "dense")))
    _randomize_lora(classifier.model)
    return classifier


def test_apply_lora_freezes_the_backbone(base: ZeroShotClassifier, lora) -> None:
    pytest.importorskip("peft")
    classifier = fresh(base)
    lora.apply_lora(classifier.model, lora.LoraSettings(r=4, target_modules=("query", "value")))
    np.testing.assert_allclose(probe(classifier), probe(base), atol=1e-6)  # B = 0: nothing changes yet
    trainable = {n for n, p in classifier.model.named_parameters() if p.requires_grad}
    frozen = {n for n, p in classifier.model.named_parameters() if not p.requires_grad}
    assert trainable
    assert frozen
    for name in trainable:
        assert "lora_" in name or not name.startswith("model.encoder_model."), name
    assert all(name.startswith("model.encoder_model.") and "lora_" not in name for name in frozen)
    assert any(n.startswith("model.text_projector.") for n in trainable)
    assert "model.logit_scale" in trainable
    assert sum("lora_A" in n for n in trainable) == 2 * 2  # query and value in each of the 2 layers
    assert classifier.model.config.rag["lora"]["r"] == 4


def test_apply_lora_errors(base: ZeroShotClassifier, lora) -> None:
    pytest.importorskip("peft")
    with pytest.raises(InvalidInputError, match="label_encoder"):
        lora.apply_lora(fresh(base).model, lora.LoraSettings(modules=("label_encoder",)))
    with pytest.raises(InvalidInputError):
        lora.apply_lora(fresh(base).model, lora.LoraSettings(target_modules=("no_such_layer",)))
    with pytest.raises(InvalidInputError, match="r must be"):
        lora.LoraSettings(r=0)


def test_lora_adapter_save_and_load(base: ZeroShotClassifier, lora, tmp_path: Path) -> None:
    adapted = _adapted(base, lora)
    expected = probe(adapted)
    assert np.abs(expected - probe(base)).max() > 1e-3, "the adapters must change the scores"
    path = lora.save_adapter(adapted.model, tmp_path / "adapter")
    assert {p.name for p in path.iterdir()} == {"adapter_config.json", "adapter_model.safetensors"}
    target = fresh(base)
    lora.load_adapter(target.model, path)
    np.testing.assert_allclose(probe(target), expected, atol=1e-6)
    with pytest.raises(InvalidInputError, match="no LoRA"):
        lora.save_adapter(fresh(base).model, tmp_path / "none")


def test_merge_lora(base: ZeroShotClassifier, lora) -> None:
    from peft.tuners.lora import LoraLayer

    adapted = _adapted(base, lora)
    expected = probe(adapted)
    lora.merge_lora(adapted.model)
    assert not any(isinstance(m, LoraLayer) for m in adapted.model.modules())
    assert not any("lora_" in k or "base_layer" in k for k in adapted.model.state_dict())
    assert "lora" not in adapted.model.config.rag
    np.testing.assert_allclose(probe(adapted), expected, atol=1e-5)
    assert set(adapted.model.state_dict()) == set(base.model.state_dict())


def test_save_merged_checkpoint_loads_anywhere(base: ZeroShotClassifier, lora, tmp_path: Path) -> None:
    adapted = _adapted(base, lora)
    path = lora.save_merged(adapted, tmp_path / "merged")
    np.testing.assert_allclose(probe(ZeroShotClassifier.from_pretrained(path)), probe(adapted), atol=1e-5)


@pytest.mark.parametrize(("dtype", "tolerance"), [(torch.float32, 1e-5), (torch.float16, 2e-2)])
def test_delta_checkpoint_reproduces_the_scores(
    base: ZeroShotClassifier, lora, tmp_path: Path, dtype: torch.dtype, tolerance: float
) -> None:
    from safetensors.torch import save_file

    adapted = _adapted(base, lora)
    directory = tmp_path / "delta"
    backbone = {k: v.contiguous() for k, v in base.model.model.encoder_model.state_dict().items()}
    (directory / "backbone").mkdir(parents=True)
    save_file(backbone, str(directory / "backbone" / "model.safetensors"))
    lora.export_delta_checkpoint(adapted, directory, base_weights={"model.encoder_model": "backbone"}, dtype=dtype)
    saved = (directory / "model.safetensors").stat().st_size
    assert saved < (directory / "backbone" / "model.safetensors").stat().st_size, "only the changes are stored"
    model = GLiClassModel.from_pretrained(directory)
    loaded = ZeroShotClassifier(model, adapted.tokenizer)
    np.testing.assert_allclose(probe(loaded), probe(adapted), atol=tolerance)
    np.testing.assert_allclose(probe(ZeroShotClassifier.from_pretrained(directory)), probe(loaded), atol=1e-6)


def test_delta_checkpoint_with_a_missing_base(base: ZeroShotClassifier, lora, tmp_path: Path) -> None:
    from gliclass_rag import CheckpointError

    adapted = _adapted(base, lora)
    directory = tmp_path / "delta"
    lora.export_delta_checkpoint(adapted, directory, base_weights={"model.encoder_model": "backbone"})
    with pytest.raises(CheckpointError, match="backbone"):
        GLiClassModel.from_pretrained(directory)


def test_training_with_lora(base: ZeroShotClassifier, lora) -> None:
    pytest.importorskip("peft")
    classifier = fresh(base)
    lora.apply_lora(classifier.model, lora.LoraSettings(r=4, target_modules=("query", "value")))
    frozen = {k: v.clone() for k, v in classifier.model.state_dict().items() if "base_layer" in k or "embeddings" in k}
    trainer = Trainer(classifier, _args(max_steps=10), TOY_ROWS, TOY_ROWS)
    before = trainer.evaluate().loss
    trainer.train()
    assert trainer.evaluate().loss < before
    state = classifier.model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in frozen.items()), "the base weights must stay frozen"


# --- starting from a backbone ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert") / "bert")


def _mean_pooled(model: Any, tokenizer: Any, texts: list[str]) -> torch.Tensor:
    encoded = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**encoded).last_hidden_state  # (N, L, D)
    mask = encoded["attention_mask"].unsqueeze(-1).float()
    return (hidden * mask).sum(1) / mask.sum(1)


def test_untrained_bi_encoder_from_a_backbone_is_a_cosine_classifier(bert_dir: Path) -> None:
    from transformers import AutoTokenizer, BertModel

    from gliclass_rag.inputs import Request
    from gliclass_rag.training.init import classifier_from_backbone

    classifier = classifier_from_backbone(bert_dir, architecture="bi-encoder", logit_scale=20.0)
    backbone = BertModel.from_pretrained(str(bert_dir), add_pooling_layer=False).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(bert_dir))
    texts = [row["text"] for row in TOY_ROWS[:5]]
    labels = list(LABELS)
    text_vectors = F.normalize(_mean_pooled(backbone, tokenizer, texts), dim=-1)
    label_vectors = F.normalize(_mean_pooled(backbone, tokenizer, labels), dim=-1)
    expected = 20.0 * text_vectors @ label_vectors.T  # (texts, labels)
    requests = [Request(text, tuple(labels)) for text in texts]
    got = np.stack(classifier.engine.logits(requests, chunking=classifier.chunking, batch_size=2))
    np.testing.assert_allclose(got, expected.double().numpy(), atol=1e-4)
    assert np.ptp(got) > 1.0, "cosines must differ, or the check proves little"


def test_uni_encoder_from_a_backbone_saves_and_reloads(bert_dir: Path, tmp_path: Path) -> None:
    from gliclass_rag.training.init import classifier_from_backbone

    classifier = classifier_from_backbone(bert_dir, architecture="uni-encoder")
    tokenizer = classifier.tokenizer
    ids = tokenizer.convert_tokens_to_ids(["<<LABEL>>", "<<SEP>>", "<<EXAMPLE>>"])
    config = classifier.model.config
    assert (config.class_token_index, config.text_token_index, config.example_token_index) == tuple(ids)
    assert config.vocab_size == len(tokenizer)
    embeddings = classifier.model.model.encoder_model.get_input_embeddings().weight
    assert embeddings.shape[0] == len(tokenizer)
    torch.testing.assert_close(embeddings[ids[0]], embeddings[: ids[0]].mean(dim=0))  # new rows: the mean
    scores = probe(classifier)
    assert np.isfinite(scores).all()
    loaded = ZeroShotClassifier.from_pretrained(classifier.save_pretrained(tmp_path / "uni"))
    np.testing.assert_allclose(probe(loaded), scores, atol=1e-6)


@pytest.mark.parametrize("architecture", ["uni-encoder", "bi-encoder", "bi-encoder-fused"])
def test_a_backbone_saved_without_its_pooler(tmp_path: Path, architecture: str) -> None:
    from gliclass_rag.training.init import classifier_from_backbone

    classifier = classifier_from_backbone(save_tiny_bert(tmp_path / "bert", pooler=False), architecture=architecture)
    assert np.isfinite(probe(classifier)).all()


def test_classifier_from_a_directory_without_weights(tmp_path: Path) -> None:
    from gliclass_rag import CheckpointError
    from gliclass_rag.training.init import classifier_from_backbone

    directory = save_tiny_bert(tmp_path / "bert")
    (directory / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"model\.safetensors"):
        classifier_from_backbone(directory, architecture="bi-encoder")
