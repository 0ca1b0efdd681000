"""Small building blocks with the reference checkpoints' parameter names: projector, BiLSTM, layer-wise attention."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from transformers.activations import ACT2FN

from ..errors import ConfigError

__all__ = ["BiLSTM", "FeaturesProjector", "LayerwiseAttention"]


class FeaturesProjector(nn.Module):
    """``linear_2(dropout(act(linear_1(x))))``: in_features -> hidden -> out_features."""

    def __init__(self, in_features: int, hidden: int, out_features: int, act: str = "gelu", dropout: float = 0.0):
        super().__init__()
        if act not in ACT2FN:
            msg = f"unknown projector_hidden_act {act!r}; allowed: {', '.join(sorted(ACT2FN))}"
            raise ConfigError(msg)
        self.linear_1 = nn.Linear(in_features, hidden)
        self.act = ACT2FN[act]
        self.dropout = nn.Dropout(dropout)
        self.linear_2 = nn.Linear(hidden, out_features)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.dropout(self.act(self.linear_1(features))))  # (..., out_features)


class BiLSTM(nn.Module):
    """Bidirectional LSTM over the text tokens (hidden/2 per direction), padding-aware."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(hidden_size, hidden_size // 2, batch_first=True, bidirectional=True)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        lengths = mask.sum(dim=1).clamp_min(1).cpu()  # (B,)
        packed = pack_padded_sequence(tokens, lengths, batch_first=True, enforce_sorted=False)
        output, _ = self.lstm(packed)
        padded, _ = pad_packed_sequence(output, batch_first=True, total_length=tokens.shape[1])
        return padded  # (B, L, D)


class LayerwiseAttention(nn.Module):
    """Squeeze-excitation over encoder layers (paper eq. 3-6), then an output projection.

    The reference allocates ``W1: K -> K/2`` with K = the backbone's number of layers; it is given the layer
    outputs (the embedding output, which transformers puts first in ``hidden_states``, is left out so the shapes
    agree). A checkpoint whose W1 takes K + 1 inputs gets every hidden state, embeddings included.
    """

    def __init__(self, num_layers: int, hidden_size: int, output_size: int | None = None) -> None:
        super().__init__()
        self.squeeze = nn.Linear(hidden_size, 1)
        self.W1 = nn.Linear(num_layers, num_layers // 2)
        self.W2 = nn.Linear(num_layers // 2, num_layers)
        self.output_projection = nn.Linear(hidden_size, output_size or hidden_size)

    def forward(self, hidden_states: tuple[torch.Tensor, ...], mask: torch.Tensor) -> torch.Tensor:
        layers = self.W1.in_features
        stacked = torch.stack(hidden_states[-layers:], dim=1)  # (B, K, L, D)
        weights_per_token = mask[:, None, :].to(stacked.dtype)  # (B, 1, L): padding never enters the mean
        token_scores = self.squeeze(stacked).squeeze(-1)  # (B, K, L)
        squeezed = (token_scores * weights_per_token).sum(dim=2) / weights_per_token.sum(dim=2).clamp_min(1)  # (B, K)
        weights = torch.sigmoid(self.W2(F.relu(self.W1(squeezed))))  # (B, K)
        mixed = (stacked * weights[:, :, None, None]).sum(dim=1)  # (B, L, D)
        return self.output_projection(mixed)  # (B, L, D_out)
