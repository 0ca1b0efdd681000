"""Training: reference-format data, the supervised trainer, LoRA through peft, and the PPO trainer."""

from .arguments import TrainingArguments
from .data import Augmentation, DataError, TrainingExample, augment, load_examples, parse_example
from .trainer import EvalResult, Trainer, TrainingResult

__all__ = [
    "Augmentation",
    "DataError",
    "EvalResult",
    "Trainer",
    "TrainingArguments",
    "TrainingExample",
    "TrainingResult",
    "augment",
    "load_examples",
    "parse_example",
]
