"""Tiny GLiClass classifiers built in code for the guards' tests (no hub, no downloads), and a scripted scorer.

A trimmed copy of the engine's ``tests/tiny.py`` (the guards' tests run from their own directory): a word-piece
BERT tokenizer over a small generated vocabulary, a seeded random BERT backbone (hidden 32, 2 layers) and the
GLiClass heads. Scores are random but valid, which is what the integration tests need (shapes, arguments, one pass).

:class:`ScriptedScorer` is the backend seam for behaviour tests: a ``scores`` method whose scores follow a rule the
test states, recording every call.
"""

from __future__ import annotations

import inspect
import math
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from transformers import BertConfig, BertTokenizerFast

from gliclass_rag import GLiClassConfig, GLiClassModel, ZeroShotClassifier

MARKERS = ("<<LABEL>>", "<<SEP>>", "<<EXAMPLE>>")
_WORDS = """
the of and to a in is it you that was for on are with as they be at one have this from or had by not but what some
we can out other were all there when up use your how said an each which do their time if will way about many then
them would like so these long make thing see two has look more day could go come did number no most people my over
know water than call first who may down been now find any new work part take get place made live where after back
little only round man year came show every good give our under name very through just form sentence great think
say help low line turn cause much mean before move right old too same tell does set three want air well also play
small end put home read hand large even land here must big high such follow act why ask men change went light kind
off need house picture try again animal point mother world near build self earth father head stand own page should
country found answer school grow study still learn plant cover food sun four between state keep eye never last let
thought city tree cross farm hard start might story saw far sea draw left late run while press close night real
life few north open seem together next white children begin got walk example paper group always music those both
paris capital france tower built river bread bake bomb violence hate spam rule polite refund billing weather sports
"""


def build_tokenizer(*, markers: bool = True) -> BertTokenizerFast:
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    characters = string.ascii_lowercase + string.digits + string.punctuation
    vocab += list(characters) + [f"##{c}" for c in string.ascii_lowercase + string.digits]
    for word in _WORDS.split():
        if word not in vocab:
            vocab.append(word)
    if "vocab_file" in inspect.signature(BertTokenizerFast.__init__).parameters:  # transformers 4 wants a file
        import tempfile
        from pathlib import Path

        directory = Path(tempfile.mkdtemp(prefix="guards-tiny-vocab-"))
        (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
        tokenizer = BertTokenizerFast(vocab_file=str(directory / "vocab.txt"), do_lower_case=True)
    else:
        tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(vocab)}, do_lower_case=True)
    if markers:
        tokenizer.add_tokens(list(MARKERS), special_tokens=True)
    return tokenizer


def _encoder_config(vocab_size: int, hidden_size: int = 32) -> BertConfig:
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=512,
        pad_token_id=0,
    )


@torch.no_grad()
def _spread_weights(model: nn.Module, seed: int) -> None:
    generator = torch.Generator().manual_seed(1_000 + seed)
    for module in model.modules():
        if isinstance(module, nn.Linear):
            module.weight.copy_(torch.randn(module.weight.shape, generator=generator) / math.sqrt(module.in_features))
            if module.bias is not None:
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
        elif isinstance(module, nn.Embedding):
            module.weight.copy_(torch.randn(module.weight.shape, generator=generator))


def build_classifier(architecture: str = "uni-encoder", *, seed: int = 0) -> ZeroShotClassifier:
    """A tiny seeded random classifier (uni-encoder or bi-encoder)."""
    tokenizer = build_tokenizer()
    marker_ids = [tokenizer.convert_tokens_to_ids(marker) for marker in MARKERS]
    fields: dict[str, Any] = {
        "encoder_config": _encoder_config(len(tokenizer)).to_dict(),
        "architecture_type": architecture,
        "class_token_index": marker_ids[0],
        "text_token_index": marker_ids[1],
        "example_token_index": marker_ids[2],
        "vocab_size": len(tokenizer),
        "problem_type": "multi_label_classification",
        "dropout": 0.0,
    }
    label_tokenizer = None
    if architecture != "uni-encoder":
        label_tokenizer = build_tokenizer(markers=False)
        fields["label_model_config"] = _encoder_config(len(label_tokenizer), hidden_size=24).to_dict()
    torch.manual_seed(seed)
    model = GLiClassModel(GLiClassConfig(**fields))
    _spread_weights(model, seed)
    return ZeroShotClassifier(model.eval(), tokenizer, label_tokenizer=label_tokenizer)


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def overlap_score(text: str, label: str) -> float:
    """The share of the label's words found in the text (a support rule for hallucination tests)."""
    wanted = words(label)
    return len(wanted & words(text)) / len(wanted) if wanted else 0.0


def keyword_score(text: str, label: str) -> float:
    """0.9 when the label's name (before any ': description') occurs in the text, else 0.1."""
    name = label.split(":")[0].strip().lower()
    return 0.9 if name in text.lower() else 0.1


@dataclass
class ScriptedScorer:
    """A stand-in model: ``rule(text, label) -> score``; ``calls`` records the arguments of every call."""

    rule: Callable[[str, str], float] = keyword_score
    calls: list[dict[str, Any]] = field(default_factory=list)
    error: Exception | None = None

    def scores(
        self,
        texts: list[str],
        labels: list[str] | list[list[str]],
        *,
        multi_label: bool = True,
        prompt: str | Sequence[str] | None = None,
        label_descriptions: Mapping[str, str] | None = None,
        batch_size: int = 8,
    ) -> list[dict[str, float]]:
        self.calls.append(
            {
                "texts": list(texts),
                "labels": labels,
                "multi_label": multi_label,
                "prompt": prompt,
                "label_descriptions": label_descriptions,
                "batch_size": batch_size,
            }
        )
        if self.error is not None:
            raise self.error
        per_text = labels if labels and not isinstance(labels[0], str) else [labels] * len(texts)
        return [
            {label: self.rule(text, label) for label in row}  # type: ignore[union-attr]
            for text, row in zip(texts, per_text, strict=True)
        ]
