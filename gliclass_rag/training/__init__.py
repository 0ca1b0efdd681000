"""Training: reference-format data, the supervised trainer, LoRA through peft, and the PPO trainer."""

from .arguments import TrainingArguments
from .data import Augmentation, DataError, TrainingExample, augment, load_examples, parse_example
from .ppo import (
    PPOArguments,
    PPOResult,
    PPOTrainer,
    RewardFn,
    accuracy_reward,
    f1_reward,
    precision_reward,
    recall_reward,
)
from .trainer import EvalResult, Trainer, TrainingResult

__all__ = [
    "Augmentation",
    "DataError",
    "EvalResult",
    "PPOArguments",
    "PPOResult",
    "PPOTrainer",
    "RewardFn",
    "Trainer",
    "TrainingArguments",
    "TrainingExample",
    "TrainingResult",
    "accuracy_reward",
    "augment",
    "f1_reward",
    "load_examples",
    "parse_example",
    "precision_reward",
    "recall_reward",
]
