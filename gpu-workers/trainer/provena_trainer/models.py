"""The recipes' networks. No batch normalization: per-sample gradients (DP-SGD) need every sample independent."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .data import PAD, Preprocessor


def _mlp(n_in: int, hidden: list[int], n_out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(n_in, h), nn.ReLU()]
        n_in = h
    layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


class TabularMLP(nn.Module):
    """Numeric columns (already normalized) and one embedding per categorical column (id 0 = unknown), into an MLP."""

    def __init__(self, n_numeric: int, cardinalities: list[int], embedding_dim: int, hidden: list[int], n_out: int):
        super().__init__()
        self.embeddings = nn.ModuleList(nn.Embedding(c + 1, embedding_dim) for c in cardinalities)
        self.mlp = _mlp(n_numeric + embedding_dim * len(cardinalities), hidden, n_out)

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        parts = [x_num] + [emb(x_cat[:, j]) for j, emb in enumerate(self.embeddings)]
        return self.mlp(torch.cat(parts, dim=1))


class TextCNN(nn.Module):
    """Word embeddings, one 1-D convolution, max over the non-padding positions, then an MLP."""

    def __init__(self, vocab_size: int, embedding_dim: int, channels: int, kernel_size: int, hidden: list[int],
                 n_out: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD)
        self.conv = nn.Conv1d(embedding_dim, channels, kernel_size, padding=kernel_size // 2)
        self.mlp = _mlp(channels, hidden, n_out)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embedding(tokens).transpose(1, 2)  # (B, E, T)
        h = torch.relu(self.conv(x))[:, :, : tokens.shape[1]]
        mask = (tokens != PAD).unsqueeze(1).to(h.dtype)
        return self.mlp((h * mask).amax(dim=2))  # relu >= 0, so masked positions (0) never win over a real one


def n_outputs(pre: Preprocessor) -> int:
    return 1 if pre.kind == "tabular-regressor" else len(pre.classes)


def build_model(recipe: dict[str, Any], pre: Preprocessor) -> nn.Module:
    if recipe["kind"] == "text-classifier":
        return TextCNN(len(pre.vocab) + 2, recipe["embeddingDim"], recipe["convChannels"], recipe["kernelSize"],
                       recipe["hiddenSizes"], n_outputs(pre))
    return TabularMLP(len(pre.numeric), [len(c) for c in pre.categories], recipe["embeddingDim"],
                      recipe["hiddenSizes"], n_outputs(pre))
