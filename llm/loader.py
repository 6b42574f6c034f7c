"""Build the configured model: find (or download) its file, then load it."""

from __future__ import annotations

from llm.model import Model
from llm.source import resolve


def load_model(settings) -> Model:
    """The model the settings describe, loaded and ready."""
    from llm.llama import LlamaCppModel  # llama_cpp is imported only when a real model is wanted

    return LlamaCppModel(resolve(settings), settings)
