"""PPO trainer: arguments, rewards, the Bernoulli policy's terms, learning a toy task, KL, value head, failures."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
import torch
from tiny import build_classifier

from gliclass_rag import InvalidInputError, ZeroShotClassifier
from gliclass_rag.calibration import Calibration
from gliclass_rag.training import (
    PPOArguments,
    PPOResult,
    PPOTrainer,
    TrainingExample,
    accuracy_reward,
    f1_reward,
    precision_reward,
    recall_reward,
)
from gliclass_rag.training.losses import bernoulli_entropy, bernoulli_kl, bernoulli_log_prob, clipped_surrogate_loss

# A toy task: a label applies when one of its keywords is in the text (some texts have several).
LABELS = ("sports", "science", "business", "travel")
KEYWORDS = {
    "sports": {"team", "match", "player", "game"},
    "science": {"planet", "scientists", "moon", "study"},
    "business": {"bank", "stocks", "company", "price"},
    "travel": {"trip", "plane", "boat", "island"},
}
TEXTS = (
    "the team won the match",
    "scientists found a new planet",
    "stocks fell sharply today at the bank",
    "we took the boat to the island",
    "the player paid a high price for the trip",
    "a study of the moon by the company",
    "the game ended late at night",
    "the plane will fly north on a trip",
)


def _example(text: str) -> TrainingExample:
    words = set(text.split())
    return TrainingExample(text, LABELS, tuple(float(bool(words & KEYWORDS[label])) for label in LABELS))


DATA = [_example(text) for text in TEXTS]


def _args(**changes: Any) -> PPOArguments:
    settings: dict[str, Any] = {"max_steps": 4, "batch_size": 8, "lr": 3e-4, "show_progress": False, "max_length": 64}
    return PPOArguments(**(settings | changes))


@pytest.fixture(scope="module")
def base() -> ZeroShotClassifier:
    """A tiny uni-encoder; tests deep-copy it before changing anything."""
    return build_classifier("uni-encoder")


def fresh(classifier: ZeroShotClassifier) -> ZeroShotClassifier:
    return copy.deepcopy(classifier)


# --- arguments ---------------------------------------------------------------------------------------------------
def test_defaults_follow_the_paper() -> None:
    args = PPOArguments()
    assert args.clip_epsilon == 0.2
    assert args.ppo_epochs == 3
    assert args.reward_weights == {"f1": 1.0}
    assert args.use_value_head is False


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"ppo_epochs": 0}, "ppo_epochs"),
        ({"eval_batch_size": True}, "eval_batch_size"),
        ({"max_steps": 0}, "max_steps"),
        ({"epochs": 0}, "epochs"),
        ({"clip_epsilon": 0.0}, "clip_epsilon"),
        ({"clip_epsilon": 1.5}, "clip_epsilon"),
        ({"lr": -1.0}, "lr"),
        ({"value_lr": float("nan")}, "value_lr"),
        ({"kl_coef": -0.1}, "kl_coef"),
        ({"entropy_coef": -0.1}, "entropy_coef"),
        ({"value_coef": float("inf")}, "value_coef"),
        ({"max_grad_norm": 0.0}, "max_grad_norm"),
        ({"max_length": 8}, "max_length"),
        ({"reward_weights": {}}, "reward_weights"),
        ({"reward_weights": {"f1": float("nan")}}, "reward_weights"),
        ({"reward_weights": {"f1": 0.0}}, "reward_weights"),
    ],
)
def test_arguments_are_validated(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidInputError, match=named):
        PPOArguments(**kwargs)


def test_reward_weights_are_copied() -> None:
    weights = {"f1": 1.0}
    args = PPOArguments(reward_weights=weights)
    weights["recall"] = 1.0
    assert args.reward_weights == {"f1": 1.0}


# --- rewards -----------------------------------------------------------------------------------------------------
def test_reward_functions_on_hand_cases() -> None:
    assert f1_reward(["a", "b"], ["a", "b"]) == 1.0
    assert f1_reward(["a"], ["a", "b"]) == pytest.approx(2 / 3)
    assert f1_reward(["a", "c"], ["a", "b"]) == pytest.approx(0.5)
    assert f1_reward(["c"], ["a"]) == 0.0
    assert f1_reward([], ["a"]) == 0.0
    assert f1_reward(["a"], []) == 0.0
    assert f1_reward([], []) == 1.0  # nothing to find and nothing claimed
    assert precision_reward(["a", "c"], ["a", "b"]) == 0.5
    assert precision_reward([], ["a"]) == 0.0
    assert precision_reward([], []) == 1.0
    assert recall_reward(["a"], ["a", "b", "c"]) == pytest.approx(1 / 3)
    assert recall_reward(["a"], []) == 0.0
    example = TrainingExample("t", ("a", "b", "c", "d"), (1.0, 1.0, 0.0, 0.0))
    assert accuracy_reward(["a", "c"], example.true_labels, example) == 0.5  # a right, b missed, c wrong, d right
    with pytest.raises(InvalidInputError, match="example"):
        accuracy_reward(["a"], ["a"])


def test_reward_names_are_resolved(base: ZeroShotClassifier) -> None:
    with pytest.raises(InvalidInputError, match="unknown reward 'mine'"):
        PPOTrainer(fresh(base), _args(reward_weights={"mine": 1.0}), DATA)
    with pytest.raises(InvalidInputError, match="'mine' has no weight"):
        PPOTrainer(fresh(base), _args(), DATA, rewards={"mine": lambda p, t, e: 1.0})
    with pytest.raises(InvalidInputError, match="callable"):
        PPOTrainer(fresh(base), _args(reward_weights={"mine": 1.0}), DATA, rewards={"mine": 1.0})  # type: ignore[dict-item]


def test_a_custom_reward_is_used_and_weighted(base: ZeroShotClassifier) -> None:
    calls: list[tuple[Any, ...]] = []

    def constant(predicted: Any, true: Any, example: TrainingExample) -> float:
        calls.append((predicted, true, example))
        return 0.25

    args = _args(max_steps=3, batch_size=4, reward_weights={"constant": 2.0, "recall": 0.0})
    result = PPOTrainer(fresh(base), args, DATA, rewards={"constant": constant}).train()
    assert result.mean_reward == pytest.approx((0.5, 0.5, 0.5))
    assert all(record["reward_constant"] == pytest.approx(0.25) for record in result.history)
    assert len(calls) == 3 * 4  # once per sampled example (not per PPO epoch)
    for predicted, true, example in calls:
        assert example in DATA
        assert true == example.true_labels
        assert isinstance(predicted, tuple)
        assert list(predicted) == [label for label in example.all_labels if label in predicted]


# --- the policy's terms ------------------------------------------------------------------------------------------
def test_bernoulli_terms_match_torch_distributions() -> None:
    generator = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(5, 4, generator=generator)
    reference = 3 * torch.randn(5, 4, generator=generator)
    actions = torch.bernoulli(torch.full((5, 4), 0.5), generator=generator)
    policy = torch.distributions.Bernoulli(logits=logits)
    torch.testing.assert_close(bernoulli_log_prob(logits, actions), policy.log_prob(actions))
    torch.testing.assert_close(bernoulli_entropy(logits), policy.entropy())
    expected = torch.distributions.kl_divergence(policy, torch.distributions.Bernoulli(logits=reference))
    torch.testing.assert_close(bernoulli_kl(logits, reference), expected)
    assert bernoulli_kl(logits, logits).abs().max() < 1e-6


def test_clipped_surrogate_on_a_hand_case() -> None:
    old = torch.log(torch.tensor([[0.5, 0.5, 0.5]]))
    new = torch.log(torch.tensor([[0.75, 0.5, 0.25]]))  # ratios 1.5, 1.0, 0.5
    mask = torch.tensor([[True, True, False]])
    loss, clipped = clipped_surrogate_loss(new, old, torch.tensor([[1.0]]), mask, epsilon=0.2)
    assert float(loss) == pytest.approx(-(1.2 + 1.0) / 2)  # the padded slot does not count
    assert float(clipped) == pytest.approx(0.5)
    loss, _ = clipped_surrogate_loss(new, old, torch.tensor([[-1.0]]), mask, epsilon=0.2)
    assert float(loss) == pytest.approx((1.5 + 1.0) / 2)  # a negative advantage: the pessimistic (unclipped) term


# --- training ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(base: ZeroShotClassifier) -> tuple[float, float, PPOResult, ZeroShotClassifier]:
    classifier = fresh(base)
    trainer = PPOTrainer(classifier, _args(max_steps=60, seed=0), DATA)
    before = trainer.evaluate()
    result = trainer.train()
    return before, trainer.evaluate(), result, classifier


def test_ppo_raises_the_greedy_reward(trained: tuple[float, float, PPOResult, ZeroShotClassifier]) -> None:
    before, after, result, classifier = trained
    assert result.steps == 60
    assert len(result.mean_reward) == len(result.kl) == len(result.history) == 60
    assert after > before + 0.15, (before, after)
    assert sum(result.mean_reward[-10:]) > sum(result.mean_reward[:10])
    assert not classifier.model.training


def test_kl_to_the_reference_starts_at_zero_and_grows(
    trained: tuple[float, float, PPOResult, ZeroShotClassifier],
) -> None:
    _, _, result, _ = trained
    assert result.kl[0] == pytest.approx(0.0, abs=1e-6)  # the reference is the starting model
    assert min(result.kl[1:]) > 0.0
    assert max(result.kl[-10:]) > 1e-3
    record = result.history[-1]
    assert {"reward", "reward_f1", "kl", "loss", "policy_loss", "entropy", "clip_fraction"} <= set(record)
    assert all(math.isfinite(value) for value in record.values())


def test_greedy_evaluation_is_what_classify_returns(base: ZeroShotClassifier) -> None:
    """The policy reads calibrated logits: its greedy choice is classify(threshold=0.5)."""
    classifier = fresh(base).with_calibration(Calibration(temperature=2.0, bias=0.3, label_bias={"science": 1.0}))
    trainer = PPOTrainer(classifier, _args(), DATA)
    expected = [
        f1_reward([s.label for s in classifier.classify(e.text, list(e.all_labels))], e.true_labels) for e in DATA
    ]
    assert trainer.evaluate() == pytest.approx(sum(expected) / len(expected))
    assert trainer.evaluate(DATA[:2]) == pytest.approx(sum(expected[:2]) / 2)


def test_the_value_head_option(base: ZeroShotClassifier) -> None:
    trainer = PPOTrainer(fresh(base), _args(use_value_head=True, value_lr=1e-2), DATA)
    assert trainer.value_head is not None
    assert float(trainer.value_head.bias.detach()) == 0.0
    result = trainer.train()
    assert all(math.isfinite(record["value_loss"]) for record in result.history)
    assert float(trainer.value_head.bias.detach()) > 0.0, "the value head moves towards the (positive) rewards"


def test_the_reference_stays_frozen_with_a_bi_encoder() -> None:
    classifier = build_classifier("bi-encoder")
    trainer = PPOTrainer(classifier, _args(max_steps=2, lr=1e-3), DATA)
    reference = {k: v.clone() for k, v in trainer.reference.state_dict().items()}
    before = {k: v.clone() for k, v in classifier.model.state_dict().items()}
    result = trainer.train()
    assert result.kl[0] == pytest.approx(0.0, abs=1e-6)
    assert all(torch.equal(trainer.reference.state_dict()[k], v) for k, v in reference.items())
    after = classifier.model.state_dict()
    assert any(not torch.equal(after[k], v) for k, v in before.items() if k.startswith("model.label_encoder."))


def test_an_explicit_reference(base: ZeroShotClassifier) -> None:
    reference = fresh(base)
    result = PPOTrainer(fresh(base), _args(max_steps=2, lr=1e-3), DATA, reference=reference).train()
    assert result.kl[0] == pytest.approx(0.0, abs=1e-6)
    assert result.kl[1] > 0.0
    assert all(torch.equal(p, q) for p, q in zip(reference.model.parameters(), base.model.parameters(), strict=True))


def test_training_with_lora(base: ZeroShotClassifier) -> None:
    lora = pytest.importorskip("gliclass_rag.training.lora", reason="needs peft (the train extra)")
    pytest.importorskip("peft")
    classifier = fresh(base)
    lora.apply_lora(classifier.model, lora.LoraSettings(r=4, target_modules=("query", "value")))
    frozen = {k: v.clone() for k, v in classifier.model.state_dict().items() if "base_layer" in k or "embeddings" in k}
    adapters = {k: v.clone() for k, v in classifier.model.state_dict().items() if "lora_B" in k}
    PPOTrainer(classifier, _args(max_steps=2, lr=1e-3), DATA).train()
    state = classifier.model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in frozen.items()), "the base weights must stay frozen"
    assert any(not torch.equal(state[k], v) for k, v in adapters.items()), "the adapters must train"


# --- failures raise ----------------------------------------------------------------------------------------------
def test_a_nan_reward_raises(base: ZeroShotClassifier) -> None:
    args = _args(reward_weights={"broken": 1.0})
    trainer = PPOTrainer(fresh(base), args, DATA, rewards={"broken": lambda p, t, e: float("nan")})
    with pytest.raises(FloatingPointError, match="'broken' returned nan"):
        trainer.train()


def test_a_reward_that_is_not_a_number_raises(base: ZeroShotClassifier) -> None:
    args = _args(reward_weights={"broken": 1.0})
    not_a_number: Any = lambda p, t, e: "good"  # noqa: E731
    trainer = PPOTrainer(fresh(base), args, DATA, rewards={"broken": not_a_number})
    with pytest.raises(InvalidInputError, match="not a number"):
        trainer.train()


def test_nan_logits_raise(base: ZeroShotClassifier, monkeypatch: pytest.MonkeyPatch) -> None:
    classifier = fresh(base)
    trainer = PPOTrainer(classifier, _args(), DATA)
    original = classifier.model.model.scorer.forward

    def nan_scores(*args: Any, **kwargs: Any) -> torch.Tensor:
        return original(*args, **kwargs) * float("nan")

    monkeypatch.setattr(classifier.model.model.scorer, "forward", nan_scores)
    with pytest.raises(FloatingPointError, match="step 0"):
        trainer.train()


def test_bad_data_and_reference_raise(base: ZeroShotClassifier) -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        PPOTrainer(fresh(base), _args(), [])
    with pytest.raises(InvalidInputError, match="at least one label"):
        PPOTrainer(fresh(base), _args(), [TrainingExample("text", (), ())])
    with pytest.raises(InvalidInputError, match="reference"):
        PPOTrainer(fresh(base), _args(), DATA, reference=build_classifier("bi-encoder"))
    classifier = fresh(base)
    with pytest.raises(InvalidInputError, match="separate"):
        PPOTrainer(classifier, _args(), DATA, reference=classifier)
    with pytest.raises(InvalidInputError, match="PPOArguments"):
        PPOTrainer(fresh(base), {"lr": 1.0}, DATA)  # type: ignore[arg-type]


def test_rows_in_the_reference_format(base: ZeroShotClassifier) -> None:
    rows = [{"text": "the team won", "all_labels": ["sports", "travel"], "true_labels": ["sports"]}]
    trainer = PPOTrainer(fresh(base), _args(max_steps=1, batch_size=2), rows)
    assert trainer.data[0].true_labels == ("sports",)
    assert trainer.train().steps == 1
