"""Post-hoc calibration of GLiClass logits: temperature scaling and per-label bias, saved with the model.

``calibrated logit = logit / temperature + bias + label_bias[label]``. Stored in the checkpoint's config under
``"gliclass_rag": {"calibration": {...}}`` and applied by the pipeline before the sigmoid / softmax, so that a
threshold means the same thing across label sets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InvalidInputError

__all__ = ["Calibration", "fit_calibration"]

TEMPERATURE_RANGE = (1e-2, 1e3)


@dataclass(frozen=True)
class Calibration:
    temperature: float = 1.0
    bias: float = 0.0
    label_bias: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (
            isinstance(self.temperature, (int, float)) and math.isfinite(self.temperature) and self.temperature > 0
        ):
            raise InvalidInputError(f"temperature must be a finite number > 0, but got {self.temperature!r}")
        if not math.isfinite(self.bias):
            raise InvalidInputError(f"bias must be finite, but got {self.bias!r}")
        for label, value in self.label_bias.items():
            if not isinstance(label, str) or not math.isfinite(value):
                raise InvalidInputError(f"label_bias must map str -> finite float, got {label!r}: {value!r}")
        object.__setattr__(self, "label_bias", dict(self.label_bias))

    @property
    def is_identity(self) -> bool:
        return self.temperature == 1.0 and self.bias == 0.0 and not self.label_bias

    def apply(self, logits: np.ndarray, labels: Sequence[str]) -> np.ndarray:
        if self.is_identity:
            return logits
        offsets = np.array([self.label_bias.get(label, 0.0) for label in labels], dtype=np.float64)
        return logits / self.temperature + self.bias + offsets

    def to_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "bias": self.bias, "label_bias": dict(self.label_bias)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Calibration:
        if not data:
            return cls()
        return cls(float(data.get("temperature", 1.0)), float(data.get("bias", 0.0)), dict(data.get("label_bias", {})))


def _fit_scalars(
    logits: np.ndarray,
    targets: np.ndarray,
    *,
    fit_bias: bool,
    group: np.ndarray | None,
    weights: np.ndarray | None = None,
    iterations: int = 200,
) -> tuple[float, float]:
    """Temperature (and bias) minimising the (weighted) binary NLL (group is None) or the softmax NLL in groups."""
    import torch

    z = torch.as_tensor(logits, dtype=torch.float64)
    y = torch.as_tensor(targets, dtype=torch.float64)
    w = None if weights is None else torch.as_tensor(weights, dtype=torch.float64)
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    bias = torch.zeros((), dtype=torch.float64, requires_grad=fit_bias)
    parameters = [log_t, bias] if fit_bias else [log_t]
    optimizer = torch.optim.LBFGS(parameters, max_iter=iterations, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        scaled = z / log_t.exp() + bias
        if group is None:
            value = torch.nn.functional.binary_cross_entropy_with_logits(scaled, y, weight=w)
        else:
            index = torch.as_tensor(group)
            size = int(index.max()) + 1
            top = torch.full((size,), -torch.inf, dtype=scaled.dtype).scatter_reduce(0, index, scaled, "amax")
            total = torch.zeros(size, dtype=scaled.dtype).index_add(0, index, (scaled - top[index]).exp())
            log_norm = total.log() + top  # (groups,) log-sum-exp of each text's logits
            mass = torch.zeros(size, dtype=scaled.dtype).index_add(0, index, y)  # positives per text
            value = -((scaled * y).sum() - (log_norm * mass).sum()) / y.sum()
        value.backward()
        return value

    optimizer.step(loss)
    # Logits that carry no information drive the temperature to infinity: keep it in a sane range.
    return float(np.clip(float(log_t.exp().detach()), *TEMPERATURE_RANGE)), float(bias.detach())


def fit_calibration(
    classifier: Any,
    texts: Sequence[str],
    labels: Sequence[str] | Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]],
    *,
    multi_label: bool = True,
    per_label_bias: bool = False,
    prior_strength: float = 1.0,
    balanced: bool = False,
    batch_size: int = 16,
) -> Calibration:
    """Fit temperature scaling (+ a global bias, + optional per-label biases) on a small labelled set.

    ``labels`` is shared or one list per text; ``gold`` the true labels of each text. Multi-label fits the binary
    NLL of every (text, label) pair; single-label fits the temperature on the softmax NLL (a bias cancels there).
    Per-label biases are fitted on top with an L2 prior of ``prior_strength`` pulling them to 0, so labels with
    few examples stay near the global fit. The classifier's current calibration is ignored while fitting.

    ``balanced=True`` (multi-label) weighs the positive and the negative pairs equally, so that 0.5 means even odds
    that a label fits whatever the number of candidate labels: with a dozen candidates and one true label, the
    unweighted fit learns the 1-in-12 base rate and keeps clear matches below 0.5.
    """
    from .inputs import Request
    from .requests import label_sets, normalize_texts

    texts = normalize_texts(list(texts))
    sets = label_sets(labels, len(texts))
    if len(gold) != len(texts):
        raise InvalidInputError(f"gold has {len(gold)} entries but there are {len(texts)} texts")
    requests = [Request(text, labels_) for text, labels_ in zip(texts, sets, strict=True)]
    rows = classifier.engine.logits(requests, chunking=classifier.chunking, batch_size=batch_size)
    flat = np.concatenate(rows)
    names = [label for labels_ in sets for label in labels_]
    targets = np.array([float(label in set(g)) for g, labels_ in zip(gold, sets, strict=True) for label in labels_])
    if not multi_label:
        group = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
        temperature, _ = _fit_scalars(flat, targets, fit_bias=False, group=group)
        return Calibration(temperature)
    if targets.min() == targets.max():
        raise InvalidInputError("the calibration set needs both positive and negative (text, label) pairs")
    weights = None
    if balanced:
        positives = targets.sum()
        weights = np.where(targets > 0, 0.5 / positives, 0.5 / (len(targets) - positives)) * len(targets)
    temperature, bias = _fit_scalars(flat, targets, fit_bias=True, group=None, weights=weights)
    if not per_label_bias:
        return Calibration(temperature, bias)
    base = flat / temperature + bias
    offsets: dict[str, float] = {}
    for label in dict.fromkeys(names):
        mask = np.array([n == label for n in names])
        value = 0.0
        for _ in range(25):  # Newton steps on the per-label bias with an L2 prior
            p = 1.0 / (1.0 + np.exp(-(base[mask] + value)))
            w = 1.0 if weights is None else weights[mask]
            gradient = (w * (p - targets[mask])).sum() + prior_strength * value
            hessian = (w * p * (1 - p)).sum() + prior_strength
            value -= gradient / hessian
        offsets[label] = float(value)
    return Calibration(temperature, bias, offsets)
