"""TrainingArguments: every setting of the supervised trainer, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import InvalidInputError
from .data import Augmentation

__all__ = ["TrainingArguments"]

Scheduler = Literal["linear", "cosine", "constant"]


@dataclass(frozen=True)
class TrainingArguments:
    """Settings of :class:`~gliclass_rag.training.Trainer`.

    Learning rates and weight decay are separate for the backbone(s) (``encoder_*``) and the new heads
    (projectors, scorer, logit scale: ``head_*``), as in the paper (1e-5 / 3e-5, weight decay 0.01).
    ``focal_alpha``/``focal_gamma`` default to the model config's (alpha < 0 disables the weighting, gamma 0 the
    focusing); ``focal_coef`` weighs that term (0 drops it). ``listwise_coef`` adds a softmax cross-entropy over each
    row's labels (ranking; blind to the level of the scores), and ``contrastive_coef`` a contrastive loss between a
    row's label embeddings. ``bias_lr`` is the learning rate of the learned logit bias (``learn_logit_bias``).
    """

    output_dir: str | Path | None = None
    epochs: float = 1.0
    max_steps: int | None = None
    batch_size: int = 8
    gradient_accumulation_steps: int = 1
    encoder_lr: float = 1e-5
    head_lr: float = 3e-5
    encoder_weight_decay: float = 0.01
    head_weight_decay: float = 0.01
    warmup_ratio: float = 0.05
    scheduler: Scheduler = "linear"
    max_grad_norm: float | None = 1.0
    focal_alpha: float | None = None
    focal_gamma: float | None = None
    focal_coef: float = 1.0
    listwise_coef: float = 0.0
    bias_lr: float = 0.05
    contrastive_coef: float | None = None
    eval_every: int | None = None
    eval_batch_size: int = 32
    save_best: bool = True
    metric_for_best: Literal["macro_f1", "accuracy"] = "macro_f1"
    max_length: int | None = 256
    freeze_encoder: bool = False
    mixed_precision: Literal["bf16", "fp16"] | None = None
    seed: int = 42
    device: str | None = None
    show_progress: bool = True
    augmentation: Augmentation = field(default_factory=Augmentation)

    def __post_init__(self) -> None:
        positive = {"batch_size": self.batch_size, "gradient_accumulation_steps": self.gradient_accumulation_steps}
        for name, value in positive.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be a positive int, but got {value!r}")
        if self.max_steps is not None and self.max_steps < 1:
            raise InvalidInputError(f"max_steps must be >= 1 or None, but got {self.max_steps}")
        if self.epochs <= 0:
            raise InvalidInputError(f"epochs must be > 0, but got {self.epochs}")
        for name in ("encoder_lr", "head_lr"):
            if getattr(self, name) < 0:
                raise InvalidInputError(f"{name} must be >= 0, but got {getattr(self, name)}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise InvalidInputError(f"warmup_ratio must be in [0, 1), but got {self.warmup_ratio}")
        if self.scheduler not in ("linear", "cosine", "constant"):
            raise InvalidInputError(f"scheduler must be 'linear', 'cosine' or 'constant', but got {self.scheduler!r}")
        if self.mixed_precision not in (None, "bf16", "fp16"):
            raise InvalidInputError(f"mixed_precision must be None, 'bf16' or 'fp16', not {self.mixed_precision!r}")
        if self.metric_for_best not in ("macro_f1", "accuracy"):
            raise InvalidInputError(f"metric_for_best must be 'macro_f1' or 'accuracy', not {self.metric_for_best!r}")
        if self.eval_every is not None and self.eval_every < 1:
            raise InvalidInputError(f"eval_every must be >= 1 or None, but got {self.eval_every}")
        if self.listwise_coef < 0 or self.focal_coef < 0 or (self.contrastive_coef or 0) < 0:
            raise InvalidInputError("focal_coef, listwise_coef and contrastive_coef must be >= 0")
        if self.focal_coef == 0 and self.listwise_coef == 0:
            raise InvalidInputError("focal_coef and listwise_coef are both 0: there is nothing to train on")
        if self.max_length is not None and self.max_length < 16:
            raise InvalidInputError(f"max_length must be >= 16 or None, but got {self.max_length}")
