"""Supervised trainer: focal loss over label slots (+ listwise and contrastive terms), separate learning rates for
backbone and heads, gradient accumulation, evaluation with macro-F1, best-checkpoint keeping, a progress bar.

A failing step raises: nothing is swallowed (the reference returns loss 0 and moves on).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..pipeline import ZeroShotClassifier
from .arguments import TrainingArguments
from .batches import BatchBuilder, PlannedBatch, as_examples, progress_bar
from .data import TrainingExample, augment, load_examples
from .losses import focal_loss, label_contrastive_loss, listwise_loss

__all__ = ["EvalResult", "Trainer", "TrainingResult"]

BACKBONE_PREFIXES = ("model.encoder_model.", "model.label_encoder.")


@dataclass(frozen=True)
class EvalResult:
    loss: float
    macro_f1: float  # over label names, threshold 0.5 on the (bias-adjusted) sigmoid
    accuracy: float  # argmax == the positive, over rows with exactly one positive
    rows: int


@dataclass(frozen=True)
class TrainingResult:
    steps: int
    best_step: int | None
    best_metric: float | None  # TrainingArguments.metric_for_best at best_step
    logit_bias: float
    history: tuple[dict[str, float], ...]


class Trainer:
    """Train a :class:`ZeroShotClassifier`'s model in place on reference-format data."""

    def __init__(
        self,
        classifier: ZeroShotClassifier,
        args: TrainingArguments,
        train_data: Sequence[TrainingExample] | str | Path | Iterable[dict[str, Any]],
        eval_data: Sequence[TrainingExample] | str | Path | None = None,
        *,
        learn_logit_bias: bool = False,
        on_evaluate: Callable[[int, EvalResult], None] | None = None,
    ) -> None:
        self.classifier = classifier
        self.model = classifier.model
        self.args = args
        self.train_data: list[TrainingExample] | Path = (
            Path(train_data) if isinstance(train_data, (str, Path)) else as_examples(train_data)
        )
        self.eval_data = None if eval_data is None else as_examples(eval_data)
        config = self.model.config
        self.focal_alpha = config.focal_loss_alpha if args.focal_alpha is None else args.focal_alpha
        self.focal_gamma = config.focal_loss_gamma if args.focal_gamma is None else args.focal_gamma
        self.contrastive_coef = config.contrastive_loss_coef if args.contrastive_coef is None else args.contrastive_coef
        # A learned logit offset (sigmoid(z + b)); saved as the classifier's calibration bias after training.
        self.logit_bias = nn.Parameter(torch.zeros(()), requires_grad=learn_logit_bias)
        self.on_evaluate = on_evaluate
        self.rng = random.Random(args.seed)
        device = args.device or str(classifier.device)
        self.device = torch.device(device)
        self.model.to(self.device)
        self.batches = BatchBuilder(classifier, max_length=args.max_length, device=self.device)
        self.builder = self.batches.builder

    # --- batches ------------------------------------------------------------------------------------------
    def _iterate(self) -> Iterator[TrainingExample]:
        if isinstance(self.train_data, Path):  # stream a large file with a shuffle buffer
            buffer: list[TrainingExample] = []
            for example in load_examples(self.train_data):
                buffer.append(example)
                if len(buffer) >= 10_000:
                    yield buffer.pop(self.rng.randrange(len(buffer)))
            self.rng.shuffle(buffer)
            yield from buffer
            return
        order = list(range(len(self.train_data)))
        self.rng.shuffle(order)
        for index in order:
            yield self.train_data[index]

    def _forward(self, planned: PlannedBatch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Loss, logits (S, C) and targets (S, C) of a planned batch."""
        output = self.batches.forward(self.model, planned, mixed_precision=self.args.mixed_precision)
        logits = output.logits.float() + self.logit_bias  # (S, C)
        targets = planned.targets(logits)
        mask = output.label_mask
        loss = logits.sum() * 0.0
        if self.args.focal_coef:
            focal = focal_loss(logits, targets, mask, alpha=self.focal_alpha, gamma=self.focal_gamma)
            loss = loss + self.args.focal_coef * focal
        if self.args.listwise_coef:
            loss = loss + self.args.listwise_coef * listwise_loss(logits, targets, mask)
        if self.contrastive_coef:
            loss = loss + self.contrastive_coef * label_contrastive_loss(output.class_embeddings.float(), mask)
        return loss, logits.masked_fill(~mask, -1e4), targets

    # --- optimisation -------------------------------------------------------------------------------------
    def _optimizer(self) -> torch.optim.Optimizer:
        encoder: list[nn.Parameter] = []
        heads: list[nn.Parameter] = []
        for name, parameter in self.model.named_parameters():
            if not parameter.requires_grad:
                continue
            is_backbone = ("model." + name.removeprefix("model.")).startswith(BACKBONE_PREFIXES)
            if is_backbone and self.args.freeze_encoder:
                parameter.requires_grad_(False)
                continue
            (encoder if is_backbone else heads).append(parameter)
        groups = [
            {"params": encoder, "lr": self.args.encoder_lr, "weight_decay": self.args.encoder_weight_decay},
            {"params": heads, "lr": self.args.head_lr, "weight_decay": self.args.head_weight_decay},
        ]
        if self.logit_bias.requires_grad:  # far to travel, one number: its own learning rate
            groups.append({"params": [self.logit_bias], "lr": self.args.bias_lr, "weight_decay": 0.0})
        return torch.optim.AdamW([g for g in groups if g["params"]])

    def _schedule(self, total: int) -> Callable[[int], float]:
        warmup = int(total * self.args.warmup_ratio)

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / max(1, warmup)
            progress = (step - warmup) / max(1, total - warmup)
            if self.args.scheduler == "linear":
                return max(0.0, 1.0 - progress)
            if self.args.scheduler == "cosine":
                return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
            return 1.0

        return factor

    def _total_steps(self) -> int:
        if self.args.max_steps is not None:
            return self.args.max_steps
        if isinstance(self.train_data, Path):
            rows = sum(1 for _ in load_examples(self.train_data))
        else:
            rows = len(self.train_data)
        per_epoch = math.ceil(rows / (self.args.batch_size * self.args.gradient_accumulation_steps))
        return max(1, math.ceil(per_epoch * self.args.epochs))

    def train(self) -> TrainingResult:
        args = self.args
        torch.manual_seed(args.seed)
        total = self._total_steps()
        optimizer = self._optimizer()
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, self._schedule(total))
        spec = args.augmentation
        history: list[dict[str, float]] = []
        best: tuple[float, int, dict[str, torch.Tensor], float] | None = None
        progress = progress_bar(total, args.show_progress)
        step = 0
        stream = self._endless()
        self.model.train()
        while step < total:
            optimizer.zero_grad(set_to_none=True)
            losses = []
            for _ in range(args.gradient_accumulation_steps):
                examples = [augment(next(stream), spec, self.rng) for _ in range(args.batch_size)]
                loss, _, _ = self._forward(self.batches.plan(examples))
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"training loss became {loss.item()} at step {step}")
                (loss / args.gradient_accumulation_steps).backward()
                losses.append(loss.item())
            if args.max_grad_norm:
                params = [p for group in optimizer.param_groups for p in group["params"]]
                torch.nn.utils.clip_grad_norm_(params, args.max_grad_norm)
            optimizer.step()
            scheduler.step()
            step += 1
            record = {"step": float(step), "loss": float(np.mean(losses)), "lr": float(scheduler.get_last_lr()[-1])}
            if args.eval_every and self.eval_data and (step % args.eval_every == 0 or step == total):
                result = self.evaluate()
                record |= {"eval_loss": result.loss, "eval_macro_f1": result.macro_f1, "eval_accuracy": result.accuracy}
                if self.on_evaluate is not None:
                    self.on_evaluate(step, result)
                metric = getattr(result, args.metric_for_best)
                if best is None or metric > best[0]:
                    best = (metric, step, self._trainable_state(), float(self.logit_bias.detach()))
                    if args.output_dir and args.save_best:
                        self.save(Path(args.output_dir) / "best")
                self.model.train()
            history.append(record)
            progress.update(1)
            progress.set_postfix(loss=f"{record['loss']:.4f}")
        progress.close()
        self.model.eval()
        if best is not None and args.save_best:
            self.model.load_state_dict(best[2], strict=False)
            with torch.no_grad():
                self.logit_bias.fill_(best[3])
        self.classifier.engine.clear_label_cache()
        learned_bias = float(self.logit_bias.detach())
        if learned_bias:  # from now on the bias lives in the classifier's calibration (and is saved with it)
            calibration = self.classifier.calibration
            self.classifier.with_calibration(replace(calibration, bias=calibration.bias + learned_bias))
            with torch.no_grad():
                self.logit_bias.zero_()
        if args.output_dir:
            self.save(Path(args.output_dir) / "final")
        return TrainingResult(
            step,
            None if best is None else best[1],
            None if best is None else best[0],
            learned_bias,
            tuple(history),
        )

    def _endless(self) -> Iterator[TrainingExample]:
        while True:
            empty = True
            for example in self._iterate():
                empty = False
                yield example
            if empty:
                raise ValueError("the training data is empty")

    def _trainable_state(self) -> dict[str, torch.Tensor]:
        names = {n for n, p in self.model.named_parameters() if p.requires_grad}
        return {k: v.detach().clone() for k, v in self.model.state_dict().items() if k in names}

    def save(self, directory: Path) -> Path:
        """A standard checkpoint of the current weights (LoRA merged into a copy when present)."""
        from .lora import save_merged

        return save_merged(self.classifier, directory, logit_bias=float(self.logit_bias.detach()))

    # --- evaluation ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, data: Sequence[TrainingExample] | None = None) -> EvalResult:
        data = self.eval_data if data is None else data
        if not data:
            raise ValueError("no evaluation data")
        self.model.eval()
        losses, counts = [], []
        tallies: dict[str, list[int]] = {}
        correct = single = 0
        for start in range(0, len(data), self.args.eval_batch_size):
            examples = data[start : start + self.args.eval_batch_size]
            planned = self.batches.plan(examples)
            loss, logits, targets = self._forward(planned)
            losses.append(loss.item())
            counts.append(len(examples))
            for row, sequence in enumerate(planned.sequences):
                example = examples[sequence.request]
                predicted = (logits[row, : len(sequence.labels)] > 0).tolist()
                truth = (targets[row, : len(sequence.labels)] > 0.5).tolist()
                for index, p, t in zip(sequence.labels, predicted, truth, strict=True):
                    tp_fp_fn = tallies.setdefault(example.all_labels[index], [0, 0, 0])
                    tp_fp_fn[0] += int(p and t)
                    tp_fp_fn[1] += int(p and not t)
                    tp_fp_fn[2] += int(t and not p)
                if sum(truth) == 1 and len(sequence.labels) == len(example.all_labels):
                    single += 1
                    correct += int(int(torch.argmax(logits[row, : len(sequence.labels)])) == truth.index(True))
        f1s = [2 * tp / (2 * tp + fp + fn) for tp, fp, fn in tallies.values() if tp + fn > 0]
        return EvalResult(
            float(np.average(losses, weights=counts)),
            float(np.mean(f1s)) if f1s else 0.0,
            correct / single if single else 0.0,
            len(data),
        )
