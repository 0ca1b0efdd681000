"""PPO for multi-label classification (paper §2.3.2).

The policy is one Bernoulli per (text, label): ``pi(label applies | text) = sigmoid(logit)``, with the classifier's
calibration applied to the logit, so the greedy policy (p > 0.5) is what ``classify(threshold=0.5)`` returns. A step
samples actions for a batch, scores each example's predicted label set with the reward components (F1 by default;
precision, recall, label-wise accuracy and your own callables, weighted), and takes ``ppo_epochs`` gradient steps on
the same samples with their log-probabilities fixed:

    loss = clipped surrogate (ratio per label slot, epsilon ``clip_epsilon``, padded slots masked)
           + kl_coef * KL(policy || frozen reference)      (per-label Bernoulli KL, mean over real slots)
           - entropy_coef * entropy                         (an exploration bonus)
           + value_coef * (value - reward)^2                (with ``use_value_head``)

Episodes are single-step, so the advantage is ``reward - baseline``: the batch's mean reward, or with
``use_value_head`` a linear value head's estimate from the pooled text embedding (trained alongside, kept on the
trainer as ``value_head``; it is not part of the saved classifier). The reference is a frozen deep copy of the model
as it was when the trainer was made, unless you pass one. The true labels of a :class:`TrainingExample` (targets
> 0.5) are read by the rewards only. The model is trained in place, where it lives (``device`` to move it): on the GPU
when the classifier was loaded there (``from_pretrained`` picks one when present), else on the CPU. With LoRA
adapters (``apply_lora``) only the trainable parameters change. A step that fails raises: a reward that is not a
finite number, a non-finite loss, an error in the model.

>>> from gliclass_rag import ZeroShotClassifier
>>> from gliclass_rag.training import PPOArguments, PPOTrainer, TrainingExample
>>> classifier = ZeroShotClassifier.from_pretrained()  # doctest: +SKIP
>>> data = [TrainingExample("the team won the match", ("sports", "science"), (1.0, 0.0))]
>>> def brevity(predicted, true, example):  # a custom reward: (predicted, true, example) -> float
...     return 1.0 if len(predicted) <= 2 else 0.0
>>> args = PPOArguments(max_steps=100, lr=1e-5, reward_weights={"f1": 1.0, "brevity": 0.2})
>>> trainer = PPOTrainer(classifier, args, data, rewards={"brevity": brevity})  # doctest: +SKIP
>>> before = trainer.evaluate()  # the greedy policy's mean reward  # doctest: +SKIP
>>> result = trainer.train()  # result.mean_reward, result.kl: one value per step  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import InvalidInputError
from ..modeling.model import GLiClassModel
from ..pipeline import ZeroShotClassifier
from .batches import BatchBuilder, PlannedBatch, as_examples, progress_bar
from .data import TrainingExample
from .losses import bernoulli_entropy, bernoulli_kl, bernoulli_log_prob, clipped_surrogate_loss, masked_mean

__all__ = [
    "BUILTIN_REWARDS",
    "PPOArguments",
    "PPOResult",
    "PPOTrainer",
    "RewardFn",
    "accuracy_reward",
    "f1_reward",
    "precision_reward",
    "recall_reward",
]

RewardFn = Callable[[Sequence[str], Sequence[str], TrainingExample], float]
"""``(predicted labels, true labels, the example) -> reward``: one number per example (higher is better)."""
TrainingData = Sequence[TrainingExample] | str | Path | Iterable[Mapping[str, Any]]


# --- rewards -----------------------------------------------------------------------------------------------------
def f1_reward(predicted: Sequence[str], true: Sequence[str], example: TrainingExample | None = None) -> float:
    """F1 of the predicted label set against the true one; 1.0 when both are empty (nothing to find, nothing
    claimed), 0.0 when only one is."""
    hits = len(set(predicted) & set(true))
    size = len(set(predicted)) + len(set(true))
    return 2 * hits / size if size else 1.0


def precision_reward(predicted: Sequence[str], true: Sequence[str], example: TrainingExample | None = None) -> float:
    """Share of the predicted labels that are true; with nothing predicted, 1.0 if nothing is true, else 0.0."""
    if not predicted:
        return 0.0 if true else 1.0
    return len(set(predicted) & set(true)) / len(set(predicted))


def recall_reward(predicted: Sequence[str], true: Sequence[str], example: TrainingExample | None = None) -> float:
    """Share of the true labels that were predicted; with nothing true, 1.0 if nothing is predicted, else 0.0."""
    if not true:
        return 0.0 if predicted else 1.0
    return len(set(predicted) & set(true)) / len(set(true))


def accuracy_reward(predicted: Sequence[str], true: Sequence[str], example: TrainingExample | None = None) -> float:
    """Share of the example's labels (``all_labels``) decided right, either way."""
    if example is None:
        raise InvalidInputError("accuracy_reward needs the example (it counts over all of its labels)")
    chosen, positive = set(predicted), set(true)
    return sum((label in chosen) == (label in positive) for label in example.all_labels) / len(example.all_labels)


BUILTIN_REWARDS: Mapping[str, RewardFn] = {
    "f1": f1_reward,
    "precision": precision_reward,
    "recall": recall_reward,
    "accuracy": accuracy_reward,
}


# --- settings and results ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PPOArguments:
    """Settings of :class:`PPOTrainer`.

    A step is one batch of ``batch_size`` examples, sampled once and trained on ``ppo_epochs`` times; training runs
    ``max_steps`` steps, or ``epochs`` passes over the data when that is None. ``lr`` is the policy's learning rate
    (every trainable parameter), ``value_lr`` the value head's. ``reward_weights`` names the reward components and
    weighs them: built-ins ``f1``, ``precision``, ``recall``, ``accuracy``, or names given to
    ``PPOTrainer(rewards=...)``; the reward of an example is the weighted sum. ``disable_dropout`` trains with the
    model in eval mode, so that the ratio and the KL compare one deterministic policy (as TRL does). ``max_length``
    caps the sequence length (None: the classifier's).
    """

    epochs: float = 1.0
    max_steps: int | None = None
    batch_size: int = 8
    lr: float = 1e-5
    weight_decay: float = 0.0
    clip_epsilon: float = 0.2
    ppo_epochs: int = 3
    kl_coef: float = 0.05
    entropy_coef: float = 0.01
    use_value_head: bool = False
    value_coef: float = 0.5
    value_lr: float = 1e-3
    reward_weights: Mapping[str, float] = field(default_factory=lambda: {"f1": 1.0})
    max_grad_norm: float | None = 1.0
    disable_dropout: bool = True
    max_length: int | None = 256
    eval_batch_size: int = 32
    seed: int = 42
    device: str | None = None
    show_progress: bool = True

    def __post_init__(self) -> None:
        counts = {"batch_size": self.batch_size, "ppo_epochs": self.ppo_epochs, "eval_batch_size": self.eval_batch_size}
        for name, value in counts.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be a positive int, but got {value!r}")
        if self.max_steps is not None and (
            isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int) or self.max_steps < 1
        ):
            raise InvalidInputError(f"max_steps must be a positive int or None, but got {self.max_steps!r}")
        if not _finite(self.epochs) or self.epochs <= 0:
            raise InvalidInputError(f"epochs must be > 0, but got {self.epochs!r}")
        if not _finite(self.clip_epsilon) or not 0.0 < self.clip_epsilon < 1.0:
            raise InvalidInputError(f"clip_epsilon must be in (0, 1), but got {self.clip_epsilon!r}")
        for name in ("lr", "value_lr", "weight_decay", "kl_coef", "entropy_coef", "value_coef"):
            value = getattr(self, name)
            if not _finite(value) or value < 0:
                raise InvalidInputError(f"{name} must be a finite number >= 0, but got {value!r}")
        if self.max_grad_norm is not None and (not _finite(self.max_grad_norm) or self.max_grad_norm <= 0):
            raise InvalidInputError(f"max_grad_norm must be > 0 or None, but got {self.max_grad_norm!r}")
        if self.max_length is not None and self.max_length < 16:
            raise InvalidInputError(f"max_length must be >= 16 or None, but got {self.max_length}")
        if not isinstance(self.reward_weights, Mapping) or not self.reward_weights:
            raise InvalidInputError(f"reward_weights must name at least one reward, but got {self.reward_weights!r}")
        for name, weight in self.reward_weights.items():
            if not isinstance(name, str) or not name:
                raise InvalidInputError(f"reward_weights keys must be reward names, but got {name!r}")
            if not _finite(weight):
                raise InvalidInputError(f"reward_weights[{name!r}] must be a finite number, but got {weight!r}")
        if not any(self.reward_weights.values()):
            raise InvalidInputError("reward_weights are all 0: there is nothing to reward")
        object.__setattr__(self, "reward_weights", {k: float(v) for k, v in self.reward_weights.items()})


def _finite(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


@dataclass(frozen=True)
class PPOResult:
    steps: int
    mean_reward: tuple[float, ...]  # per step: the mean reward of the sampled actions
    kl: tuple[float, ...]  # per step: mean per-label KL(policy || reference) when the batch was sampled
    history: tuple[dict[str, float], ...]  # per step: reward (and each component), kl, losses, entropy, clipping


@dataclass(frozen=True)
class _Reward:
    name: str
    fn: RewardFn
    weight: float


def _resolve_rewards(weights: Mapping[str, float], custom: Mapping[str, RewardFn] | None) -> tuple[_Reward, ...]:
    custom = dict(custom or {})
    for name, given in custom.items():
        if not callable(given):
            raise InvalidInputError(f"reward {name!r} must be callable (predicted, true, example) -> float")
        if name not in weights:
            raise InvalidInputError(f"reward {name!r} has no weight: add it to PPOArguments.reward_weights")
    resolved = []
    for name, weight in weights.items():
        fn: RewardFn | None = custom.get(name, BUILTIN_REWARDS.get(name))
        if fn is None:
            known = sorted(set(BUILTIN_REWARDS) | set(custom))
            raise InvalidInputError(f"reward_weights names an unknown reward {name!r}; known: {known}")
        resolved.append(_Reward(name, fn, weight))
    return tuple(resolved)


# --- the trainer -------------------------------------------------------------------------------------------------
class PPOTrainer:
    """Train a :class:`ZeroShotClassifier`'s model in place with PPO on reward(predicted labels, true labels).

    ``data``: TrainingExamples, reference-format rows or a .json/.jsonl file. ``rewards``: named reward callables
    ``(predicted, true, example) -> float`` (weighted by ``args.reward_weights``, which must name them).
    ``reference``: the model (or classifier) whose policy the KL term stays close to; it must share the classifier's
    tokenizer and architecture, and is used frozen (switched to eval mode, moved to the training device, run
    without gradients).
    Default: a deep copy of the model as it is now.
    """

    def __init__(
        self,
        classifier: ZeroShotClassifier,
        args: PPOArguments,
        data: TrainingData,
        *,
        rewards: Mapping[str, RewardFn] | None = None,
        reference: ZeroShotClassifier | GLiClassModel | None = None,
    ) -> None:
        if not isinstance(args, PPOArguments):
            raise InvalidInputError(f"args must be PPOArguments, not {type(args).__name__}")
        self.classifier = classifier
        self.model = classifier.model
        self.args = args
        self.data = as_examples(data)
        if not self.data:
            raise InvalidInputError("the training data is empty")
        empty = [e.text[:40] for e in self.data if not e.all_labels]
        if empty:
            raise InvalidInputError(f"every example needs at least one label; these have none: {empty[:3]}")
        self.rewards = _resolve_rewards(args.reward_weights, rewards)
        self.device = torch.device(args.device or str(classifier.device))
        self.model.to(self.device)
        self.reference = self._frozen_reference(reference)
        self.batches = BatchBuilder(classifier, max_length=args.max_length, device=self.device)
        self.value_head: nn.Linear | None = None
        if args.use_value_head:
            width = self.model.model.text_projector.linear_2.out_features
            self.value_head = nn.Linear(width, 1).to(self.device)
            with torch.no_grad():  # starts at 0 for every text: no random numbers drawn, so seeds stay comparable
                self.value_head.weight.zero_()
                self.value_head.bias.zero_()
        self.rng = random.Random(args.seed)
        self.generator = torch.Generator(device=self.device).manual_seed(args.seed)

    def _frozen_reference(self, reference: ZeroShotClassifier | GLiClassModel | None) -> GLiClassModel:
        if reference is None:
            model = copy.deepcopy(self.model).requires_grad_(False)
        elif isinstance(reference, ZeroShotClassifier):
            model = reference.model
        elif isinstance(reference, GLiClassModel):
            model = reference
        else:
            raise InvalidInputError(f"reference must be a ZeroShotClassifier or GLiClassModel, not {type(reference)}")
        if model is self.model:
            raise InvalidInputError("the reference must be a separate model (None: a frozen copy of this one)")
        mine, theirs = self.model.config.architecture_type, model.config.architecture_type
        if mine != theirs:
            raise InvalidInputError(f"the reference is a {theirs} but the classifier a {mine}")
        return model.to(self.device).eval()  # only ever run under no_grad

    # --- data ---------------------------------------------------------------------------------------------
    def _endless(self) -> Iterator[TrainingExample]:
        while True:
            order = list(range(len(self.data)))
            self.rng.shuffle(order)
            for index in order:
                yield self.data[index]

    def _total_steps(self) -> int:
        if self.args.max_steps is not None:
            return self.args.max_steps
        per_epoch = math.ceil(len(self.data) / self.args.batch_size)
        return max(1, math.ceil(per_epoch * self.args.epochs))

    # --- policy -------------------------------------------------------------------------------------------
    def _policy_logits(self, logits: torch.Tensor, planned: PlannedBatch) -> torch.Tensor:
        """(S, C) float logits with the classifier's calibration applied, as ``classify`` thresholds them."""
        logits = logits.float()
        calibration = self.classifier.calibration
        if calibration.is_identity:
            return logits
        offsets = torch.zeros_like(logits)
        if calibration.label_bias:
            for row in range(len(planned.sequences)):
                values = [calibration.label_bias.get(name, 0.0) for name in planned.slot_labels(row)]
                offsets[row, : len(values)] = torch.tensor(values, device=logits.device)
        return logits / calibration.temperature + calibration.bias + offsets

    def _rewards(self, planned: PlannedBatch, actions: torch.Tensor) -> tuple[np.ndarray, dict[str, float]]:
        """Per example the weighted reward of the labels its actions chose (E,), and each component's mean."""
        chosen = actions.detach().bool().cpu().tolist()  # (S, C)
        totals = np.zeros(len(planned.examples))
        components: dict[str, list[float]] = {reward.name: [] for reward in self.rewards}
        for index, (example, rows) in enumerate(zip(planned.examples, planned.rows_of, strict=True)):
            picked = set()
            for row in rows:
                names = planned.slot_labels(row)
                picked |= {name for name, on in zip(names, chosen[row][: len(names)], strict=True) if on}
            predicted = tuple(label for label in example.all_labels if label in picked)
            true = example.true_labels
            for reward in self.rewards:
                value = reward.fn(predicted, true, example)
                try:
                    number = float(value)
                except (TypeError, ValueError) as error:
                    raise InvalidInputError(f"reward {reward.name!r} returned {value!r}, not a number") from error
                if not math.isfinite(number):
                    raise FloatingPointError(
                        f"reward {reward.name!r} returned {number} for the example {example.text[:60]!r}"
                    )
                components[reward.name].append(number)
                totals[index] += reward.weight * number
        return totals, {name: float(np.mean(values)) for name, values in components.items()}

    def _values(self, text_embeddings: torch.Tensor) -> torch.Tensor:
        """(S,) value estimates from the pooled text embedding ((S, D), or (S, L, D) averaged over tokens)."""
        assert self.value_head is not None
        pooled = text_embeddings.float()
        if pooled.dim() == 3:
            pooled = pooled.mean(dim=1)
        return self.value_head(pooled).squeeze(-1)

    # --- optimisation -------------------------------------------------------------------------------------
    def _optimizer(self) -> torch.optim.Optimizer:
        policy = [p for p in self.model.parameters() if p.requires_grad]
        if not policy:
            raise InvalidInputError("the model has no trainable parameters")
        groups: list[dict[str, Any]] = [{"params": policy, "lr": self.args.lr, "weight_decay": self.args.weight_decay}]
        if self.value_head is not None:
            groups.append({"params": list(self.value_head.parameters()), "lr": self.args.value_lr, "weight_decay": 0.0})
        return torch.optim.AdamW(groups)

    def _step(self, examples: Sequence[TrainingExample], optimizer: torch.optim.Optimizer, step: int) -> dict[str, Any]:
        args = self.args
        planned = self.batches.plan(examples)
        example_of_row = torch.tensor([s.request for s in planned.sequences], device=self.device)  # (S,)
        with torch.no_grad():
            reference = self._policy_logits(self.batches.forward(self.reference, planned).logits, planned)  # (S, C)
        record: dict[str, Any] = {"step": float(step + 1)}
        params = [p for group in optimizer.param_groups for p in group["params"]]
        losses, policy_losses, entropies, clipping, value_losses = [], [], [], [], []
        for epoch in range(args.ppo_epochs):
            output = self.batches.forward(self.model, planned)
            logits = self._policy_logits(output.logits, planned)  # (S, C)
            mask = output.label_mask  # (S, C)
            values = self._values(output.text_embeddings) if self.value_head is not None else None  # (S,)
            if epoch == 0:  # the rollout: sample once, fix what the later epochs compare against
                if not bool(torch.isfinite(logits[mask]).all()):
                    raise FloatingPointError(f"the model's logits are not finite at step {step}")
                with torch.no_grad():
                    actions = torch.bernoulli(torch.sigmoid(logits), generator=self.generator) * mask  # (S, C)
                    old_log_probs = bernoulli_log_prob(logits, actions)  # (S, C)
                    totals, components = self._rewards(planned, actions)
                    example_rewards = torch.as_tensor(totals, dtype=torch.float32, device=self.device)  # (E,)
                    rewards = example_rewards[example_of_row]  # (S,)
                    baseline = values.detach() if values is not None else example_rewards.mean()
                    advantages = (rewards - baseline).unsqueeze(-1)  # (S, 1)
                    kl_start = float(masked_mean(bernoulli_kl(logits, reference), mask))
                record |= {"reward": float(totals.mean()), "kl": kl_start}
                record |= {f"reward_{name}": value for name, value in components.items()}
            policy_loss, clipped = clipped_surrogate_loss(
                bernoulli_log_prob(logits, actions), old_log_probs, advantages, mask, epsilon=args.clip_epsilon
            )
            kl = masked_mean(bernoulli_kl(logits, reference), mask)
            entropy = masked_mean(bernoulli_entropy(logits), mask)
            loss = policy_loss + args.kl_coef * kl - args.entropy_coef * entropy
            if values is not None:
                value_loss = torch.mean((values - rewards) ** 2)
                loss = loss + args.value_coef * value_loss
                value_losses.append(float(value_loss.detach()))
            if not torch.isfinite(loss):
                raise FloatingPointError(f"the PPO loss became {loss.item()} at step {step}, update {epoch}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if args.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(params, args.max_grad_norm)
            optimizer.step()
            losses.append(float(loss.detach()))
            policy_losses.append(float(policy_loss.detach()))
            entropies.append(float(entropy.detach()))
            clipping.append(float(clipped))
        record |= {
            "loss": float(np.mean(losses)),
            "policy_loss": float(np.mean(policy_losses)),
            "entropy": float(np.mean(entropies)),
            "clip_fraction": float(np.mean(clipping)),
        }
        if value_losses:
            record["value_loss"] = float(np.mean(value_losses))
        return record

    def train(self) -> PPOResult:
        args = self.args
        torch.manual_seed(args.seed)
        total = self._total_steps()
        optimizer = self._optimizer()
        stream = self._endless()
        history: list[dict[str, float]] = []
        progress = progress_bar(total, args.show_progress, "ppo")
        self.model.train(not args.disable_dropout)
        if self.value_head is not None:
            self.value_head.train()
        try:
            for step in range(total):
                examples = [next(stream) for _ in range(args.batch_size)]
                record = self._step(examples, optimizer, step)
                history.append(record)
                progress.update(1)
                progress.set_postfix(reward=f"{record['reward']:.3f}", kl=f"{record['kl']:.4f}")
        finally:
            progress.close()
            self.model.eval()
            self.classifier.engine.clear_label_cache()  # the weights changed: cached label embeddings are stale
        return PPOResult(
            len(history),
            tuple(r["reward"] for r in history),
            tuple(r["kl"] for r in history),
            tuple(history),
        )

    # --- evaluation ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, data: TrainingData | None = None) -> float:
        """Mean reward of the greedy policy (a label is chosen when its calibrated probability is > 0.5) over
        ``data`` (default: the training data)."""
        examples = self.data if data is None else as_examples(data)
        if not examples:
            raise InvalidInputError("no evaluation data")
        was_training = self.model.training
        self.model.eval()
        try:
            total = 0.0
            for start in range(0, len(examples), self.args.eval_batch_size):
                planned = self.batches.plan(examples[start : start + self.args.eval_batch_size])
                output = self.batches.forward(self.model, planned)
                actions = (self._policy_logits(output.logits, planned) > 0) & output.label_mask  # (S, C)
                totals, _ = self._rewards(planned, actions)
                total += float(totals.sum())
        finally:
            self.model.train(was_training)
        return total / len(examples)
