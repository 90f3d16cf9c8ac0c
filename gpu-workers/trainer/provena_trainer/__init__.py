"""Provena trainer: PyTorch recipes on anonymized rows streamed over a framed pipe (see ../PROTOCOL.md)."""

from .recipe import plan_epsilon, validate_recipe
from .train import load_model, predict

__all__ = ["plan_epsilon", "validate_recipe", "load_model", "predict"]
