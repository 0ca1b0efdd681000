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

__all__ = ["Calibration"]


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
