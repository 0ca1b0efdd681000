"""A tiny seeded random GLiClass classifier built in code (no hub, no downloads), for plumbing tests.

Trimmed from the engine's ``tests/tiny.py`` (uni-encoder, simple dot scorer only): a word-piece BERT tokenizer
over a generated vocabulary plus the GLiClass markers, a BERT backbone (hidden 32, 2 layers) with spread-out
weights, and logits rescaled on a probe set so that scores sit well away from 0.5 and differ between texts.
"""

from __future__ import annotations

import math
import string

import numpy as np
import torch
from torch import nn
from transformers import BertConfig, BertTokenizerFast

from gliclass_rag import GLiClassConfig, GLiClassModel, ZeroShotClassifier
from gliclass_rag.inputs import Request

__all__ = ["build_classifier"]

HIDDEN = 32
MARKERS = ("<<LABEL>>", "<<SEP>>", "<<EXAMPLE>>")
PROBE_LABELS = ("sports", "science", "business", "politics", "technology", "health", "travel")
PROBE_TEXTS = (
    "The team won the final match last night.",
    "Scientists found a new planet near a small star and the discovery could change how we think about life.",
    "Stocks fell sharply today.",
    "My new phone has a great camera but the battery is bad so I want to return it to the store next week.",
)
_WORDS = """
the of and to a in is it you that he was for on are with as i his they be at one have this from or had by not but
what some we can out other were all there when up use your how said an each she which do their time if will way
about many then them write would like so these her long make thing see him two has look more day could go come did
number no most people my over know water than call first who may down side been now find any new work part take get
place made live where after back little only round man year came show every good me give our under name very through
science planet star space rocket orbit launch moon earth team won match game player scored goals sports stocks fell
market price bank money business company profits election government vote minister politics doctor hospital health
medicine computer software data technology phone camera battery travel city country food cook recipe bread oven bake
review customer service shipping delivery quality spam advertisement news weather rain sun
"""


def _tokenizer() -> BertTokenizerFast:
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += list(string.ascii_lowercase + string.digits + string.punctuation)
    tokens += [f"##{character}" for character in string.ascii_lowercase + string.digits]
    for word in _WORDS.split():
        if word not in tokens:
            tokens.append(word)
    tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(tokens)}, do_lower_case=True)
    tokenizer.add_tokens(list(MARKERS), special_tokens=True)
    return tokenizer


@torch.no_grad()
def _spread_weights(model: nn.Module, seed: int) -> None:
    generator = torch.Generator().manual_seed(1_000 + seed)

    def normal_(tensor: torch.Tensor, std: float, mean: float = 0.0) -> None:
        tensor.copy_(torch.randn(tensor.shape, generator=generator) * std + mean)

    for module in model.modules():
        if isinstance(module, nn.Linear):
            normal_(module.weight, 1.0 / math.sqrt(module.in_features))
            if module.bias is not None:
                normal_(module.bias, 0.1)
        elif isinstance(module, nn.Embedding):
            normal_(module.weight, 1.0)
        elif isinstance(module, nn.LayerNorm):
            normal_(module.weight, 0.1, mean=1.0)
            normal_(module.bias, 0.1)


def _probe_logits(classifier: ZeroShotClassifier) -> np.ndarray:
    requests = [Request(text, PROBE_LABELS) for text in PROBE_TEXTS]
    rows = classifier.engine.logits(requests, chunking=classifier.chunking, batch_size=8)
    classifier.engine.clear_label_cache()
    return np.stack(rows)  # (texts, labels)


@torch.no_grad()
def _rescale(classifier: ZeroShotClassifier, target_std: float) -> None:
    """Probe logits to mean ~0 and spread ``target_std``: project out each probe text's mean label vector from
    the text projector (a dot scorer has no bias to shift), then scale it."""
    captured: list[torch.Tensor] = []

    def hook(_module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        captured.append(args[1].mean(dim=1))  # (batch, hidden): mean label vector per text

    net = classifier.model.model
    handle = net.scorer.register_forward_pre_hook(hook)
    try:
        _probe_logits(classifier)
    finally:
        handle.remove()
    basis, _ = torch.linalg.qr(torch.cat(captured).T.double())  # (hidden, texts)
    projection = (torch.eye(basis.shape[0], dtype=torch.float64) - basis @ basis.T).float()
    linear = net.text_projector.linear_2
    linear.weight.copy_(projection @ linear.weight)
    linear.bias.copy_(projection @ linear.bias)
    factor = target_std / max(float(_probe_logits(classifier).std()), 1e-6)
    linear.weight.mul_(factor)
    linear.bias.mul_(factor)


def build_classifier(seed: int = 0, target_std: float = 2.0) -> ZeroShotClassifier:
    """A tiny seeded random uni-encoder classifier; the same seed gives the same scores."""
    tokenizer = _tokenizer()
    markers = [tokenizer.convert_tokens_to_ids(marker) for marker in MARKERS]
    encoder = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=2 * HIDDEN,
        max_position_embeddings=512,
        pad_token_id=0,
    )
    config = GLiClassConfig(
        encoder_config=encoder.to_dict(),
        architecture_type="uni-encoder",
        class_token_index=markers[0],
        text_token_index=markers[1],
        example_token_index=markers[2],
        vocab_size=len(tokenizer),
        problem_type="multi_label_classification",
        dropout=0.0,
    )
    torch.manual_seed(seed)
    model = GLiClassModel(config)
    _spread_weights(model, seed)
    with torch.no_grad():
        model.model.logit_scale.fill_(3.0)
    classifier = ZeroShotClassifier(model.eval(), tokenizer)
    _rescale(classifier, target_std)
    return classifier
