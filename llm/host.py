"""Holds the process's one model: loads it in the background and tells whether it is ready."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

from llm.errors import LLMError, ModelNotReadyError, ModelUnavailableError
from llm.model import Model

log = logging.getLogger(__name__)


def _without_paths(message: str) -> str:
    """The message with file system paths cut to their last part: clients never see server paths."""
    return re.sub(r"(?:[A-Za-z]:)?(?:[\\/][^\s\\/'\"]+)+[\\/]([^\s\\/'\"]+)", r"\1", message)


class ModelHost:
    """The model of this process, once loaded; states: loading, ready, failed."""

    def __init__(self) -> None:
        self._model: Model | None = None
        self._failure: str | None = None
        self._ready = threading.Event()
        self._owns_model = False  # a model handed in belongs to whoever loaded it
        self.load_seconds: float | None = None

    @classmethod
    def with_model(cls, model: Model) -> ModelHost:
        """A host that already holds a loaded model."""
        host = cls()
        host._model = model
        host.load_seconds = 0.0
        host._ready.set()
        return host

    def start(self, load: Callable[[], Model]) -> threading.Thread:
        """Load the model in a background thread so the server can answer /health meanwhile."""
        thread = threading.Thread(target=self._load, args=(load,), name="model-loader", daemon=True)
        thread.start()
        return thread

    def _load(self, load: Callable[[], Model]) -> None:
        started = time.monotonic()
        try:
            model = load()
        except LLMError as error:
            self._failure = _without_paths(str(error))
            log.error("model could not be loaded: %s", error)
        except Exception:
            self._failure = "the model could not be loaded; the server log has the details"
            log.exception("model could not be loaded")
        else:
            self._model = model
            self._owns_model = True
            self.load_seconds = time.monotonic() - started
            log.info("model %s loaded in %.1f s (n_ctx=%d)", model.name, self.load_seconds, model.n_ctx)
        finally:
            self._ready.set()

    @property
    def state(self) -> str:
        """One of loading, ready, failed."""
        if self._model is not None:
            return "ready"
        return "failed" if self._failure else "loading"

    @property
    def failure(self) -> str | None:
        """Why loading failed, in one line, if it did."""
        return self._failure

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until loading has ended (either way); True if it has."""
        return self._ready.wait(timeout)

    def get(self) -> Model:
        """The loaded model; raises if it is still loading or failed to load."""
        if self._model is not None:
            return self._model
        if self._failure:
            raise ModelUnavailableError(self._failure)
        raise ModelNotReadyError("the model is still loading; try again shortly")

    def close(self) -> None:
        """Free the model, if this host loaded it."""
        if self._model is not None and self._owns_model:
            self._model.close()
            self._model = None
            self._failure = "the model was closed"
