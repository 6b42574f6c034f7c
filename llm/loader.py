"""Build the configured model: find (or download) its file, then load it."""

from __future__ import annotations

from llm.model import Model
from llm.source import resolve


def preflight(settings) -> None:
    """Check, before serving, what can be checked without loading the model: its file and chat format."""
    resolve(settings)  # finds the file, downloading it once if needed
    if settings.chat_format:
        from llm.llama import check_chat_format

        check_chat_format(settings.chat_format)


def load_model(settings) -> Model:
    """The model the settings describe, loaded and ready."""
    from llm.llama import BatchedLlamaModel, LlamaCppModel  # llama_cpp is imported only when a model is wanted

    # One slot keeps llama-cpp-python's own Llama object (and so today's exact output); more run the batching engine.
    kind = LlamaCppModel if settings.slots == 1 else BatchedLlamaModel
    model = kind(resolve(settings), settings)
    from llm.summarize import check_context

    try:
        check_context(model, settings.max_points)
    except Exception:
        model.close()
        raise
    return model


def load_vocabulary(settings) -> Model:
    """The tokenizer and chat template of the model the settings describe, without its weights (an API node)."""
    from llm.llama import LlamaVocabulary

    return LlamaVocabulary(resolve(settings), settings)
