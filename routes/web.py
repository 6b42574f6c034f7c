"""The web page at GET /: plain HTML, CSS and JavaScript from web/ (no build step, nothing loaded from outside).

The page calls the same JSON API as every other client; it holds no data of its own.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_from_directory

from routes.apispec import SERVICE, answers, api
from routes.auth import public

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
# Everything the page needs comes from this server; a PDF the user picked opens from a blob: URL, and so does a
# summary's audio (fetched with the API key, which an <audio> element cannot send).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

bp = Blueprint("web", __name__, static_folder=WEB_DIR / "assets", static_url_path="/assets")


@bp.get("/")
@public  # the page and its assets hold no data, and must load before the user has typed an API key
@api.validate(resp=answers(HTTP_200=(None, "An HTML page."), media={200: "text/html"}), tags=[SERVICE],
              operation_id="webPage")
def index():
    """The web page: upload a document, read the answer

    Pick or drop a document, or paste text; follow the job; read, copy or download the result.
    """
    response = send_from_directory(WEB_DIR, "index.html", max_age=0)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.after_request
def _no_sniffing(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
