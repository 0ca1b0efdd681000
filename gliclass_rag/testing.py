"""Tiny seeded random GLiClass models built in code, for tests of code built on gliclass-rag (no hub, no downloads).

``build_tokenizer()`` is a word-piece BERT tokenizer over a generated vocabulary with the three GLiClass markers
added as special tokens. ``build_classifier(architecture, ...)`` is a seeded random :class:`ZeroShotClassifier`
(BERT backbone, hidden 32, 2 layers) whose weights are spread out and whose final logits are rescaled on a probe
set, so that scores sit well away from 0.5 and a wrong formula cannot hide behind a flat output. Such models run
fastest on one thread (``torch.set_num_threads(1)`` in your test setup). The scores mean nothing: use them for
plumbing tests (adapters, serialisation, batching), not for quality.
"""

from __future__ import annotations

import inspect
import math
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import BertConfig, BertModel, BertTokenizerFast  # type: ignore[attr-defined]

from .config import GLiClassConfig
from .inputs import Request
from .modeling.model import GLiClassModel
from .pipeline import ZeroShotClassifier

__all__ = [
    "ARCHITECTURES",
    "HIDDEN",
    "LABELS",
    "MARKERS",
    "PROBE_TEXTS",
    "build_classifier",
    "build_tokenizer",
    "encoder_config",
    "probe_scores",
    "save_tiny_bert",
    "vocabulary",
]

HIDDEN = 32
LAYERS = 2
LABEL_HIDDEN = 24  # the bi-encoders' label encoder differs from the text encoder, so projector shapes matter
MARKERS = ("<<LABEL>>", "<<SEP>>", "<<EXAMPLE>>")
ARCHITECTURES = ("uni-encoder", "bi-encoder", "bi-encoder-fused")

PROBE_TEXTS = (
    "The team won the final match last night.",
    "Scientists found a new planet near a small star and the discovery could change how we think about life.",
    "Stocks fell sharply today.",
    "My new phone has a great camera but the battery is bad so I want to return it to the store next week.",
)
LABELS = ("sports", "science", "business", "politics", "technology", "health", "travel")

_WORDS = """
the of and to a in is it you that he was for on are with as i his they be at one have this from or had by not but
what some we can out other were all there when up use your how said an each she which do their time if will way
about many then them write would like so these her long make thing see him two has look more day could go come did
number no most people my over know water than call first who may down side been now find any new work part take get
place made live where after back little only round man year came show every good me give our under name very through
just form sentence great think say help low line turn cause much mean before move right boy old too same tell does
set three want air well also play small end put home read hand large even land here must big high such follow act
why ask men change went light kind off need house picture try us again animal point mother world near build self
earth father head stand own page should country found answer school grow study still learn plant cover food sun
four between state keep eye never last let thought city tree cross farm hard start might story saw far sea draw
left late run while press close night real life few north open seem together next white children begin got walk
example paper group always music those both mark often letter until mile river car feet care second book carry took
science eat room friend began idea fish mountain stop once base hear horse cut sure watch color face wood main
enough girl young ready above ever red list though feel talk bird soon body dog family direct leave song door black
short class wind question happen complete ship area half rock order fire south problem piece told knew pass since
top whole king space heard best hour better true during hundred five remember step early hold west ground reach fast
six table travel less morning ten simple several toward war against pattern slow center love person money serve
appear road map rain rule pull cold voice unit power town fine certain fly fall lead cry dark machine note wait plan
figure star box field rest correct able done drive stood front teach week final gave green quick develop ocean warm
free minute strong special mind behind clear produce fact street full force blue object decide surface deep moon
island foot system busy test record boat common gold possible plane dry laugh ago ran check game shape hot miss
brought heat snow bring yes distant fill east paint language among sports politics business technology health
entertainment finance education weather crime positive negative neutral news topic text classify label labels team
won match scientists planet discovery stocks fell sharply today phone camera battery bad return store company
reported profits player scored goals election government vote minister doctor hospital medicine computer software
data market price bank film movie actor happy sad angry review customer service shipping delivery quality item
arrived damaged support rude loved works perfectly amazing sentiment urgent spam request complaint praise query
passage rocket orbit launch
"""


def vocabulary() -> list[str]:
    """BERT specials, single characters (with ``##`` continuations) and a few hundred lower-case words."""
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    characters = string.ascii_lowercase + string.digits + string.punctuation
    tokens += list(characters)
    tokens += [f"##{character}" for character in string.ascii_lowercase + string.digits]
    seen = set(tokens)
    for word in _WORDS.split():
        if word not in seen:
            seen.add(word)
            tokens.append(word)
    return tokens


def build_tokenizer(*, markers: bool = True) -> BertTokenizerFast:
    """An uncased word-piece BERT tokenizer; ``markers`` adds ``<<LABEL>>``, ``<<SEP>>``, ``<<EXAMPLE>>``."""
    vocab = vocabulary()
    parameters = inspect.signature(BertTokenizerFast.__init__).parameters
    if "vocab_file" in parameters:  # transformers 4 wants a file
        import tempfile

        directory = Path(tempfile.mkdtemp(prefix="tiny-vocab-"))
        (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
        tokenizer = BertTokenizerFast(vocab_file=str(directory / "vocab.txt"), do_lower_case=True)
    else:  # transformers 5: the vocabulary itself
        tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(vocab)}, do_lower_case=True)
    if markers:
        tokenizer.add_tokens(list(MARKERS), special_tokens=True)
    return tokenizer


def encoder_config(vocab_size: int, hidden_size: int = HIDDEN, num_layers: int = LAYERS) -> BertConfig:
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=512,
        pad_token_id=0,
    )


@torch.no_grad()
def _spread_weights(model: nn.Module, seed: int) -> None:
    """Seeded fan-in scaled weights: peaky attention (masks and positions matter) and logits that spread."""
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
        elif isinstance(module, nn.LSTM):
            for parameter in module.parameters():
                normal_(parameter, 1.0 / math.sqrt(module.hidden_size))


def _probe_logits(classifier: ZeroShotClassifier) -> np.ndarray:
    requests = [Request(text, LABELS) for text in PROBE_TEXTS]
    rows = classifier.engine.logits(requests, chunking=classifier.chunking, batch_size=8)
    classifier.engine.clear_label_cache()
    return np.stack(rows)  # (texts, labels)


def _last_linear(module: nn.Module) -> nn.Linear:
    return [child for child in module.modules() if isinstance(child, nn.Linear)][-1]


@torch.no_grad()
def _mean_label_vectors(classifier: ZeroShotClassifier) -> torch.Tensor:
    """(texts, hidden): the mean of each probe text's label vectors as the scorer receives them."""
    captured: list[torch.Tensor] = []

    def hook(_module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        captured.append(args[1].mean(dim=1))  # (B, D): every probe text has all its labels in one sequence

    handle = classifier.model.model.scorer.register_forward_pre_hook(hook)
    try:
        _probe_logits(classifier)
    finally:
        handle.remove()
    return torch.cat(captured)


@torch.no_grad()
def _rescale(classifier: ZeroShotClassifier, target_std: float) -> None:
    """Bring probe logits to mean ~0 and spread ``target_std`` whatever the seed and architecture.

    A dot scorer has no bias to shift: the text projector's output is made orthogonal to each probe text's mean
    label vector (removing the offset a text's labels share), then scaled. Scorers with a final linear layer get
    an affine correction there.
    """
    net = classifier.model.model
    config = classifier.model.config
    scaled = config.architecture_type != "uni-encoder" or config.normalize_features
    if config.scorer_type == "simple" and not config.normalize_features:
        basis, _ = torch.linalg.qr(_mean_label_vectors(classifier).T.double())  # (D, texts)
        projection = (torch.eye(basis.shape[0], dtype=torch.float64) - basis @ basis.T).float()
        linear = net.text_projector.linear_2
        linear.weight.copy_(projection @ linear.weight)
        linear.bias.copy_(projection @ linear.bias)
    logits = _probe_logits(classifier)
    factor = target_std / max(float(logits.std()), 1e-6)
    if config.scorer_type == "simple":
        if scaled:
            net.logit_scale.mul_(factor)
        else:
            net.text_projector.linear_2.weight.mul_(factor)
            net.text_projector.linear_2.bias.mul_(factor)
    else:
        last = _last_linear(net.scorer)
        last.weight.mul_(factor)
        last.bias.mul_(factor)
        offset = float(_probe_logits(classifier).mean())
        last.bias.sub_(offset / (float(net.logit_scale) if scaled else 1.0))


def build_classifier(
    architecture: str = "uni-encoder",
    *,
    seed: int = 0,
    target_std: float = 2.0,
    label_hidden_size: int = LABEL_HIDDEN,
    **overrides: Any,
) -> ZeroShotClassifier:
    """A tiny seeded random classifier; ``overrides`` are GLiClassConfig fields (pooling_strategy, scorer_type...)."""
    tokenizer = build_tokenizer()
    marker_ids = [tokenizer.convert_tokens_to_ids(marker) for marker in MARKERS]
    fields: dict[str, Any] = {
        "encoder_config": encoder_config(len(tokenizer)).to_dict(),
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
        fields["label_model_config"] = encoder_config(len(label_tokenizer), hidden_size=label_hidden_size).to_dict()
    fields.update(overrides)
    config = GLiClassConfig(**fields)
    torch.manual_seed(seed)
    model = GLiClassModel(config)
    _spread_weights(model, seed)
    with torch.no_grad():
        model.model.logit_scale.fill_(3.0)
    classifier = ZeroShotClassifier(model.eval(), tokenizer, label_tokenizer=label_tokenizer)
    if target_std:
        _rescale(classifier, target_std)
    return classifier


def save_tiny_bert(directory: str | Path, *, seed: int = 0, pooler: bool = True) -> Path:
    """A plain BERT backbone directory (config.json, model.safetensors, tokenizer) without the GLiClass markers.

    ``pooler=False`` saves no pooler head (as ``BertModel(add_pooling_layer=False)`` and many exports do).
    """
    directory = Path(directory)
    tokenizer = build_tokenizer(markers=False)
    torch.manual_seed(seed)
    model = BertModel(encoder_config(len(tokenizer)), add_pooling_layer=pooler)
    _spread_weights(model, seed)
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return directory


def probe_scores(classifier: ZeroShotClassifier, texts: Sequence[str] = PROBE_TEXTS) -> np.ndarray:
    """Multi-label scores (texts, labels) of the probe set."""
    rows = classifier.scores(list(texts), list(LABELS))
    return np.array([[row[label] for label in LABELS] for row in rows])
