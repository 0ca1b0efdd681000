"""Tiny GLiClass checkpoints written by the reference library, and the reference's scores for them.

Test-only helpers: the reference package ``gliclass`` (the ``test`` extra) is used here as an oracle, never by the
product. Everything is built in code — vocabulary, tokenizer, backbone and heads — so no hub access is needed.

``build_reference_checkpoint`` saves a randomly initialised ``gliclass.GLiClassModel`` whose weights were then
spread out (seeded) so that scores sit well away from 0.5 and a wrong formula cannot hide behind a flat output;
``reference_scores`` loads a checkpoint with the reference library and returns its probabilities for every label.
"""

from __future__ import annotations

import functools
import inspect
import math
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertTokenizerFast,
    DebertaV2Config,
    PretrainedConfig,
    PreTrainedTokenizerBase,
)

__all__ = [
    "ARCHITECTURES",
    "BACKBONES",
    "EXAMPLES",
    "LABELS_1",
    "LABELS_3",
    "LABELS_7",
    "LABEL_TOKENIZER_DIR",
    "PROMPT",
    "SPECIAL_TOKENS",
    "TEXTS",
    "build_reference_checkpoint",
    "build_tokenizer",
    "load_reference",
    "reference_logits",
    "reference_scores",
]

SPECIAL_TOKENS = ("<<LABEL>>", "<<SEP>>", "<<EXAMPLE>>")
BACKBONES = ("bert", "deberta-v2")
ARCHITECTURES = ("uni-encoder", "bi-encoder", "bi-encoder-fused")
LABEL_TOKENIZER_DIR = "label_tokenizer"

# Sentences of clearly different lengths (the batch tests rely on it) made of words in the vocabulary.
TEXTS = (
    "The team won the final match last night.",
    "Scientists found a new planet near a small star, and the discovery could change how we think about life in space.",
    "Stocks fell sharply today.",
    "My new phone has a great camera but the battery is bad, so I want to return it to the store next week.",
)
LABELS_1 = ("sports",)
LABELS_3 = ("sports", "science", "business")
LABELS_7 = ("sports", "science", "business", "politics", "technology", "health", "travel")
PROMPT = "Classify the topic of this news text:"
EXAMPLES = (
    {"text": "The company reported record profits this year.", "labels": ["business"]},
    {"text": "The player scored two goals in the game.", "labels": ["sports", "health"]},
)

_COMMON_WORDS = """
the of and to a in is it you that he was for on are with as i his they be at one have this from or had by not
word but what some we can out other were all there when up use your how said an each she which do their time if
will way about many then them write would like so these her long make thing see him two has look more day could go
come did number sound no most people my over know water than call first who may down side been now find any new
work part take get place made live where after back little only round man year came show every good me give our
under name very through just form sentence great think say help low line differ turn cause much mean before move
right boy old too same tell does set three want air well also play small end put home read hand port large spell
add even land here must big high such follow act why ask men change went light kind off need house picture try us
again animal point mother world near build self earth father head stand own page should country found answer
school grow study still learn plant cover food sun four between state keep eye never last let thought city tree
cross farm hard start might story saw far sea draw left late run while press close night real life few north open
seem together next white children begin got walk example ease paper group always music those both mark often
letter until mile river car feet care second book carry took science eat room friend began idea fish mountain stop
once base hear horse cut sure watch color face wood main enough plain girl usual young ready above ever red list
though feel talk bird soon body dog family direct pose leave song measure door product black short numeral class
wind question happen complete ship area half rock order fire south problem piece told knew pass since top whole
king space heard best hour better true during hundred five remember step early hold west ground interest reach
fast verb sing listen six table travel less morning ten simple several toward war lay against pattern slow center
love person money serve appear road map rain rule govern pull cold notice voice unit power town fine certain fly
fall lead cry dark machine note wait plan figure star box noun field rest correct able pound done beauty drive
stood contain front teach week final gave green oh quick develop ocean warm free minute strong special mind behind
clear tail produce fact street inch multiply nothing course stay wheel full force blue object decide surface deep
moon island foot system busy test record boat common gold possible plane stead dry wonder laugh thousand ago ran
check game shape equate hot miss brought heat snow tire bring yes distant fill east paint language among
sports politics business technology health entertainment finance education weather crime positive negative neutral
news topic text classify label labels team won match scientists planet discovery stocks fell sharply today phone
camera battery bad return store company reported profits player scored goals election government vote minister
doctor hospital medicine computer software data market price bank film movie actor happy sad angry review customer
service shipping delivery quality item arrived damaged support rude unhelpful loved works perfectly slow amazing
this that sentiment urgent spam question request complaint praise
"""


def _vocabulary() -> list[str]:
    """Special tokens, characters (with ``##`` continuations) and a few hundred common English words."""
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    characters = string.ascii_lowercase + string.ascii_uppercase + string.digits + string.punctuation
    tokens += list(characters)
    tokens += [f"##{character}" for character in string.ascii_lowercase + string.ascii_uppercase + string.digits]
    seen = set(tokens)
    for word in _COMMON_WORDS.split():
        if word not in seen:
            seen.add(word)
            tokens.append(word)
    return tokens


def build_tokenizer(
    directory: str | Path | None = None, *, lowercase: bool = True, special_tokens: bool = True
) -> PreTrainedTokenizerBase:
    """A word-piece BERT tokenizer over :func:`_vocabulary`, with the three GLiClass markers as added tokens.

    ``lowercase=False`` gives a cased tokenizer (``"Sports"`` and ``"sports"`` then tokenize differently).
    ``special_tokens=False`` leaves the markers out (a bi-encoder's label tokenizer).
    """
    vocabulary = _vocabulary()
    if directory is not None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        vocab_file = Path(directory) / "vocab.txt"
        vocab_file.write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    parameters = inspect.signature(BertTokenizerFast.__init__).parameters
    if "vocab_file" in parameters and directory is not None:  # transformers 4
        tokenizer = BertTokenizerFast(vocab_file=str(vocab_file), do_lower_case=lowercase)
    else:  # transformers 5: a single tokenizers-backed class taking the vocabulary itself
        tokenizer = BertTokenizerFast(
            vocab={token: index for index, token in enumerate(vocabulary)}, do_lower_case=lowercase
        )
    if special_tokens:
        tokenizer.add_tokens(list(SPECIAL_TOKENS), special_tokens=True)
    return tokenizer


def _backbone_config(backbone: str, *, vocab_size: int, hidden_size: int, num_layers: int = 2) -> PretrainedConfig:
    common = {
        "vocab_size": vocab_size,
        "hidden_size": hidden_size,
        "num_hidden_layers": num_layers,
        "num_attention_heads": 4,
        "intermediate_size": 2 * hidden_size,
        "max_position_embeddings": 512,
        "pad_token_id": 0,
    }
    if backbone == "bert":
        return BertConfig(**common)
    if backbone == "deberta-v2":
        # The DeBERTa-v3 layout that the published GLiClass models use.
        return DebertaV2Config(
            **common,
            type_vocab_size=0,
            relative_attention=True,
            max_relative_positions=-1,
            position_buckets=256,
            norm_rel_ebd="layer_norm",
            share_att_key=True,
            pos_att_type=["p2c", "c2p"],
            position_biased_input=False,
            layer_norm_eps=1e-7,
        )
    msg = f"backbone must be one of {BACKBONES}, but got {backbone!r}"
    raise ValueError(msg)


@torch.no_grad()
def _spread_weights(model: nn.Module, *, seed: int, gain: float, logit_scale: float) -> None:
    """Overwrite every weight with seeded values of a useful size.

    The reference initialises with std 0.03, which leaves attention almost uniform and every score near 0.5;
    fan-in scaled weights make attention peaky (so masks and positions matter) and logits spread.
    """
    generator = torch.Generator().manual_seed(10_000 + seed)

    def normal_(tensor: torch.Tensor, std: float, mean: float = 0.0) -> None:
        tensor.copy_(torch.randn(tensor.shape, generator=generator, dtype=torch.float32) * std + mean)

    for module in model.modules():
        if isinstance(module, nn.Linear):
            normal_(module.weight, gain / math.sqrt(module.in_features))
            if module.bias is not None:
                normal_(module.bias, 0.1)
        elif isinstance(module, nn.Embedding):
            normal_(module.weight, 1.0)
        elif isinstance(module, nn.LayerNorm):
            if module.weight is not None:
                normal_(module.weight, 0.1, mean=1.0)
            if module.bias is not None:
                normal_(module.bias, 0.1)
        elif isinstance(module, nn.LSTM):
            for parameter in module.parameters():
                normal_(parameter, 1.0 / math.sqrt(module.hidden_size))
    for name, parameter in model.named_parameters():
        if name.endswith("logit_scale"):
            parameter.fill_(logit_scale)


def _last_linear(module: nn.Module) -> nn.Linear:
    linears = [child for child in module.modules() if isinstance(child, nn.Linear)]
    return linears[-1]


@torch.no_grad()
def _probe_logits(model: nn.Module, pipeline: Any, capture: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
    """Logits of the probe set (every text of TEXTS against LABELS_7), optionally capturing the scorer's inputs."""
    handle = None
    if capture is not None:

        def hook(_module: nn.Module, args: tuple[torch.Tensor, ...], _kwargs: dict[str, Any]) -> None:
            capture["text"], capture["labels"] = args[0], args[1]

        handle = model.model.scorer.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        labels = list(LABELS_7)
        inputs = pipeline.pipe.prepare_inputs(list(TEXTS), labels, True)
        return model(**inputs, max_num_classes=len(labels)).logits.float()
    finally:
        if handle is not None:
            handle.remove()


def _spread(logits: torch.Tensor) -> float:
    """Standard deviation of the logits across the labels of each text (what a score spread needs)."""
    return float((logits - logits.mean(dim=-1, keepdim=True)).pow(2).mean().sqrt())


@torch.no_grad()
def _calibrate(model: nn.Module, tokenizer: PreTrainedTokenizerBase, *, target_std: float) -> None:
    """Bring the probe logits to mean ~0 and a spread across labels of ``target_std``, whatever the seed.

    Scorers with a final linear layer get an exact affine correction there. The dot-product scorer has no bias to
    shift, so the text projector's output is made orthogonal to each probe text's mean label vector (which removes
    the offset that all labels of a text share) and then scaled — through ``logit_scale`` where the reference
    applies it.
    """
    import gliclass

    config = model.config
    inner = model.model
    scaled_by_logit_scale = config.normalize_features or config.architecture_type != "uni-encoder"
    logit_scale = float(inner.logit_scale) if scaled_by_logit_scale else 1.0
    pipeline = gliclass.ZeroShotClassificationPipeline(model, tokenizer, device="cpu", progress_bar=False)

    if config.scorer_type == "simple":
        capture: dict[str, torch.Tensor] = {}
        _probe_logits(model, pipeline, capture)
        mean_labels = capture["labels"].mean(dim=1)  # (texts, hidden): each probe text's mean label vector
        basis, _ = torch.linalg.qr(mean_labels.T.double())  # (hidden, texts), orthonormal columns
        projection = (torch.eye(basis.shape[0], dtype=torch.float64) - basis @ basis.T).float()
        linear = inner.text_projector.linear_2
        linear.weight.copy_(projection @ linear.weight)
        linear.bias.copy_(projection @ linear.bias)
        factor = target_std / _spread(_probe_logits(model, pipeline))
        if scaled_by_logit_scale:
            inner.logit_scale.mul_(factor)
        else:
            linear.weight.mul_(factor)
            linear.bias.mul_(factor)
    else:
        logits = _probe_logits(model, pipeline)
        factor = target_std / _spread(logits)
        linear = _last_linear(inner.scorer)
        linear.weight.mul_(factor)
        linear.bias.mul_(factor).sub_(factor * float(logits.mean()) / logit_scale)


def build_reference_checkpoint(
    directory: str | Path,
    *,
    backbone: str = "bert",
    architecture: str = "uni-encoder",
    seed: int = 0,
    encoder_hidden_size: int = 32,
    label_backbone: str = "bert",
    label_hidden_size: int = 48,
    lowercase: bool = True,
    gain: float = 1.0,
    logit_scale: float = 3.0,
    calibrate: bool = True,
    target_logit_std: float = 2.0,
    **config_overrides: Any,
) -> Path:
    """Build, spread and save a tiny reference GLiClass checkpoint; return its directory.

    ``config_overrides`` go to ``gliclass.GLiClassModelConfig`` (``pooling_strategy``, ``scorer_type``, ...).
    Bi-encoders get a label tokenizer in ``<directory>/label_tokenizer`` and ``label_model_name`` is set to its
    absolute path (the reference loads it with ``AutoTokenizer.from_pretrained(label_model_name)``); the label
    backbone is ``label_backbone`` with ``label_hidden_size`` so that it differs from the text encoder.
    """
    import gliclass  # the oracle: imported lazily so that this module imports without the test extra

    if architecture not in ARCHITECTURES:
        msg = f"architecture must be one of {ARCHITECTURES}, but got {architecture!r}"
        raise ValueError(msg)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)

    tokenizer = build_tokenizer(directory, lowercase=lowercase)
    encoder_config = _backbone_config(backbone, vocab_size=len(tokenizer), hidden_size=encoder_hidden_size)

    fields: dict[str, Any] = {
        "encoder_config": encoder_config.to_dict(),
        "encoder_model": f"tiny-{backbone}",
        "architecture_type": architecture,
        "class_token_index": tokenizer.convert_tokens_to_ids("<<LABEL>>"),
        "text_token_index": tokenizer.convert_tokens_to_ids("<<SEP>>"),
        "example_token_index": tokenizer.convert_tokens_to_ids("<<EXAMPLE>>"),
        "vocab_size": len(tokenizer),
    }
    if architecture != "uni-encoder":
        label_directory = directory / LABEL_TOKENIZER_DIR
        label_tokenizer = build_tokenizer(label_directory, lowercase=lowercase, special_tokens=False)
        label_tokenizer.save_pretrained(str(label_directory))
        label_config = _backbone_config(label_backbone, vocab_size=len(label_tokenizer), hidden_size=label_hidden_size)
        fields["label_model_config"] = label_config.to_dict()
        fields["label_model_name"] = str(label_directory.resolve())
    fields.update(config_overrides)
    config = gliclass.GLiClassModelConfig(**fields)

    torch.manual_seed(seed)
    model = gliclass.GLiClassModel(config)
    _spread_weights(model, seed=seed, gain=gain, logit_scale=logit_scale)
    model.eval()
    if calibrate:
        _calibrate(model, tokenizer, target_std=target_logit_std)
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return directory


@functools.lru_cache(maxsize=16)
def _cached_reference(directory: str, stamp: float):
    import gliclass

    model = gliclass.GLiClassModel.from_pretrained(directory)
    tokenizer = AutoTokenizer.from_pretrained(directory)
    pipeline = gliclass.ZeroShotClassificationPipeline(model, tokenizer, device="cpu", progress_bar=False)
    return model, tokenizer, pipeline


def load_reference(directory: str | Path):
    """``(model, tokenizer, pipeline)`` of the reference library for a checkpoint; cached per saved file."""
    directory = Path(directory).resolve()
    weights = directory / "model.safetensors"
    return _cached_reference(str(directory), weights.stat().st_mtime if weights.exists() else 0.0)


def _as_list(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@torch.no_grad()
def reference_logits(
    directory: str | Path,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    prompt: str | None = None,
    examples: Sequence[dict[str, Any]] | None = None,
) -> torch.Tensor:
    """The reference model's raw logits, ``(len(texts), len(labels))``, for one batch built by its own pipeline."""
    model, _, pipeline = load_reference(directory)
    labels = list(labels)
    examples = [dict(example) for example in examples] if examples else None
    inputs = pipeline.pipe.prepare_inputs(list(texts), labels, True, examples=examples, prompt=prompt)
    output = model(**inputs, max_num_classes=len(labels))
    return output.logits[:, : len(labels)].float()


def reference_scores(
    directory: str | Path,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    classification_type: str = "multi-label",
    prompt: str | None = None,
    examples: Sequence[dict[str, Any]] | None = None,
    batch_size: int = 1,
) -> list[dict[str, float]]:
    """The reference pipeline's probability for every label of every text (label order kept).

    Multi-label: sigmoid per label. Single-label: the full softmax over the text's labels (the pipeline itself only
    returns the top-1 prediction; ``return_hierarchical=True`` with a flat label list exposes the whole softmax).
    """
    _, _, pipeline = load_reference(directory)
    labels = list(labels)
    if len(set(labels)) != len(labels):
        msg = "labels must be unique: the reference keys its scores by label"
        raise ValueError(msg)
    results = pipeline(
        list(texts),
        labels,
        threshold=0.0,
        batch_size=batch_size,
        classification_type=classification_type,
        prompt=prompt,
        examples=[dict(example) for example in examples] if examples else None,
        return_hierarchical=True,
    )
    return [{label: float(result[label]) for label in labels} for result in results]
