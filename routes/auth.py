"""API keys: with API_KEY set, every endpoint needs `Authorization: Bearer <key>` or `X-API-Key`, except the ones
marked @public here (they describe or show; the web page asks for the key itself) and static files.

Each key has its own library (documents, collections, jobs, results): a named key's is its name, so the key can be
rotated and keep its library; an unnamed key's is an HMAC of the key with OWNER_SECRET, so the database never holds
a key. Without keys there is one shared library, SHARED_LIBRARY."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from flask import Flask, current_app, g, request

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


SHARED_LIBRARY = ""  # the library of a server without keys, and of everything made before keys were set


def current_library() -> str:
    """The library of this request's key."""
    return g.get("library", SHARED_LIBRARY)


def library_of(name: str | None, key: str, secret: bytes) -> str:
    """A key's library: its name, or for an unnamed key an HMAC of it (never the key itself)."""
    if name is not None:
        return f"name:{name}"
    return "key:" + hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:32]


def init_app(app: Flask, settings: Settings) -> None:
    """Check the key of every request to a closed endpoint, when the server has keys, and note its library."""
    if settings.api_key is None:
        return
    secret = settings.owner_secret.get_secret_value().encode() if settings.owner_secret else b""
    keys = [(key.encode(), library_of(name, key, secret)) for name, key in settings.api_keys()]

    @app.before_request
    def _require_key():
        if is_public(request.endpoint):
            return None
        offered = request.headers.get("X-API-Key", "")
        authorization = request.headers.get("Authorization", "")
        if authorization.lower().startswith("bearer "):
            offered = authorization[7:].strip()
        # Compare against every key, in constant time each, so timing tells nothing about which one matched.
        matched = None
        for key, library in keys:
            if hmac.compare_digest(offered.encode(), key) and matched is None:
                matched = library
        g.library = matched
        if matched is None:
            return error_response(
                401, "unauthorized", "this server needs an API key: send 'Authorization: Bearer <key>' or 'X-API-Key'",
                {"WWW-Authenticate": "Bearer"},
            )
        return None
