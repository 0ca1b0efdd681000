"""What every contender runs on: a checkpoint built in code, texts of exact token lengths, label sets of given sizes.

The checkpoint is written by the reference library itself (``gliclass.GLiClassModel(config).save_pretrained``), so
both pipelines load the very same file. Weights are random (speed does not depend on them) but seeded and spread
(fan-in scaled), so that scores sit away from 0.5 and a score check cannot pass on flat outputs. The tokenizer is a
word-piece BERT tokenizer over a generated vocabulary in which every word is one token: a text of N words is
exactly N tokens, and a label ("w1 w2") is two.
"""

from __future__ import annotations

import inspect
import itertools
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = [
    "MARKERS",
    "SHAPES",
    "ModelShape",
    "build_checkpoint",
    "build_tokenizer",
    "label_set",
    "texts_of_length",
    "vocabulary",
]

MARKERS = ("<<LABEL>>", "<<SEP>>", "<<EXAMPLE>>")
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]  # 70 syllables


@dataclass(frozen=True)
class ModelShape:
    """A DeBERTa-v3 encoder shape (the published GLiClass uni-encoders use DeBERTa-v3 backbones)."""

    name: str
    layers: int
    hidden: int
    heads: int
    intermediate: int


SHAPES = {
    "deberta-v3-small": ModelShape("deberta-v3-small", 6, 768, 12, 3072),
    "deberta-v3-base": ModelShape("deberta-v3-base", 12, 768, 12, 3072),
    "deberta-v3-xsmall": ModelShape("deberta-v3-xsmall", 12, 384, 6, 1536),
    "tiny": ModelShape("tiny", 2, 64, 4, 128),  # the smoke test's
}


def vocabulary(size: int = 8192) -> list[str]:
    """BERT specials, characters, then ``size`` generated two- and three-syllable words (one token each)."""
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += list("abcdefghijklmnopqrstuvwxyz0123456789.,:;!?'-")
    tokens += [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    words = itertools.chain(
        ("".join(p) for p in itertools.product(SYLLABLES, repeat=2)),
        ("".join(p) for p in itertools.product(SYLLABLES, repeat=3)),
    )
    tokens += list(itertools.islice(words, size))
    return tokens


def build_tokenizer(size: int = 8192) -> Any:
    """An uncased word-piece BERT tokenizer over :func:`vocabulary` with the three GLiClass markers added."""
    from transformers import BertTokenizerFast

    vocab = vocabulary(size)
    if "vocab_file" in inspect.signature(BertTokenizerFast.__init__).parameters:  # transformers 4
        import tempfile

        directory = Path(tempfile.mkdtemp(prefix="bench-vocab-"))
        (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
        tokenizer = BertTokenizerFast(vocab_file=str(directory / "vocab.txt"), do_lower_case=True)
    else:
        tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(vocab)}, do_lower_case=True)
    tokenizer.add_tokens(list(MARKERS), special_tokens=True)
    return tokenizer


def _words(tokenizer: Any) -> list[str]:
    return [w for w in tokenizer.get_vocab() if w.isalpha() and len(w) >= 4 and w.islower()]


def texts_of_length(tokenizer: Any, tokens: int, count: int, *, seed: int = 0) -> list[str]:
    """``count`` distinct texts of exactly ``tokens`` tokens each (special tokens not counted)."""
    rng = random.Random(seed * 1_000_003 + tokens)
    words = sorted(_words(tokenizer))
    texts = [" ".join(rng.choice(words) for _ in range(tokens)) for _ in range(count)]
    lengths = {len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]}
    if lengths != {tokens}:
        msg = f"texts of {tokens} tokens came out with lengths {sorted(lengths)}"
        raise RuntimeError(msg)
    return texts


def label_set(tokenizer: Any, count: int, *, seed: int = 1) -> list[str]:
    """``count`` distinct two-word labels (two tokens each)."""
    rng = random.Random(seed * 7_919 + count)
    words = sorted(_words(tokenizer))
    labels: dict[str, None] = {}
    while len(labels) < count:
        labels[f"{rng.choice(words)} {rng.choice(words)}"] = None
    return list(labels)


@torch.no_grad()
def _spread(model: nn.Module, seed: int) -> None:
    """Seeded fan-in scaled weights: attention that depends on content and positions, logits that spread."""
    generator = torch.Generator().manual_seed(seed)

    def normal_(tensor: torch.Tensor, std: float, mean: float = 0.0) -> None:
        tensor.copy_(torch.randn(tensor.shape, generator=generator) * std + mean)

    for module in model.modules():
        if isinstance(module, nn.Linear):
            normal_(module.weight, 1.0 / math.sqrt(module.in_features))
            if module.bias is not None:
                normal_(module.bias, 0.02)
        elif isinstance(module, nn.Embedding):
            normal_(module.weight, 1.0)
        elif isinstance(module, nn.LayerNorm) and module.weight is not None:
            normal_(module.weight, 0.05, mean=1.0)
            normal_(module.bias, 0.05)


def deberta_config(shape: ModelShape, vocab_size: int) -> Any:
    from transformers import DebertaV2Config

    return DebertaV2Config(
        vocab_size=vocab_size,
        hidden_size=shape.hidden,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        intermediate_size=shape.intermediate,
        max_position_embeddings=512,
        type_vocab_size=0,
        relative_attention=True,
        max_relative_positions=-1,
        position_buckets=256,
        norm_rel_ebd="layer_norm",
        share_att_key=True,
        pos_att_type=["p2c", "c2p"],
        position_biased_input=False,
        layer_norm_eps=1e-7,
        hidden_act="gelu",
        pad_token_id=0,
    )


def build_checkpoint(directory: str | Path, shape: ModelShape, *, seed: int = 0, target_std: float = 2.0) -> Path:
    """A uni-encoder GLiClass checkpoint of ``shape`` written by the reference library (the benchmark extra).

    Cosine scorer (``normalize_features``) times ``logit_scale``, the scale set on a probe batch so that a text's
    logits spread over labels with standard deviation ``target_std``: scores well inside (0, 1), and a top-1 that a
    quantised model can get wrong. Nothing is written outside ``directory``; an existing checkpoint there is reused.
    """
    import gliclass

    directory = Path(directory)
    tokenizer = build_tokenizer()
    if (directory / "model.safetensors").is_file() and (directory / "config.json").is_file():
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    encoder = deberta_config(shape, len(tokenizer))
    config = gliclass.GLiClassModelConfig(
        encoder_config=encoder.to_dict(),
        encoder_model=f"random-{shape.name}",
        architecture_type="uni-encoder",
        class_token_index=tokenizer.convert_tokens_to_ids(MARKERS[0]),
        text_token_index=tokenizer.convert_tokens_to_ids(MARKERS[1]),
        example_token_index=tokenizer.convert_tokens_to_ids(MARKERS[2]),
        vocab_size=len(tokenizer),
        pooling_strategy="first",
        scorer_type="simple",
        normalize_features=True,
        problem_type="multi_label_classification",
    )
    torch.manual_seed(seed)
    model = gliclass.GLiClassModel(config)
    _spread(model, seed)
    model.eval()
    probe = gliclass.ZeroShotClassificationPipeline(model, tokenizer, device="cpu", progress_bar=False)
    inputs = probe.pipe.prepare_inputs(texts_of_length(tokenizer, 48, 4, seed=99), label_set(tokenizer, 16), True)
    with torch.no_grad():
        model.model.logit_scale.fill_(1.0)
        logits = model(**inputs, max_num_classes=16).logits.float()  # (4, 16): cosines
        spread = float((logits - logits.mean(dim=-1, keepdim=True)).std())
        model.model.logit_scale.fill_(target_std / max(spread, 1e-6))
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return directory
