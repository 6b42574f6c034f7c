"""API keys: with API_KEY set, every endpoint needs `Authorization: Bearer <key>` or `X-API-Key`, except the ones
marked @public here (they describe or show; the web page asks for the key itself) and static files."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from flask import Flask, current_app, request

from routes.errors import error_response
from settings import Settings


def public(view: Callable) -> Callable:
    """Mark a view as open to everyone, even when API_KEY is set (the API description says so too)."""
    view.is_public = True
    return view


def is_public(endpoint: str | None) -> bool:
    """Whether an endpoint of the running app is open without a key."""
    if endpoint is None:
        return False
    if endpoint == "static" or endpoint.endswith(".static"):  # files of the page: no data in them
        return True
    return getattr(current_app.view_functions.get(endpoint), "is_public", False)


def init_app(app: Flask, settings: Settings) -> None:
    """Check the key of every request to a closed endpoint, when the server has keys."""
    if settings.api_key is None:
        return
    keys = [key.strip().encode() for key in settings.api_key.get_secret_value().split(",") if key.strip()]

    @app.before_request
    def _require_key():
        if is_public(request.endpoint):
            return None
        offered = request.headers.get("X-API-Key", "")
        authorization = request.headers.get("Authorization", "")
        if authorization.lower().startswith("bearer "):
            offered = authorization[7:].strip()
        # Compare against every key, in constant time each, so timing tells nothing about which one matched.
        matched = False
        for key in keys:
            matched |= hmac.compare_digest(offered.encode(), key)
        if not matched:
            return error_response(
                401, "unauthorized", "this server needs an API key: send 'Authorization: Bearer <key>' or 'X-API-Key'",
                {"WWW-Authenticate": "Bearer"},
            )
        return None
