"""Unit tests of the model's building blocks: poolers, scorers, label slots, layer-wise attention, registries,
config."""

from __future__ import annotations

import dataclasses
import json
import warnings

import pytest
import tiny  # sets HF_HUB_OFFLINE before transformers is used
import torch

from gliclass_rag import ConfigError, GLiClassConfig
from gliclass_rag.modeling.layers import LayerwiseAttention
from gliclass_rag.modeling.registry import ARCHITECTURES, POOLERS, SCORERS
from gliclass_rag.modeling.slots import label_slot_mask, pool_label_slots, text_tokens_after_marker

B, L, D = 3, 7, 8
LENGTHS = (7, 4, 1)  # real tokens per row; the rest is padding


def _mask(lengths=LENGTHS, length=L) -> torch.Tensor:
    return torch.arange(length).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)  # (B, L) bool


def _tokens(seed: int = 0, shape=(B, L, D)) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def _pooler(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    module = POOLERS.get(name)(D)
    with torch.no_grad():  # the attention pooler's scores must not be near-uniform, or padding could hide
        for parameter in module.parameters():
            parameter.mul_(10.0)
    return module.eval()


# --- poolers ---------------------------------------------------------------------------------------------------------
ALL_POOLERS = POOLERS.names()


def test_registry_lists_the_reference_poolers() -> None:
    assert set(ALL_POOLERS) >= {"first", "last", "max", "avg", "sum", "rms", "abs_max", "abs_avg", "pass"}


@pytest.mark.parametrize("name", ALL_POOLERS)
def test_pooler_output_shape(name: str) -> None:
    out = _pooler(name)(_tokens(), _mask())
    assert out.shape == ((B, L, D) if name == "pass" else (B, D))
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", ALL_POOLERS)
def test_pooler_ignores_padding(name: str) -> None:
    """Each row pooled alone, unpadded, equals the row pooled in a padded batch whose padding holds garbage."""
    pooler = _pooler(name)
    tokens = _tokens()
    mask = _mask()
    garbage = tokens.clone()
    garbage[~mask] = 1e3 * _tokens(seed=1)[~mask] - 5e2  # huge, of both signs
    batched = pooler(garbage, mask)
    for row, length in enumerate(LENGTHS):
        alone = pooler(tokens[row : row + 1, :length], torch.ones(1, length, dtype=torch.bool))[0]
        got = batched[row, :length] if name == "pass" else batched[row]
        torch.testing.assert_close(got, alone, rtol=1e-5, atol=1e-5, msg=f"{name}: row {row}")


def test_first_and_last_pick_the_right_tokens() -> None:
    tokens, mask = _tokens(), _mask()
    first = _pooler("first")(tokens, mask)
    last = _pooler("last")(tokens, mask)
    for row, length in enumerate(LENGTHS):
        torch.testing.assert_close(first[row], tokens[row, 0])
        torch.testing.assert_close(last[row], tokens[row, length - 1])


def test_max_ignores_padding_when_real_values_are_negative() -> None:
    tokens = -1.0 - _tokens().abs()  # every real value < -1; padding is 0 (or garbage > 0)
    mask = _mask()
    tokens[~mask] = 0.0
    pooled = _pooler("max")(tokens, mask)
    for row, length in enumerate(LENGTHS):
        torch.testing.assert_close(pooled[row], tokens[row, :length].amax(dim=0))
    assert (pooled < -1.0).all()


@pytest.mark.parametrize(
    ("name", "formula"),
    [
        ("avg", lambda x: x.mean(dim=0)),
        ("sum", lambda x: x.sum(dim=0)),
        ("rms", lambda x: x.pow(2).mean(dim=0).sqrt()),
        ("abs_max", lambda x: x.abs().amax(dim=0)),
        ("abs_avg", lambda x: x.abs().mean(dim=0)),
        ("max", lambda x: x.amax(dim=0)),
    ],
)
def test_pooler_formula(name: str, formula) -> None:
    tokens, mask = _tokens(3), _mask()
    pooled = _pooler(name)(tokens, mask)
    for row, length in enumerate(LENGTHS):
        torch.testing.assert_close(pooled[row], formula(tokens[row, :length]), rtol=1e-5, atol=1e-6)


# --- scorers ---------------------------------------------------------------------------------------------------------
C = 4
SCORER_KW = {"num_heads": 4, "attn_dropout": 0.1, "mlp_hidden_size": 16, "dropout": 0.1}


def _scorer(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return SCORERS.get(name)(D, **SCORER_KW).eval()


def _text_for(name: str, seed: int = 0) -> torch.Tensor:
    return _tokens(seed, (B, L, D)) if name == "cross-attn" else _tokens(seed, (B, D))


def test_registry_lists_the_reference_scorers() -> None:
    assert set(SCORERS.names()) >= {"simple", "weighted-dot", "mlp", "hopfield", "cross-attn"}


@pytest.mark.parametrize("name", SCORERS.names())
def test_scorer_output_shape(name: str) -> None:
    text = _text_for(name)
    labels = _tokens(5, (B, C, D))
    mask = _mask() if name == "cross-attn" else None
    out = _scorer(name)(text, labels, text_mask=mask)
    assert out.shape == (B, C)
    assert torch.isfinite(out).all()


def test_simple_scorer_is_a_dot_product() -> None:
    text, labels = _tokens(0, (B, D)), _tokens(1, (B, C, D))
    expected = torch.stack([labels[b] @ text[b] for b in range(B)])
    torch.testing.assert_close(_scorer("simple")(text, labels), expected)


@pytest.mark.parametrize("name", ["simple", "mlp", "weighted-dot"])
def test_padded_label_slots_do_not_change_real_logits(name: str) -> None:
    scorer = _scorer(name)
    text, labels = _text_for(name), _tokens(5, (B, C, D))
    padded = torch.cat([labels, 100.0 * _tokens(6, (B, 3, D))], dim=1)  # three garbage slots
    torch.testing.assert_close(scorer(text, padded)[:, :C], scorer(text, labels), rtol=1e-5, atol=1e-5)
    # and a label's logit does not depend on the other labels at all
    torch.testing.assert_close(scorer(text, labels[:, :1])[:, 0], scorer(text, labels)[:, 0], rtol=1e-5, atol=1e-5)


def test_cross_attention_scorer_ignores_masked_text_tokens() -> None:
    scorer = _scorer("cross-attn")
    text, labels, mask = _tokens(0), _tokens(5, (B, C, D)), _mask()
    garbage = text.clone()
    garbage[~mask] = 1e3 * _tokens(9)[~mask]
    batched = scorer(garbage, labels, text_mask=mask)
    torch.testing.assert_close(batched, scorer(text, labels, text_mask=mask), rtol=1e-5, atol=1e-5)
    for row, length in enumerate(LENGTHS):
        alone = scorer(text[row : row + 1, :length], labels[row : row + 1], text_mask=None)
        torch.testing.assert_close(batched[row], alone[0], rtol=1e-5, atol=1e-5)
    # the mask is really used: unmasking the garbage changes the result
    assert not torch.allclose(scorer(garbage, labels, text_mask=torch.ones_like(mask)), batched)


# --- label slots and text tokens -------------------------------------------------------------------------------------
CLS, SEP, PAD, LBL, TXT = 1, 2, 0, 5, 6
IDS = torch.tensor(
    [
        [CLS, LBL, 10, 11, LBL, 12, TXT, 13, 14, SEP],
        [CLS, LBL, 10, TXT, 13, SEP, PAD, PAD, PAD, PAD],
    ]
)
ATTENTION = (IDS != PAD).long()
HIDDEN = torch.arange(2 * 10 * 3, dtype=torch.float32).view(2, 10, 3) ** 1.5  # distinct, non-linear in position


def _slots(**kwargs):
    return pool_label_slots(HIDDEN, IDS, ATTENTION, class_token_id=LBL, text_token_id=TXT, num_slots=3, **kwargs)


def test_label_slot_mask() -> None:
    expected = torch.tensor([[True, True, False], [True, False, False]])
    assert torch.equal(label_slot_mask(IDS, LBL, 3), expected)
    labels, mask = _slots()
    assert torch.equal(mask, expected)
    assert labels.shape == (2, 3, 3)


def test_label_slots_at_the_markers() -> None:
    labels, _ = _slots()
    torch.testing.assert_close(labels[0, 0], HIDDEN[0, 1])
    torch.testing.assert_close(labels[0, 1], HIDDEN[0, 4])
    torch.testing.assert_close(labels[1, 0], HIDDEN[1, 1])
    assert not labels[0, 2].any()
    assert not labels[1, 1:].any()


def test_label_slots_after_the_markers() -> None:
    labels, _ = _slots(embed_class_token=False)
    torch.testing.assert_close(labels[0, 0], HIDDEN[0, 2])
    torch.testing.assert_close(labels[0, 1], HIDDEN[0, 5])
    torch.testing.assert_close(labels[1, 0], HIDDEN[1, 2])
    assert not labels[1, 1:].any()


def test_label_slots_averaged_over_spans() -> None:
    labels, _ = _slots(average=True)
    torch.testing.assert_close(labels[0, 0], HIDDEN[0, 1:4].mean(dim=0))
    torch.testing.assert_close(labels[0, 1], HIDDEN[0, 4:10].mean(dim=0))  # the last span runs to the end
    torch.testing.assert_close(labels[1, 0], HIDDEN[1, 1:6].mean(dim=0))  # padding is never part of a span
    labels, _ = _slots(average=True, stop_at_text_marker=True)
    torch.testing.assert_close(labels[0, 1], HIDDEN[0, 4:6].mean(dim=0))
    torch.testing.assert_close(labels[1, 0], HIDDEN[1, 1:3].mean(dim=0))
    labels, _ = _slots(average=True, embed_class_token=False)
    torch.testing.assert_close(labels[0, 0], HIDDEN[0, 2:4].mean(dim=0))


def test_text_tokens_after_marker() -> None:
    tokens, mask = text_tokens_after_marker(HIDDEN, IDS, ATTENTION, TXT)
    assert tokens.shape == HIDDEN.shape
    assert mask.tolist() == [
        [True] * 4 + [False] * 6,
        [True] * 3 + [False] * 7,
    ]
    torch.testing.assert_close(tokens[0, :4], HIDDEN[0, 6:10])
    torch.testing.assert_close(tokens[1, :3], HIDDEN[1, 3:6])


# --- layer-wise attention --------------------------------------------------------------------------------------------
def test_layerwise_attention_reads_the_layer_outputs_of_num_layers_plus_one_states() -> None:
    num_layers = 4
    torch.manual_seed(0)
    module = LayerwiseAttention(num_layers, D, output_size=5).eval()
    states = tuple(_tokens(seed) for seed in range(num_layers + 1))  # embeddings first, then each layer
    mask = _mask()
    out = module(states, mask)
    assert out.shape == (B, L, 5)
    # the embeddings output (first) is left out: changing it changes nothing
    changed = (100.0 * _tokens(42), *states[1:])
    torch.testing.assert_close(module(changed, mask), out)
    # padding positions never reach the real tokens' outputs (their layer weights come from real tokens only)
    garbage = tuple(torch.where(mask.unsqueeze(-1), s, 1e3 * torch.ones_like(s)) for s in states)
    for row, length in enumerate(LENGTHS):
        torch.testing.assert_close(module(garbage, mask)[row, :length], out[row, :length], rtol=1e-5, atol=1e-5)
    # the formula: squeeze -> masked mean -> W1 -> relu -> W2 -> sigmoid -> weighted sum -> projection
    stacked = torch.stack(states[1:], dim=1)  # (B, K, L, D)
    scores = module.squeeze(stacked).squeeze(-1)  # (B, K, L)
    weights = mask[:, None, :].float()
    squeezed = (scores * weights).sum(-1) / weights.sum(-1)
    gates = torch.sigmoid(module.W2(torch.relu(module.W1(squeezed))))
    expected = module.output_projection((stacked * gates[:, :, None, None]).sum(dim=1))
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_layerwise_attention_with_k_plus_one_inputs_reads_the_embeddings_too() -> None:
    torch.manual_seed(0)
    module = LayerwiseAttention(5, D).eval()  # a checkpoint whose W1 takes K + 1 = 5 inputs
    states = tuple(_tokens(seed) for seed in range(5))
    changed = (100.0 * _tokens(42), *states[1:])
    assert not torch.allclose(module(changed, _mask()), module(states, _mask()))


# --- registries ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("registry", "expected"),
    [(POOLERS, ("avg", "first")), (SCORERS, ("simple", "mlp")), (ARCHITECTURES, ("uni-encoder", "bi-encoder"))],
)
def test_registry_error_names_the_value_and_the_allowed_ones(registry, expected) -> None:
    with pytest.raises(ConfigError) as error:
        registry.get("no-such-thing")
    message = str(error.value)
    assert "'no-such-thing'" in message
    for name in expected:
        assert name in message


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("pooling_strategy", "median", "avg"),
        ("scorer_type", "bilinear", "weighted-dot"),
        ("architecture_type", "encoder-decoder-xl", "bi-encoder-fused"),
    ],
)
def test_config_rejects_unknown_components(field: str, value: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as error:
        GLiClassConfig(**{field: value})
    assert field in str(error.value)
    assert repr(value) in str(error.value)
    assert allowed in str(error.value)


def test_registering_a_name_twice_is_an_error() -> None:
    with pytest.raises(ConfigError, match="already registered"):
        POOLERS.register("avg")(object)


# --- config ----------------------------------------------------------------------------------------------------------
REFERENCE_DEFAULTS = {
    "pooling_strategy": "first",
    "class_token_pooling": "first",
    "scorer_type": "simple",
    "architecture_type": "uni-encoder",
    "prompt_first": False,
    "focal_loss_alpha": 0.5,
    "focal_loss_gamma": 2,
    "logit_scale_init_value": 2.6592,
    "max_num_classes": 25,
    "scorer_num_heads": 16,
    "scorer_mlp_hidden_size": 1024,
    "scorer_attn_dropout": 0.1,
    "initializer_range": 0.03,
    "dropout": 0.1,
    "problem_type": "single_label_classification",
    "embed_class_token": True,
    "normalize_features": False,
    "max_labels_alloc": "dynamic",
    "contrastive_loss_coef": 0,
    "use_lstm": False,
    "squeeze_layers": False,
    "encoder_layer_id": -1,
    "projector_hidden_act": "gelu",
    "use_segment_embeddings": False,
    "extract_text_features": False,
    "use_calibrator": False,
}


def test_config_defaults_equal_the_reference() -> None:
    ours = GLiClassConfig()
    for name, value in REFERENCE_DEFAULTS.items():
        assert getattr(ours, name) == value, name
    # derived defaults: the three marker ids follow the backbone's vocabulary
    vocab = ours.encoder_config.vocab_size
    assert ours.encoder_config.model_type == "deberta-v2"
    assert (ours.class_token_index, ours.text_token_index, ours.example_token_index) == (vocab, vocab + 1, vocab + 2)
    assert ours.hidden_size == ours.encoder_config.hidden_size


def test_config_defaults_equal_the_installed_reference() -> None:
    gliclass = pytest.importorskip("gliclass")
    theirs = gliclass.GLiClassModelConfig()
    ours = GLiClassConfig()
    for name in (*REFERENCE_DEFAULTS, "class_token_index", "text_token_index", "example_token_index"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.hidden_size == theirs.hidden_size
    assert ours.vocab_size == theirs.vocab_size


def _small_config(**changes) -> GLiClassConfig:
    return GLiClassConfig(encoder_config=tiny.encoder_config(100).to_dict(), **changes)


def test_config_keeps_unknown_keys_and_writes_them_back() -> None:
    data = _small_config().to_dict()
    data["some_future_field"] = {"nested": [1, 2]}
    data["another"] = 3
    config = GLiClassConfig.from_dict(data)
    assert config.extra["some_future_field"] == {"nested": [1, 2]}
    assert config.extra["another"] == 3
    assert not set(config.extra) & set(GLiClassConfig.field_names())
    written = config.to_dict()
    assert written["some_future_field"] == {"nested": [1, 2]}
    assert written["another"] == 3


def test_config_stamps_our_version_in_its_namespace() -> None:
    from gliclass_rag import __version__

    data = _small_config(rag={"label_chunk_size": 8}).to_dict()
    assert data["gliclass_rag"] == {"label_chunk_size": 8, "version": __version__}
    assert data["model_type"] == "GLiClass"
    assert json.loads(json.dumps(data))  # JSON-serialisable as written


def test_config_round_trips_through_dict_and_file(tmp_path) -> None:
    config = _small_config(
        scorer_type="mlp", pooling_strategy="avg", prompt_first=True, rag={"calibration": {"temperature": 2.0}}
    )
    again = GLiClassConfig.from_dict(config.to_dict())
    assert again.to_dict() == config.to_dict()
    assert again.scorer_type == "mlp"
    assert again.prompt_first is True
    assert again.rag["calibration"] == {"temperature": 2.0}
    config.save_pretrained(tmp_path)
    assert GLiClassConfig.from_pretrained(tmp_path).to_dict() == config.to_dict()


def test_config_warns_for_a_checkpoint_from_a_newer_release() -> None:
    data = _small_config().to_dict()
    data["gliclass_rag"]["version"] = "999.0"
    with pytest.warns(UserWarning, match="999.0"):
        GLiClassConfig.from_dict(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GLiClassConfig.from_dict(_small_config().to_dict())


def test_config_is_frozen() -> None:
    config = _small_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.scorer_type = "mlp"  # type: ignore[misc]
    changed = config.replace(scorer_type="mlp")
    assert changed.scorer_type == "mlp"
    assert config.scorer_type == "simple"


def test_config_rejects_another_model_type() -> None:
    data = _small_config().to_dict()
    data["model_type"] = "bert"
    with pytest.raises(ConfigError, match="'bert'"):
        GLiClassConfig.from_dict(data)
