"""Every setting of the service, typed and bounded, from environment variables and CLI flags alike."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from llm.budgets import BUDGETS
from llm.summarize import SummaryPlan
from pdf_tools import Limits

if TYPE_CHECKING:
    from tasks.document import ReadingLimits

DEFAULT_MODEL = "smollm2-135m-instruct"
PDF_LIMITS = Limits()  # the PDF reader's own defaults are the settings' defaults


KEY_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


class SettingsError(ValueError):
    """A setting has a value the service cannot start with; the message is one line."""


# A request field whose upper bound is a setting of the running server names that setting under this key of its
# JSON schema: requests are checked against the setting's value (the settings given as validation context), and the
# API description shows the value as the field's maximum.
MAXIMUM_SETTING = "x-maximum-setting"


def at_most_setting(name: str) -> dict[str, str]:
    """The json_schema_extra of a field whose maximum is a setting: Field(..., json_schema_extra=at_most_setting(
    "max_points"))."""
    return {MAXIMUM_SETTING: name}


class LimitedBySettings(BaseModel):
    """A request model some of whose fields are bounded by settings (validated with context={"settings": ...})."""

    @model_validator(mode="after")
    def _within_server_limits(self, info: ValidationInfo):
        settings = (info.context or {}).get("settings")
        if settings is None:  # read back from storage: checked when it was received
            return self
        for name, model_field in type(self).model_fields.items():
            extra = model_field.json_schema_extra if isinstance(model_field.json_schema_extra, dict) else {}
            setting = extra.get(MAXIMUM_SETTING)
            value = getattr(self, name)
            if not setting or value is None:
                continue
            limit = getattr(settings, setting)
            field = model_field.alias or name
            if isinstance(value, str | list):  # a length bound: characters of a text, items of a list
                if len(value) > limit:
                    unit = "characters" if isinstance(value, str) else "items"
                    raise PydanticCustomError("server_limit", "'{field}' must have at most {limit} {unit}",
                                              {"field": field, "limit": limit, "unit": unit})
            elif value > limit:
                raise PydanticCustomError(
                    "server_limit", "'{field}' must be at most {limit}",
                    {"field": field, "limit": f"{limit:g}" if isinstance(limit, float) else limit},
                )
        return self


def _available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    """The service's configuration: each field is an environment variable (upper case) and a flag."""

    model_config = SettingsConfigDict(
        case_sensitive=False,
        extra="ignore",
        env_ignore_empty=True,
        protected_namespaces=(),
        validate_default=True,
    )

    # Which model
    model: str = Field(
        DEFAULT_MODEL,
        min_length=1,
        description="Name of a model in models/catalog.json (used when MODEL_PATH and MODEL_REPO are unset).",
    )
    model_path: Path | None = Field(None, description="A local .gguf file to serve; takes precedence over the rest.")
    model_repo: str | None = Field(
        None, description="Hugging Face repo id to download MODEL_FILE from, e.g. bartowski/Llama-3.2-1B-Instruct-GGUF."
    )
    model_file: str | None = Field(None, description="File name of the .gguf inside MODEL_REPO.")
    models_dir: Path = Field(Path("models"), description="Folder where downloaded models are kept.")
    hf_token: SecretStr | None = Field(None, description="Hugging Face token for gated or private repos.")
    hf_hub_offline: bool = Field(False, description="Never download: use only files already in MODELS_DIR.")

    # llama.cpp
    n_ctx: int = Field(
        0,
        ge=0,
        le=1_048_576,
        description=(
            "Context size in tokens (256 or more); 0 means the model's trained context, capped at "
            f"{BUDGETS.max_default_n_ctx}."
        ),
    )
    n_gpu_layers: int = Field(
        -1, ge=-1, description="Layers to offload to the GPU; -1 offloads all when the build has a GPU (no-op on CPU)."
    )
    n_threads: int = Field(
        default_factory=_available_cpus, ge=1, le=1024, description="CPU threads for generation (default: all cores)."
    )
    slots: int = Field(
        0, ge=0, le=64,
        description="Sequences the model generates at once (continuous batching): several calls share each step, so "
        f"more requests are answered per minute; memory grows with SLOTS x N_CTX. 0 picks {BUDGETS.default_slots}, "
        "or fewer where memory is short; 1 runs one call at a time on llama-cpp-python's own Llama object.",
    )
    flash_attn: Literal["off", "on", "auto"] = Field(
        "off",
        description="Flash attention of the batching engine (SLOTS above 1): auto lets llama.cpp choose, as its own "
        "server does. Off keeps every answer the same as with SLOTS=1; on 2 CPU cores auto answered 1.2-1.25x the "
        "requests per minute at 8 slots, but its half-precision arithmetic cost summary quality (bench/RESULTS.md).",
    )
    n_batch: int = Field(512, ge=32, le=8192, description="Prompt tokens evaluated per batch.")
    rope_scaling_type: Literal["none", "linear", "yarn"] | None = Field(
        None, description="RoPE scaling: none, linear or yarn (default: what the model file says)."
    )
    rope_freq_base: float = Field(0.0, ge=0.0, le=1e9, description="RoPE base frequency; 0 keeps the model's.")
    rope_freq_scale: float = Field(
        0.0, ge=0.0, le=1.0, description="RoPE frequency scale, e.g. 0.5 doubles the context; 0 keeps the model's."
    )
    chat_format: str | None = Field(
        None, description="A llama-cpp-python chat format name (e.g. llama-3); default: the GGUF's own template."
    )
    seed: int = Field(
        BUDGETS.seed, ge=-1, le=2**31 - 1, description="Sampling seed; -1 picks a random one per request."
    )
    summary_read_tokens: int = Field(
        BUDGETS.summary_read_tokens, ge=0, le=1_000_000,
        description="Most tokens of a text a summary's writer reads (never more than fit N_CTX): a longer text is "
                    "read through its most salient sentences; 0 reads all of it (map and merge levels when it does "
                    "not fit). The default is measured on the bundled model; a bigger model may read more.",
    )
    summary_candidates: int = Field(
        BUDGETS.summary_candidates, ge=1, le=8,
        description="Summaries written of the same input, of which the one that best covers the document and "
                    "states only its facts is kept (more costs time).",
    )

    # Server
    host: str = Field("127.0.0.1", min_length=1, description="Address to listen on.")
    api_key: SecretStr | None = Field(
        None,
        description="When set (one key or a comma-separated list, each optionally named: alice:KEY1,bob:KEY2), "
        "every API endpoint needs one (not /health, the page, the docs); each name (or unnamed key) has its own "
        "library of documents, jobs and results.",
    )
    owner_secret: SecretStr | None = Field(
        None,
        description="Server secret that names the library of an unnamed API key (an HMAC of the key), so the "
        "database never holds a key; required when API_KEY has an unnamed key.",
    )
    port: int = Field(5000, ge=1, le=65535, description="Port to listen on.")
    max_upload_mb: float = Field(50.0, gt=0, le=4096, description="Largest upload (request body) accepted, in MB.")
    max_pages: int = Field(PDF_LIMITS.max_pages, ge=1, le=100_000, description="Most pages a PDF may have.")
    pdf_timeout_s: float = Field(
        PDF_LIMITS.timeout_s, gt=0, le=3600, description="Longest time reading one PDF may take, in seconds."
    )
    pdf_page_timeout_s: float = Field(
        PDF_LIMITS.page_timeout_s, gt=0, le=600,
        description="Longest time reading one page may take; slower pages are skipped."
    )
    pdf_memory_mb: int = Field(
        PDF_LIMITS.memory_mb, ge=256, le=65536, description="Memory cap for reading one PDF, in MB."
    )
    pdf_ocr: bool = Field(
        PDF_LIMITS.ocr, description="Read PDF pages without a text layer with OCR (where tesseract is installed)."
    )
    ocr_page_timeout_s: float = Field(
        PDF_LIMITS.ocr_page_timeout_s, gt=0, le=600,
        description="Longest time OCR of one page may take; slower pages are skipped.",
    )
    max_text_chars: int = Field(
        2_000_000, ge=100, le=100_000_000, description="Longest text accepted, in characters."
    )
    max_output_tokens: int = Field(
        2048, ge=16, le=32768, description="Upper bound for a request's max_tokens."
    )
    max_points: int = Field(20, ge=1, le=100, description="Upper bound for a request's count of key points.")
    max_question_chars: int = Field(
        2000, ge=10, le=100_000, description="Longest question (and longest turn of its history) /ask accepts."
    )
    max_ask_documents: int = Field(
        50, ge=1, le=10_000, description="Most documents one question (or one collection) may name."
    )
    max_waiting: int = Field(
        4000, ge=1, le=1_000_000,
        description="Most requests that may wait on jobs at once (synchronous requests, long-polls, event streams); "
        "past it they get 503 server_busy with Retry-After. Under gunicorn's gevent worker (the default) waiting "
        "holds no thread; with GUNICORN_WORKER_CLASS=gthread it is kept below GUNICORN_THREADS.",
    )
    max_variants: int = Field(
        BUDGETS.message_variants, ge=1, le=20, description="Upper bound for the messages one /generate-message "
        "request may ask for (`n`)."
    )
    max_message_points: int = Field(
        12, ge=1, le=100, description="Most key points one /generate-message request may send."
    )
    speech_voice: str = Field(
        "en-us", min_length=1, max_length=100, pattern=r"^[\w+-]+$",
        description="The voice /generate-audio speaks with unless a request names another: an espeak-ng voice "
        "name (GET /voices lists them; voice files added to espeak-ng's data folder count too).",
    )
    speech_command: str = Field(
        "espeak-ng", min_length=1, description="The speech engine's program (espeak-ng, run as a separate process)."
    )
    max_speech_chars: int = Field(
        20_000, ge=100, le=1_000_000, description="Longest text /generate-audio speaks as given (about 20 minutes "
        "of speech at the default); a text to summarize first may be as long as MAX_TEXT_CHARS."
    )
    data_dir: Path = Field(Path("data"), description="Folder for the embedded database (SQLite), used when "
                           "DATABASE_URL is unset.")
    database_url: SecretStr | None = Field(
        None, description="A PostgreSQL database (postgresql://user:password@host:5432/name) for jobs and the library "
        "instead of the SQLite file in DATA_DIR: what several API nodes and workers share.",
    )
    role: Literal["all", "api", "worker"] = Field(
        "all", description="What this process does: all (the API and a worker on one machine), api (HTTP only, no "
        "model weights: the workers run the jobs) or worker (loads the model and runs jobs; answers only /health and "
        "/metrics). api and worker need DATABASE_URL.",
    )
    worker_timeout_s: float = Field(
        30.0, ge=3, le=3600, description="A worker whose heartbeat is older than this is presumed dead: its job goes "
        "to another worker and resumes from its checkpoints (heartbeats come every third of it).",
    )
    database_pool_size: int = Field(
        10, ge=2, le=1000, description="Most connections one process keeps open to DATABASE_URL's PostgreSQL.",
    )
    job_ttl_hours: float = Field(168.0, gt=0, le=87600, description="How long finished jobs and results are kept.")
    max_queue: int = Field(100, ge=1, le=100_000, description="Most jobs that may wait; past that: 503 queue_full.")
    sync_timeout_s: float = Field(
        100.0, gt=0, le=3600, description="A synchronous request still running after this answers 202 with its job."
    )
    max_wait_s: float = Field(60.0, gt=0, le=600, description="Longest long-poll (GET /jobs/<id>?wait=S).")
    shutdown_grace_s: float = Field(
        10.0, ge=0, le=600,
        description="On SIGTERM, how long the running model call may go on; then it is cut short. Either way an "
        "unfinished job goes back in the queue and resumes from its last finished chunk.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Logging level.")
    log_format: Literal["text", "json"] = Field("text", description="Log lines as plain text or as JSON objects.")

    def pdf_limits(self) -> Limits:
        """The bounds on reading one PDF, for pdf_tools."""
        return Limits(max_pages=self.max_pages, timeout_s=self.pdf_timeout_s, page_timeout_s=self.pdf_page_timeout_s,
                      memory_mb=self.pdf_memory_mb, ocr=self.pdf_ocr, ocr_page_timeout_s=self.ocr_page_timeout_s)

    def summary_plan(self) -> SummaryPlan:
        """How summaries are made: SUMMARY_READ_TOKENS and SUMMARY_CANDIDATES."""
        return SummaryPlan(read_tokens=self.summary_read_tokens, candidates=self.summary_candidates)

    def reading_limits(self) -> ReadingLimits:
        """The bounds on reading any document: the PDF limits and MAX_TEXT_CHARS."""
        from tasks.document import ReadingLimits  # tasks/ reads settings' limits; imported late to avoid a cycle

        return ReadingLimits(pdf=self.pdf_limits(), max_chars=self.max_text_chars)

    @field_validator("model_path")
    @classmethod
    def _model_path_is_gguf(cls, value: Path | None) -> Path | None:
        if value is not None and value.suffix.lower() != ".gguf":
            raise ValueError("must be a .gguf file")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_is_postgres(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL (unset, the SQLite file in DATA_DIR is used)")
        return value

    @field_validator("rope_scaling_type", "chat_format", "log_level", "log_format", "role", mode="before")
    @classmethod
    def _lower_case(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _repo_and_file_together(self) -> Settings:
        if bool(self.model_repo) != bool(self.model_file):
            raise ValueError("MODEL_REPO and MODEL_FILE must be set together")
        if self.role != "all" and self.database_url is None:
            raise ValueError(f"ROLE={self.role} needs DATABASE_URL: API nodes and workers share one PostgreSQL")
        if self.n_ctx and self.n_ctx < 256:
            raise ValueError("N_CTX must be 0 (the model's own) or at least 256")
        keys = self.api_keys()
        if self.api_key is not None and not keys:
            raise ValueError("API_KEY is set but holds no key")
        if any(name is None for name, _ in keys) and self.owner_secret is None:
            raise ValueError(
                "API_KEY has an unnamed key, so OWNER_SECRET must be set too (it names that key's library without "
                "storing the key); make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return self

    def api_keys(self) -> list[tuple[str | None, str]]:
        """The API keys as (name, key): `alice:KEY1,KEY2` gives [("alice", "KEY1"), (None, "KEY2")]."""
        if self.api_key is None:
            return []
        keys = []
        for entry in self.api_key.get_secret_value().split(","):
            name, separator, key = entry.strip().partition(":")
            if not separator:
                name, key = None, entry
            elif not KEY_NAME.fullmatch(name):
                raise ValueError(f"API_KEY names must be letters, digits, '.', '_' or '-' (1-64), not {name[:64]!r}")
            if key.strip():
                keys.append((name, key.strip()))
        return keys


def _format_error(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "settings"
    message = first["msg"].removeprefix("Value error, ")
    if first["loc"]:
        return f"invalid setting {field.upper()}={first.get('input')!r}: {message}"
    return f"invalid settings: {message}"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with overrides on top; raises SettingsError with one line."""
    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as error:
        raise SettingsError(_format_error(error)) from None


def build_arg_parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with one --flag per setting, each documented with its environment variable."""
    parser = argparse.ArgumentParser(description=description)
    for name, field in Settings.model_fields.items():
        env = name.upper()
        default = field.get_default(call_default_factory=True)
        shown = "****" if name in ("hf_token", "api_key", "owner_secret") else default
        parser.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            default=None,
            metavar=env,
            help=f"{field.description} [env {env}; default {shown}]",
        )
    return parser


def settings_from_args(argv: list[str] | None = None, description: str = "") -> Settings:
    """Parse CLI flags and merge them over the environment."""
    args = build_arg_parser(description).parse_args(argv)
    return load_settings(**vars(args))


def _bounds(field) -> str:
    """The allowed values of a field, in words."""
    import annotated_types

    limits = []
    for rule in field.metadata:
        for kind, symbol in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            if isinstance(rule, getattr(annotated_types, kind.capitalize())):
                limits.append(f"{symbol} {getattr(rule, kind)}")
    choices = getattr(field.annotation, "__args__", ())
    literal = [arg for arg in choices if getattr(arg, "__origin__", None) is Literal]
    if literal:
        return ", ".join(literal[0].__args__)
    return ", ".join(limits)


def settings_table() -> str:
    """The settings as a Markdown table, for the README."""
    rows = ["| Variable | Flag | Default | Allowed | Meaning |", "|---|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = "all cores" if name == "n_threads" else field.get_default(call_default_factory=False)
        shown = "unset" if default is None else f"`{default}`"
        flag = "--" + name.replace("_", "-")
        rows.append(f"| `{name.upper()}` | `{flag}` | {shown} | {_bounds(field)} | {field.description} |")
    return "\n".join(rows)

if __name__ == "__main__":
    print(settings_table())  # noqa: T201 - regenerates the README's table
