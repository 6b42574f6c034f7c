"""The README stays true: its settings table, curl examples and client commands work as written."""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import soundfile

from llm.prompts import lengths_table
from settings import settings_table
from tests.conftest import ROOT, server_env

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)


def _commands(block: str) -> list[str]:
    joined = block.replace("\\\n", " ")
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip()]


def test_readme_opens_with_the_two_commands():
    first = _commands(_shell_blocks()[0])
    assert first == ["python3 manage.py serve", "python3 manage.py test"]


def test_ci_runs_the_readmes_test_command():
    assert "python3 manage.py test" in (ROOT / ".ci" / "run").read_text()


def test_settings_table_is_current():
    assert settings_table() in README


def test_summary_lengths_table_is_current():
    table = "\n".join("  " + line for line in lengths_table().splitlines())  # it sits in a list item
    assert table in README


@pytest.mark.model
def test_curl_examples_work(live_server):
    commands = [command for block in _shell_blocks() if block.lstrip().startswith("curl")
                for command in _commands(block)]
    assert len(commands) >= 8
    for command in commands:
        command = command.replace("http://127.0.0.1:5000", live_server.url)
        saved = re.search(r"--output (\S+)", command)
        with tempfile.TemporaryDirectory() as folder:  # audio examples save a file: here, not in the checkout
            result = subprocess.run(["bash", "-c", command], cwd=folder if saved else ROOT, capture_output=True,
                                    text=True, timeout=300)
            assert result.returncode == 0, (command, result.stderr)
            if saved:  # the audio itself, never a JSON answer saved under its name
                with soundfile.SoundFile(Path(folder) / saved[1]) as audio:
                    assert audio.format == "MP3" and audio.frames / audio.samplerate > 1, command
                continue
        if '"stream": true' in command:  # Server-Sent Events: data lines, ending with [DONE]
            events = [line for line in result.stdout.splitlines() if line]
            assert events[-1] == "data: [DONE]" and all(line.startswith("data: ") for line in events), command
            assert all("error" not in json.loads(line[6:]) for line in events[:-1]), command
            continue
        answer = json.loads(result.stdout)
        assert "error" not in answer, (command, answer)


@pytest.mark.model
def test_python_examples_work(live_server):
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
    assert blocks
    for block in blocks:
        code = block.replace("http://127.0.0.1:5000", live_server.url)
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, (block, result.stderr)
        assert result.stdout.strip(), block


@pytest.mark.model
def test_client_examples_work(live_server):
    block = next(block for block in _shell_blocks() if "call_api.py" in block)
    for command in _commands(block):
        command = command.replace(".venv/bin/python", sys.executable) + f" --url {live_server.url}"
        result = subprocess.run(
            ["bash", "-c", command], cwd=ROOT, env=server_env(), capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, (command, result.stderr)
        assert result.stdout.strip()
