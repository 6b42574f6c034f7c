"""GET /health: whether the model is loaded, and which one."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, jsonify

from routes.resources import get_model_host

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """503 while the model loads (or failed to), 200 with the model's settings once it is ready."""
    host = get_model_host()
    if host.state == "loading":
        return jsonify({"status": "loading"}), 503, {"Retry-After": "5"}
    if host.state == "failed":
        error = {"code": "model_unavailable", "message": host.failure}
        return jsonify({"status": "failed", "error": error}), 503
    info = asdict(host.get().info)
    info.pop("extra")
    return jsonify({"status": "ok", "model": info})
