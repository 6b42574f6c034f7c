"""The app's shared resources (settings and the model host), wired the way flaskr wires its database."""

from __future__ import annotations

from flask import Flask, current_app

from llm.host import ModelHost
from llm.model import Model
from settings import Settings


def init_app(app: Flask, settings: Settings, model: Model | None = None, load: bool = True) -> ModelHost:
    """Attach settings and the model host; start loading the model unless one is given."""
    app.extensions["settings"] = settings
    if model is not None:
        host = ModelHost.with_model(model)
    else:
        host = ModelHost()
        if load:
            from llm.loader import load_model

            host.start(lambda: load_model(settings))
    app.extensions["model_host"] = host
    return host


def get_settings() -> Settings:
    """The settings of the running app."""
    return current_app.extensions["settings"]


def get_model_host() -> ModelHost:
    """The model host of the running app."""
    return current_app.extensions["model_host"]
