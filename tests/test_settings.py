"""Settings: defaults, environment, flags, bounds, and one-line errors at start-up."""

import subprocess
import sys

import pytest

from settings import SettingsError, load_settings, settings_from_args
from tests.conftest import ROOT, server_env


def test_defaults():
    settings = load_settings()
    assert settings.model == "smollm2-135m-instruct"
    assert (settings.n_ctx, settings.n_gpu_layers, settings.port, settings.host) == (0, -1, 5000, "127.0.0.1")
    assert settings.rope_scaling_type is None and settings.chat_format is None
    assert settings.n_threads >= 1


def test_environment_and_flags_feed_the_same_fields(monkeypatch):
    monkeypatch.setenv("N_CTX", "1024")
    monkeypatch.setenv("ROPE_SCALING_TYPE", "Linear")
    settings = settings_from_args(["--port", "6000", "--rope-freq-scale", "0.5"])
    assert (settings.n_ctx, settings.port, settings.rope_freq_scale) == (1024, 6000, 0.5)
    assert settings.rope_scaling_type == "linear"
    assert settings_from_args(["--n-ctx", "2048"]).n_ctx == 2048  # a flag wins over the environment


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"n_ctx": "-5"}, "N_CTX"),
        ({"n_ctx": "100"}, "N_CTX"),
        ({"n_ctx": "many"}, "N_CTX"),
        ({"n_gpu_layers": "-2"}, "N_GPU_LAYERS"),
        ({"n_threads": "0"}, "N_THREADS"),
        ({"rope_scaling_type": "dynamic"}, "ROPE_SCALING_TYPE"),
        ({"rope_freq_scale": "3"}, "ROPE_FREQ_SCALE"),
        ({"port": "70000"}, "PORT"),
        ({"seed": "-9"}, "SEED"),
        ({"model_path": "weights.bin"}, "MODEL_PATH"),
        ({"model_repo": "someone/repo"}, "MODEL_FILE"),
    ],
)
def test_bad_values_give_one_line_naming_the_setting(overrides, named):
    with pytest.raises(SettingsError) as caught:
        load_settings(**overrides)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_bad_setting_stops_start_up_without_a_traceback():
    env = server_env(N_CTX="lots")
    result = subprocess.run(
        [sys.executable, "api.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "N_CTX" in result.stderr


def test_unknown_catalog_model_stops_start_up_with_the_known_names():
    result = subprocess.run(
        [sys.executable, "api.py", "--model", "gpt-17"], cwd=ROOT, env=server_env(), capture_output=True,
        text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "llama-3.1-8b-instruct" in result.stderr


def test_help_lists_every_setting_flag():
    result = subprocess.run([sys.executable, "api.py", "--help"], cwd=ROOT, capture_output=True, text=True)
    for flag in ("--n-ctx", "--n-gpu-layers", "--n-threads", "--rope-scaling-type", "--rope-freq-base",
                 "--rope-freq-scale", "--chat-format", "--seed", "--host", "--port", "--model-repo"):
        assert flag in result.stdout
