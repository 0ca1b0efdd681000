"""Fast head training for bi-encoders on cached backbone features.

With the backbone frozen, a bi-encoder's pooled text and label vectors never change, so they are computed once and
the heads (projectors, logit scale, a logit bias) train on them for many epochs in seconds instead of hours. The
losses are the Trainer's (focal/BCE over each row's labels + a listwise term); the best epoch on the validation rows
(accuracy of the argmax over each row's labels) is kept.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from ..errors import InvalidInputError
from ..pipeline import ZeroShotClassifier
from .data import TrainingExample
from .losses import focal_loss, listwise_loss

__all__ = ["HeadTrainingResult", "train_bi_encoder_heads"]

BACKBONES = ("encoder_model.", "label_encoder.")


@dataclass(frozen=True)
class HeadTrainingResult:
    epochs: int
    best_epoch: int
    best_accuracy: float
    start_accuracy: float
    logit_bias: float
    history: tuple[tuple[float, float], ...]  # (train loss, validation accuracy) per epoch


@torch.no_grad()
def _pooled(classifier: ZeroShotClassifier, texts: Sequence[str], *, labels: bool, batch_size: int) -> torch.Tensor:
    """(N, D) pooled backbone vectors, before any projector."""
    network = classifier.model.model
    device = classifier.device
    out = []
    if labels:
        tokenizer: Any = classifier.label_tokenizer
        for start in range(0, len(texts), batch_size):
            encoded = tokenizer(list(texts[start : start + batch_size]), truncation=True, max_length=64,
                                padding="longest", return_tensors="pt")  # fmt: skip
            hidden = network.label_encoder(
                input_ids=encoded["input_ids"].to(device), attention_mask=encoded["attention_mask"].to(device)
            ).last_hidden_state
            out.append(network.pooler(hidden, encoded["attention_mask"].to(device).bool()))
        return torch.cat(out)
    engine = classifier.engine
    segments = engine.builder.segments
    ids = segments.encode([(None, text, None) for text in texts])
    limit = engine.builder.budget
    order = sorted(range(len(texts)), key=lambda i: -len(ids[i]))
    result = torch.zeros((len(texts), classifier.model.config.encoder_hidden_size))
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        framed = [segments.frame(ids[i][:limit]) for i in rows]
        longest = max(len(f) for f in framed)
        input_ids = torch.full((len(rows), longest), engine.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), longest), dtype=torch.long)
        for r, f in enumerate(framed):
            input_ids[r, : len(f)] = torch.tensor(f)
            mask[r, : len(f)] = 1
        hidden, _ = network.encode_sequence(input_ids.to(device), mask.to(device))
        result[rows] = network.pooler(hidden, mask.to(device).bool()).float().cpu()
    return result


def train_bi_encoder_heads(
    classifier: ZeroShotClassifier,
    train: Sequence[TrainingExample],
    validation: Sequence[TrainingExample],
    *,
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 1e-4,
    weight_decay: float = 0.01,
    listwise_coef: float = 1.0,
    bce_coef: float = 0.0,
    max_labels: int | None = 24,
    seed: int = 0,
    feature_batch_size: int = 64,
) -> HeadTrainingResult:
    """Train a bi-encoder's heads on cached features; the classifier ends with the best epoch's heads and the
    learned logit bias in its calibration.

    The default objective is listwise only (a softmax over each row's labels): it teaches the ranking that
    zero-shot argmax reads and puts no pressure on the absolute level of the scores, which a post-hoc calibration
    sets. ``bce_coef`` adds the per-label binary loss (with a learned bias).
    """
    model = classifier.model
    if model.config.architecture_type != "bi-encoder":
        raise InvalidInputError(
            f"cached-feature head training needs a bi-encoder, not {model.config.architecture_type}"
        )
    if not train or not validation:
        raise InvalidInputError("train and validation rows are both needed")
    rng = random.Random(seed)
    torch.manual_seed(seed)
    network = model.model
    texts = [e.text for e in train] + [e.text for e in validation]
    names = list(dict.fromkeys(label for e in [*train, *validation] for label in e.all_labels))
    text_vectors = _pooled(classifier, texts, labels=False, batch_size=feature_batch_size)  # (T, D)
    label_vectors = _pooled(classifier, [classifier.engine.builder.label_text(n) for n in names], labels=True,
                            batch_size=feature_batch_size).float().cpu()  # fmt: skip
    index = {name: i for i, name in enumerate(names)}
    heads = [p for n, p in network.named_parameters() if not n.startswith(BACKBONES)]
    bias = torch.zeros((), requires_grad=True)
    # The bias only matters to the BCE term and has far to go (cosines are mostly positive): its own learning rate.
    groups: list[dict[str, Any]] = [{"params": heads}, {"params": [bias], "lr": 0.05, "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)

    def logits_for(
        positions: Sequence[int], examples: Sequence[TrainingExample]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits (B, C), targets (B, C) and mask (B, C) of examples whose texts sit at ``positions``."""
        slots = max(len(e.all_labels) for e in examples)
        label_index = torch.zeros((len(examples), slots), dtype=torch.long)
        mask = torch.zeros((len(examples), slots), dtype=torch.bool)
        targets = torch.zeros((len(examples), slots))
        for i, example in enumerate(examples):
            label_index[i, : len(example.all_labels)] = torch.tensor([index[x] for x in example.all_labels])
            mask[i, : len(example.all_labels)] = True
            targets[i, : len(example.targets)] = torch.tensor(example.targets)
        text = network.project_text(text_vectors[list(positions)].to(model.dtype))  # (B, D)
        labels = network.normalize(network.classes_projector(network.biencoder_projector(label_vectors)))  # (N, D)
        scores = torch.einsum("bd,bcd->bc", text, labels[label_index]) * network.logit_scale + bias  # (B, C)
        return scores.masked_fill(~mask, -1e4), targets, mask

    @torch.no_grad()
    def accuracy() -> float:
        network.eval()
        hits = total = 0
        for start in range(0, len(validation), 256):
            rows = range(start, min(start + 256, len(validation)))
            scores, targets, _ = logits_for([len(train) + r for r in rows], [validation[r] for r in rows])
            for s, t in zip(scores, targets, strict=True):
                if float(t.sum()) == 1.0:
                    total += 1
                    hits += int(float(t[int(s.argmax())]) == 1.0)
        return hits / max(total, 1)

    def snapshot() -> dict[str, torch.Tensor]:
        return {n: p.detach().clone() for n, p in network.named_parameters() if not n.startswith(BACKBONES)}

    start_accuracy = accuracy()
    best = (start_accuracy, 0, snapshot(), 0.0)
    history = []
    for epoch in range(1, epochs + 1):
        network.train()
        order = list(range(len(train)))
        rng.shuffle(order)
        losses = []
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = [_capped(train[r], max_labels, rng) for r in rows]
            scores, targets, mask = logits_for(rows, batch)
            loss = listwise_coef * listwise_loss(scores, targets, mask)
            if bce_coef:
                loss = loss + bce_coef * focal_loss(scores, targets, mask, alpha=-1.0, gamma=0.0)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        score = accuracy()
        history.append((float(np.mean(losses)), score))
        if score > best[0]:
            best = (score, epoch, snapshot(), float(bias.detach()))
    network.load_state_dict(best[2], strict=False)
    network.eval()
    calibration = classifier.calibration
    classifier.with_calibration(replace(calibration, bias=calibration.bias + best[3]) if best[3] else calibration)
    classifier.engine.clear_label_cache()
    return HeadTrainingResult(epochs, best[1], best[0], start_accuracy, best[3], tuple(history))


def _capped(example: TrainingExample, max_labels: int | None, rng: random.Random) -> TrainingExample:
    if max_labels is None or len(example.all_labels) <= max_labels:
        return example
    positives = [i for i, t in enumerate(example.targets) if t > 0]
    negatives = [i for i, t in enumerate(example.targets) if t <= 0]
    keep = sorted(positives + rng.sample(negatives, max(0, max_labels - len(positives))))
    return TrainingExample(example.text, tuple(example.all_labels[i] for i in keep),
                           tuple(example.targets[i] for i in keep))  # fmt: skip
