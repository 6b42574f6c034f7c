"""The catalog of known models (models/catalog.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATALOG_PATH = Path(__file__).resolve().parent.parent / "models" / "catalog.json"


@dataclass(frozen=True)
class CatalogEntry:
    """One known model: either a hub repo and file, or a file shipped inside a PyPI package."""

    name: str
    description: str
    n_ctx_train: int
    size_gb: float
    repo: str | None = None
    file: str | None = None
    package: str | None = None
    package_file: str | None = None
    convert_to: str | None = None  # a faster quantization type to serve it as, made once into MODELS_DIR


@cache
def load_catalog(path: Path = CATALOG_PATH) -> dict[str, CatalogEntry]:
    """All catalog entries by name."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {name: CatalogEntry(name=name, **fields) for name, fields in raw.items()}
