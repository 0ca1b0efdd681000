"""Parity with the reference library ``gliclass==0.1.21`` (the ``test`` extra), used as an oracle only.

Every checkpoint here is tiny and built in code by ``reference_checkpoints.build_reference_checkpoint``; the
reference scores it through its own pipeline and the engine must give the same probabilities (1e-5, absolute).

Deliberate differences, so not compared here:
- the reference's poolers ignore the attention mask (``avg``, ``max``, ``last``, ``rms``, ... then depend on the
  padding, i.e. on the other texts of a batch, and a bi-encoder's label embeddings on the other labels' lengths);
  ours are mask-correct. Single texts (and single-token labels for bi-encoders) are compared for those, and our
  batches are compared with the reference's single-text results;
- for the same reason, with ``extract_text_features`` the reference pools a window shifted to the ``<<SEP>>`` and
  zero-filled to the full length (``avg`` divides by the whole sequence length, ``last`` reads a zero vector): only
  ``first``, ``sum`` and ``abs_max``, which the zero tail cannot change, are compared there;
- the plain bi-encoder silently drops few-shot examples; ours does not ignore them (so no comparison there).

The first group of tests uses the reference alone: it proves that the factory's checkpoints work with it and pins
the reference behaviour (crashes included) that the parity tests rely on.
"""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch

gliclass = pytest.importorskip("gliclass")

from reference_checkpoints import (  # noqa: E402
    EXAMPLES,
    LABELS_1,
    LABELS_3,
    LABELS_7,
    PROMPT,
    TEXTS,
    load_reference,
    reference_logits,
    reference_scores,
)

pytestmark = pytest.mark.reference

# --- Names the engine must provide (align here if the engine's API settles differently) ---------------------------
# The lower-cased-label mode (labels lower-cased before tokenisation, as releases before 2026-01 did): a keyword of
# ZeroShotClassifier.from_pretrained(...) when LOWERCASE_LABELS_AT == "from_pretrained", of scores()/classify() when
# it is "call".
LOWERCASE_LABELS_OPTION = "lowercase_labels"
LOWERCASE_LABELS_AT = "from_pretrained"
# State-dict keys that either side may hold or not (the reference ignores them on load).
IGNORED_KEY_PARTS = ("position_embeddings", "position_ids")
# -------------------------------------------------------------------------------------------------------------------

ATOL = 1e-5  # absolute, on probabilities
MASK_SENSITIVE_POOLERS = ("last", "max", "avg", "sum", "rms", "abs_max", "abs_avg")

# Checkpoint configurations: keyword arguments of build_reference_checkpoint (backbone, architecture, reference
# config fields). Each is built once per session.
CONFIGS: dict[str, dict[str, Any]] = {
    "uni-bert": {},
    "uni-deberta": {"backbone": "deberta-v2"},
    "uni-deberta-64": {"backbone": "deberta-v2", "encoder_hidden_size": 64},
    "uni-deberta-prompt-first": {"backbone": "deberta-v2", "prompt_first": True},
    **{f"pool-{name}": {"pooling_strategy": name} for name in MASK_SENSITIVE_POOLERS},
    "scorer-weighted-dot": {"scorer_type": "weighted-dot"},
    # The reference's mlp scorer ignores scorer_mlp_hidden_size (always 256): a different value proves we do too.
    "scorer-mlp": {"scorer_type": "mlp", "scorer_mlp_hidden_size": 64},
    "scorer-hopfield": {"scorer_type": "hopfield"},
    "scorer-cross-attn": {
        "scorer_type": "cross-attn",
        "pooling_strategy": "pass",
        "scorer_num_heads": 4,
        "scorer_mlp_hidden_size": 64,
    },
    "scorer-cross-attn-defaults": {"scorer_type": "cross-attn", "pooling_strategy": "pass"},  # 16 heads, MLP 1024
    "class-average": {"class_token_pooling": "average"},
    "class-average-prompt-first": {"class_token_pooling": "average", "prompt_first": True},
    "no-embed-class-token": {"embed_class_token": False},
    "no-embed-class-token-average": {"embed_class_token": False, "class_token_pooling": "average"},
    "extract-text-prompt-first": {"extract_text_features": True, "prompt_first": True},
    "extract-text-prompt-first-average": {
        "extract_text_features": True,
        "prompt_first": True,
        "class_token_pooling": "average",
    },
    # sum and abs_max see exactly the text window (<<SEP>> .. [SEP]) whatever the reference's zero tail.
    "extract-text-prompt-first-sum": {"extract_text_features": True, "prompt_first": True, "pooling_strategy": "sum"},
    "extract-text-prompt-first-abs-max": {
        "extract_text_features": True,
        "prompt_first": True,
        "pooling_strategy": "abs_max",
    },
    "extract-text-prompt-last": {"extract_text_features": True},
    "normalize-features": {"normalize_features": True},
    "prompt-first": {"prompt_first": True},
    "lstm": {"use_lstm": True},
    "lstm-avg": {"use_lstm": True, "pooling_strategy": "avg"},
    # encoder_layer_id works in the reference only together with layer_wise (see test_reference_crashes).
    "encoder-layer-1": {"encoder_layer_id": 1, "layer_wise": True},
    "encoder-layer-0": {"encoder_layer_id": 0, "layer_wise": True},
    "projector-hidden-48": {"hidden_size": 48},
    "segment-embeddings": {"use_segment_embeddings": True},
    "bi-encoder": {"architecture": "bi-encoder"},
    "bi-encoder-prompt-first": {"architecture": "bi-encoder", "prompt_first": True},
    "bi-encoder-normalize": {"architecture": "bi-encoder", "normalize_features": True},
    "bi-encoder-avg": {"architecture": "bi-encoder", "pooling_strategy": "avg"},
    "bi-encoder-mlp": {"architecture": "bi-encoder", "scorer_type": "mlp"},
    "bi-encoder-deberta-labels": {"architecture": "bi-encoder", "label_backbone": "deberta-v2"},
    "fused": {"architecture": "bi-encoder-fused"},
    "fused-prompt-first": {"architecture": "bi-encoder-fused", "prompt_first": True},
    "fused-avg": {"architecture": "bi-encoder-fused", "pooling_strategy": "avg"},
    "fused-deberta": {"architecture": "bi-encoder-fused", "backbone": "deberta-v2"},
}

# Configurations whose input layout differs (where labels, prompt, examples and text go, how markers are read):
# every call variant is compared for them; the others (poolers, scorers) get the plain call in both modes.
LAYOUT_CONFIGS = (
    "uni-bert",
    "uni-deberta",
    "uni-deberta-prompt-first",
    "class-average",
    "class-average-prompt-first",
    "no-embed-class-token",
    "no-embed-class-token-average",
    "extract-text-prompt-first",
    "extract-text-prompt-first-average",
    "extract-text-prompt-last",
    "extract-text-prompt-first-sum",
    "prompt-first",
    "lstm",
    "segment-embeddings",
    "bi-encoder",
    "bi-encoder-prompt-first",
    "fused",
    "fused-prompt-first",
    "scorer-cross-attn",
)
CALLS: dict[str, dict[str, Any]] = {
    "plain": {},
    "prompt": {"prompt": PROMPT},
    "examples": {"examples": [dict(example) for example in EXAMPLES]},
    "prompt-examples": {"prompt": PROMPT, "examples": [dict(example) for example in EXAMPLES]},
}
MODES = {"multi-label": True, "single-label": False}
# Call variants a configuration is not compared on (see the module docstring and the dedicated tests below).
SKIPPED_CALLS = {
    "bi-encoder": {"examples", "prompt-examples"},
    "bi-encoder-prompt-first": {"examples", "prompt-examples"},
    # The reference's segment ids with examples are a quirk of their own: test_segment_embeddings_with_examples.
    "segment-embeddings": {"examples", "prompt-examples"},
}

# `first` pooling reads position 0 only, so the reference's batches are padding-free for these and ours must match
# them batch for batch.
FIRST_POOLING_CONFIGS = (
    "uni-bert",
    "uni-deberta",
    "class-average-prompt-first",
    "extract-text-prompt-first",
    "lstm",
    "segment-embeddings",
    "scorer-hopfield",
    "bi-encoder",
    "fused",
)
# Poolers that read every position: the reference's batches depend on padding; ours must give, in a batch, the
# reference's single-text scores.
MASKED_POOLING_CONFIGS = (
    *(f"pool-{name}" for name in MASK_SENSITIVE_POOLERS),
    "scorer-cross-attn",
    "lstm-avg",
    "extract-text-prompt-first-sum",
    "bi-encoder-avg",
    "fused-avg",
)
STATE_DICT_CONFIGS = (
    "uni-bert",
    "uni-deberta",
    "scorer-weighted-dot",
    "scorer-mlp",
    "scorer-hopfield",
    "scorer-cross-attn",
    "lstm",
    "segment-embeddings",
    "projector-hidden-48",
    "bi-encoder",
    "bi-encoder-deberta-labels",
    "fused",
)
ROUND_TRIP_CONFIGS = ("uni-bert", "uni-deberta", "lstm", "scorer-cross-attn", "bi-encoder", "fused")
LABEL_COUNT_CONFIGS = ("uni-bert", "scorer-hopfield", "bi-encoder", "fused")


# --- fixtures and helpers --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def checkpoint(reference_checkpoint: Callable[..., Path]) -> Callable[[str], Path]:
    """``checkpoint(name) -> Path`` for a name of CONFIGS (built once per session, read-only)."""
    return lambda name: reference_checkpoint(**CONFIGS[name])


@pytest.fixture(scope="session")
def engine() -> SimpleNamespace:
    """The engine's public API (imported here so that the reference-only tests run without it)."""
    from gliclass_rag import GLiClassModel, ZeroShotClassifier

    return SimpleNamespace(GLiClassModel=GLiClassModel, ZeroShotClassifier=ZeroShotClassifier)


@pytest.fixture(scope="session")
def classifier(engine: SimpleNamespace) -> Callable[..., Any]:
    """``classifier(path, **options)``: our ZeroShotClassifier for a checkpoint, loaded once per session.

    Shared between tests, so tests only score with it (no state is changed by scoring).
    """
    loaded: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}

    def load(path: Path, **options: Any) -> Any:
        key = (str(path), tuple(sorted(options.items())))
        if key not in loaded:
            loaded[key] = engine.ZeroShotClassifier.from_pretrained(str(path), device="cpu", **options)
        return loaded[key]

    return load


def _reference_kwargs(call: dict[str, Any], multi_label: bool) -> dict[str, Any]:
    return {**call, "classification_type": "multi-label" if multi_label else "single-label"}


def _assert_scores_close(
    ours: Sequence[dict[str, float]], reference: Sequence[dict[str, float]], labels: Sequence[str]
) -> None:
    assert len(ours) == len(reference)
    for text_index, (mine, theirs) in enumerate(zip(ours, reference, strict=True)):
        assert list(mine) == list(labels), f"text {text_index}: labels {list(mine)} != {list(labels)}"
        worst = max(abs(mine[label] - theirs[label]) for label in labels)
        assert worst <= ATOL, f"text {text_index}: max |ours - reference| = {worst:.2e}\nours {mine}\nref  {theirs}"


def _single_text_parity(
    classifier: Any, path: Path, texts: Sequence[str], labels: Sequence[str], call: dict[str, Any], multi_label: bool
) -> None:
    for text in texts:
        reference = reference_scores(path, [text], labels, **_reference_kwargs(call, multi_label))
        ours = classifier.scores([text], list(labels), multi_label=multi_label, **call)
        _assert_scores_close(ours, reference, labels)


def _label_spread(scores: Sequence[dict[str, float]]) -> float:
    return statistics.mean(statistics.pstdev(list(result.values())) for result in scores)


# --- the factory and the reference alone -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CONFIGS))
def test_factory_spreads_scores(checkpoint: Callable[[str], Path], name: str) -> None:
    """Every configuration loads and runs in the reference, and its scores are far from a flat 0.5."""
    path = checkpoint(name)
    config = json.loads((path / "config.json").read_text())
    assert config["model_type"] == "GLiClass"
    for key, value in CONFIGS[name].items():
        if key in config:
            assert config[key] == value, key

    scores = reference_scores(path, TEXTS, LABELS_7)
    assert _label_spread(scores) > 0.05
    assert all(0.0 < score < 1.0 for result in scores for score in result.values())
    # Saturated probabilities would hide differences: most must lie in a range where 1e-5 is a real constraint.
    inside = [0.01 < score < 0.99 for result in scores for score in result.values()]
    assert sum(inside) >= 0.75 * len(inside)

    # The pipeline's probabilities are those of the model's logits (the helper's single-label path included).
    for multi_label in (True, False):
        kind = "multi-label" if multi_label else "single-label"
        for call in (CALLS["plain"], CALLS["prompt-examples"]):
            via_pipeline = reference_scores(path, TEXTS[:1], LABELS_7, classification_type=kind, **call)[0]
            logits = reference_logits(path, TEXTS[:1], LABELS_7, **call)[0]
            expected = torch.sigmoid(logits) if multi_label else torch.softmax(logits, dim=-1)
            assert list(via_pipeline.values()) == pytest.approx(expected.tolist(), abs=1e-7)
    single = reference_scores(path, TEXTS[:2], LABELS_7, classification_type="single-label")
    assert all(sum(result.values()) == pytest.approx(1.0, abs=1e-5) for result in single)


def test_factory_is_seeded(reference_checkpoint: Callable[..., Path]) -> None:
    same = reference_checkpoint(seed=3)
    again = reference_checkpoint(seed=3, gain=1.0)  # a distinct cache key, the same checkpoint
    other = reference_checkpoint(seed=4)
    assert reference_scores(same, TEXTS[:2], LABELS_3) == reference_scores(again, TEXTS[:2], LABELS_3)
    first = reference_scores(same, TEXTS[:1], LABELS_3)[0]
    second = reference_scores(other, TEXTS[:1], LABELS_3)[0]
    assert max(abs(first[label] - second[label]) for label in LABELS_3) > 1e-3


def test_factory_tokenizer_keeps_words_and_markers(checkpoint: Callable[[str], Path]) -> None:
    _, tokenizer, _ = load_reference(checkpoint("uni-bert"))
    for text in (*TEXTS, PROMPT):
        assert "[UNK]" not in tokenizer.tokenize(text)
    tokens = tokenizer.tokenize("<<LABEL>>sports<<LABEL>>Science<<SEP>>text<<EXAMPLE>>")
    assert tokens == ["<<LABEL>>", "sports", "<<LABEL>>", "science", "<<SEP>>", "text", "<<EXAMPLE>>"]
    assert tokenizer.convert_tokens_to_ids(["<<LABEL>>", "<<SEP>>", "<<EXAMPLE>>"]) == [
        len(tokenizer) - 3,
        len(tokenizer) - 2,
        len(tokenizer) - 1,
    ]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        # LayerwiseAttention is sized for num_hidden_layers, but hidden_states holds num_hidden_layers + 1 tensors.
        pytest.param({"squeeze_layers": True}, RuntimeError, id="squeeze_layers"),
        # hidden_states is only requested with squeeze_layers/layer_wise; otherwise it is None (transformers 5).
        pytest.param({"encoder_layer_id": 1}, TypeError, id="encoder_layer_id-without-layer_wise"),
        # Pooling "pass" keeps (batch, tokens, hidden): only the cross-attn scorer accepts it.
        pytest.param({"pooling_strategy": "pass"}, RuntimeError, id="pass-with-simple-scorer"),
        pytest.param({"pooling_strategy": "pass", "scorer_type": "mlp"}, RuntimeError, id="pass-with-mlp-scorer"),
    ],
)
def test_reference_crashes(reference_checkpoint: Callable[..., Path], overrides: dict[str, Any], error: type) -> None:
    """Reference configurations that cannot run in 0.1.21; the parity matrix leaves them out."""
    path = reference_checkpoint(calibrate=False, **overrides)
    with pytest.raises(error):
        reference_scores(path, TEXTS[:1], LABELS_3)


def test_reference_poolers_are_not_padding_free(checkpoint: Callable[[str], Path]) -> None:
    """Why MASKED_POOLING_CONFIGS compare single texts: the reference's batches change its `avg` scores."""
    path = checkpoint("pool-avg")
    single = [reference_scores(path, [text], LABELS_3)[0] for text in TEXTS]
    batched = reference_scores(path, TEXTS, LABELS_3, batch_size=len(TEXTS))
    assert max(abs(a[label] - b[label]) for a, b in zip(single, batched, strict=True) for label in LABELS_3) > 1e-3


def test_reference_bi_encoder_ignores_examples(checkpoint: Callable[[str], Path]) -> None:
    """The plain bi-encoder drops few-shot examples (only the fused one appends them to the text)."""
    plain = reference_scores(checkpoint("bi-encoder"), TEXTS[:2], LABELS_3)
    with_examples = reference_scores(checkpoint("bi-encoder"), TEXTS[:2], LABELS_3, examples=EXAMPLES)
    assert plain == with_examples
    fused = reference_scores(checkpoint("fused"), TEXTS[:1], LABELS_3)[0]
    fused_with_examples = reference_scores(checkpoint("fused"), TEXTS[:1], LABELS_3, examples=EXAMPLES)[0]
    assert fused != fused_with_examples


# --- parity: single texts --------------------------------------------------------------------------------------------


def _matrix() -> list[Any]:
    cases = []
    for name in CONFIGS:
        calls = CALLS if name in LAYOUT_CONFIGS else {"plain": CALLS["plain"]}
        for call_name in calls:
            if call_name in SKIPPED_CALLS.get(name, ()):
                continue
            for mode_name in MODES:
                cases.append(pytest.param(name, call_name, mode_name, id=f"{name}-{call_name}-{mode_name}"))
    return cases


@pytest.mark.parametrize(("name", "call_name", "mode_name"), _matrix())
def test_scores_match_reference(
    checkpoint: Callable[[str], Path], classifier: Callable[..., Any], name: str, call_name: str, mode_name: str
) -> None:
    path = checkpoint(name)
    _single_text_parity(classifier(path), path, TEXTS[:2], LABELS_7, CALLS[call_name], MODES[mode_name])


@pytest.mark.parametrize("mode_name", list(MODES))
@pytest.mark.parametrize("labels", [LABELS_1, LABELS_3, LABELS_7], ids=["1-label", "3-labels", "7-labels"])
@pytest.mark.parametrize("name", LABEL_COUNT_CONFIGS)
def test_label_counts_match_reference(
    checkpoint: Callable[[str], Path],
    classifier: Callable[..., Any],
    name: str,
    labels: tuple[str, ...],
    mode_name: str,
) -> None:
    path = checkpoint(name)
    _single_text_parity(classifier(path), path, TEXTS, labels, CALLS["plain"], MODES[mode_name])


def test_classify_agrees_with_reference(checkpoint: Callable[[str], Path], classifier: Callable[..., Any]) -> None:
    """classify() ranks by the reference's scores, keeps what passes the threshold, and single-label is top-1."""
    path = checkpoint("uni-bert")
    ours = classifier(path)
    for text in TEXTS:
        reference = reference_scores(path, [text], LABELS_7)[0]
        kept = ours.classify([text], list(LABELS_7), threshold=0.5)[0]
        expected = sorted((label for label in LABELS_7 if reference[label] >= 0.5), key=lambda x: -reference[x])
        assert [item.label for item in kept] == expected
        for item in kept:
            assert item.score == pytest.approx(reference[item.label], abs=ATOL)
        top = ours.classify([text], list(LABELS_7), multi_label=False, threshold=0.0, top_k=1)[0]
        single = reference_scores(path, [text], LABELS_7, classification_type="single-label")[0]
        assert [item.label for item in top] == [max(single, key=single.__getitem__)]
        assert top[0].score == pytest.approx(max(single.values()), abs=ATOL)


@pytest.mark.parametrize("call_name", ["examples", "prompt-examples"])
def test_segment_embeddings_with_examples(
    checkpoint: Callable[[str], Path], classifier: Callable[..., Any], call_name: str
) -> None:
    """Segment ids when the input holds examples, as the reference computes them (and so as checkpoints trained
    with it saw them): it locates the examples with ``argmin`` instead of ``argmax``, which finds position 0, so
    every token of such an input gets segment 2. Without examples: 0 before the first ``<<SEP>>``, 1 from it on.
    """
    path = checkpoint("segment-embeddings")
    for multi_label in MODES.values():
        _single_text_parity(classifier(path), path, TEXTS[:2], LABELS_7, CALLS[call_name], multi_label)


# --- parity: batches -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call_name", ["plain", "prompt-examples"])
@pytest.mark.parametrize("name", FIRST_POOLING_CONFIGS)
def test_first_pooling_batches_match_reference_batches(
    checkpoint: Callable[[str], Path], classifier: Callable[..., Any], name: str, call_name: str
) -> None:
    path = checkpoint(name)
    if call_name in SKIPPED_CALLS.get(name, ()):
        call_name = "prompt"
    call = CALLS[call_name]
    reference = reference_scores(path, TEXTS, LABELS_7, batch_size=len(TEXTS), **call)
    ours = classifier(path).scores(list(TEXTS), list(LABELS_7), batch_size=len(TEXTS), **call)
    _assert_scores_close(ours, reference, LABELS_7)


@pytest.mark.parametrize("name", MASKED_POOLING_CONFIGS)
def test_batches_match_reference_single_texts(
    checkpoint: Callable[[str], Path], classifier: Callable[..., Any], name: str
) -> None:
    """Our padding is invisible: a batch of texts of different lengths scores as each text alone in the reference."""
    path = checkpoint(name)
    reference = [reference_scores(path, [text], LABELS_7, prompt=PROMPT)[0] for text in TEXTS]
    ours = classifier(path).scores(list(TEXTS), list(LABELS_7), batch_size=len(TEXTS), prompt=PROMPT)
    _assert_scores_close(ours, reference, LABELS_7)


def test_bi_encoder_label_pooling_ignores_label_padding(
    checkpoint: Callable[[str], Path], classifier: Callable[..., Any]
) -> None:
    """Labels of different lengths: with `avg` pooling each label scores as if it were tokenized alone.

    (The reference pads the labels to the longest and averages the padding in, so it is asked one label at a time;
    a bi-encoder's label score does not depend on the other labels.)
    """
    path = checkpoint("bi-encoder-avg")
    labels = ["sports", "the final match", "science and technology news", "health"]
    padded = reference_scores(path, TEXTS[:1], labels)[0]
    alone = {label: reference_scores(path, TEXTS[:1], [label])[0][label] for label in labels}
    assert max(abs(padded[label] - alone[label]) for label in labels) > 1e-3  # the padding matters here
    for text in TEXTS[:2]:
        reference = {label: reference_scores(path, [text], [label])[0][label] for label in labels}
        ours = classifier(path).scores([text], labels)
        _assert_scores_close(ours, [reference], labels)


# --- checkpoint format -----------------------------------------------------------------------------------------------


def _shapes(state_dict: dict[str, torch.Tensor]) -> dict[str, tuple[int, ...]]:
    return {
        key: tuple(value.shape)
        for key, value in state_dict.items()
        if not any(part in key for part in IGNORED_KEY_PARTS)
    }


@pytest.mark.parametrize("name", STATE_DICT_CONFIGS)
def test_state_dict_matches_reference(checkpoint: Callable[[str], Path], engine: SimpleNamespace, name: str) -> None:
    path = checkpoint(name)
    reference_model, _, _ = load_reference(path)
    ours = engine.GLiClassModel.from_pretrained(str(path))
    expected = _shapes(reference_model.state_dict())
    actual = _shapes(ours.state_dict())
    assert sorted(set(actual) - set(expected)) == [], "keys the reference does not have"
    assert sorted(set(expected) - set(actual)) == [], "reference keys we do not have"
    assert actual == expected


@pytest.mark.parametrize("name", ROUND_TRIP_CONFIGS)
def test_saved_checkpoint_loads_in_reference(
    checkpoint: Callable[[str], Path],
    engine: SimpleNamespace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    """Ours -> save_pretrained -> the reference loads it and scores exactly as it scores the original."""
    source = checkpoint(name)
    target = tmp_path / "saved"
    engine.GLiClassModel.from_pretrained(str(source)).save_pretrained(str(target))
    assert (target / "model.safetensors").is_file()
    assert not list(target.glob("*.bin")), "pickle weights written"
    config = json.loads((target / "config.json").read_text())
    assert config["model_type"] == "GLiClass"
    # The model alone may not write the tokenizer: bring the original's files when they are missing.
    for tokenizer_file in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (source / tokenizer_file).exists() and not (target / tokenizer_file).exists():
            shutil.copy(source / tokenizer_file, target / tokenizer_file)
    # The reference resolves a relative label_model_name against the working directory; ours against the checkpoint.
    monkeypatch.chdir(target)

    for call in (CALLS["plain"], CALLS["prompt-examples"]):
        for kind in ("multi-label", "single-label"):
            expected = reference_scores(source, TEXTS[:2], LABELS_7, classification_type=kind, **call)
            actual = reference_scores(target, TEXTS[:2], LABELS_7, classification_type=kind, **call)
            for before, after in zip(expected, actual, strict=True):
                assert max(abs(before[label] - after[label]) for label in LABELS_7) <= 1e-6


# --- lower-cased labels (releases before 2026-01) --------------------------------------------------------------------


def test_lowercase_labels_mode_matches_reference_given_lowercased_labels(
    reference_checkpoint: Callable[..., Path], classifier: Callable[..., Any]
) -> None:
    path = reference_checkpoint(lowercase=False)  # a cased tokenizer: "Sports" and "sports" differ
    labels = ["Sports", "Science", "Business", "Travel"]
    lowered = [label.lower() for label in labels]
    as_given = reference_scores(path, TEXTS[:1], labels)[0]
    reference = reference_scores(path, TEXTS[:1], lowered)[0]
    assert max(abs(as_given[upper] - reference[lower]) for upper, lower in zip(labels, lowered, strict=True)) > 1e-3

    option = {LOWERCASE_LABELS_OPTION: True}
    if LOWERCASE_LABELS_AT == "from_pretrained":
        ours = classifier(path, **option).scores(list(TEXTS[:1]), labels)[0]
    else:
        ours = classifier(path).scores(list(TEXTS[:1]), labels, **option)[0]
    assert list(ours) == labels  # the caller's labels come back, in their order
    for upper, lower in zip(labels, lowered, strict=True):
        assert ours[upper] == pytest.approx(reference[lower], abs=ATOL)
    # Without the option the labels keep their case, as in the reference 0.1.21.
    kept = classifier(path).scores(list(TEXTS[:1]), labels)[0]
    _assert_scores_close([kept], [as_given], labels)
