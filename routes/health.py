"""GET /health: whether the model is loaded, and which one."""

from __future__ import annotations

from flask import Blueprint

from routes.apispec import SERVICE, answers, api
from routes.auth import public
from routes.errors import retry_after
from routes.resources import get_jobs_database, get_model_host, get_settings, get_task_queue
from routes.responses import json_response
from routes.schemas import Health, HealthError, HealthUnavailable

bp = Blueprint("health", __name__)


@bp.get("/health")
@public  # load balancers and probes ask it without a key
@api.validate(resp=answers(HTTP_200=(Health, "The model is loaded."),
                           HTTP_503=(HealthUnavailable, "The model is still loading (with Retry-After) or failed "
                                                        "to load.")),
              tags=[SERVICE], operation_id="health")
def health():
    """Whether the model is loaded, and which one

    503 while the model loads (or failed to), 200 with the model's settings once it is ready.
    """
    host = get_model_host()
    if host.state == "loading":
        return json_response(HealthUnavailable(status="loading"), 503, retry_after("model_loading"))
    if host.state == "failed":
        error = HealthError(code="model_unavailable", message=host.failure)
        return json_response(HealthUnavailable(status="failed", error=error), 503)
    queue = get_task_queue()
    workers = queue.live_workers(get_jobs_database()) if queue is not None else None
    return json_response(Health(status="ok", model=host.get().info, role=get_settings().role, workers=workers))
