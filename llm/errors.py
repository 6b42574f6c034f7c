"""Errors raised by the model layer; the API maps them to HTTP answers."""


class LLMError(Exception):
    """Base class for model-layer errors."""


class ModelUnavailableError(LLMError):
    """The model could not be found, downloaded or loaded."""


class ModelNotReadyError(LLMError):
    """The model is still loading."""


class ContextOverflowError(LLMError):
    """A prompt plus its output reserve does not fit the context window."""


class InputTooLargeError(LLMError):
    """The input cannot be processed within the configured limits."""


class CancelledError(LLMError):
    """The work was cancelled by its caller."""
