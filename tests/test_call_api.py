"""call_api.py's library commands (docs, add, ask, summary --document) end to end: the client, in this process,
against the fake-model app served over real HTTP by werkzeug in a thread (jobs are followed through their event
stream, as against the real server); one test asks the real model through `python api.py`. tests/test_server.py
runs the other commands against real server processes."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import requests

import call_api
from library.search import quote_on_page
from tests.conftest import ROOT, server_env
from tests.test_library import PORT_AVEN

HARBOUR = ("The harbour of Saint-Malo handles ferries to Portsmouth and Jersey.\n\nIts tidal range reaches 13 metres, "
           "so the inner basins are closed by locks.")
AUTOMATED = "The lighthouse was automated in 1985, when the last keeper left the island."
AUTOMATED_QUOTE = "It was automated in 1985, and the last keeper, Marie Le Goff, left the island that year."


@pytest.fixture
def service(serve):
    """The URL of the fake-model app."""
    return serve()


@pytest.fixture
def client(service, capsys, monkeypatch):
    """Runs call_api.py with these arguments against the service: (exit code, stdout, stderr)."""
    monkeypatch.setattr(call_api, "HEADERS", {})  # main() keeps the API key in a module global

    def run(*args: str) -> tuple[int, str, str]:
        code = call_api.main([*args, "--url", service])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def lighthouse(tmp_path):
    """A text file about the lighthouse."""
    path = tmp_path / "port-aven.txt"
    path.write_text(PORT_AVEN, encoding="utf-8")
    return path


def _stored_id(out: str) -> str:
    return out.split(": ", 1)[1].split()[0]


def test_add_stores_once_and_docs_lists_and_searches(client, lighthouse):
    code, out, err = client("add", str(lighthouse), "--title", "Port Aven")
    assert code == 0, err
    assert out.startswith("Stored: ") and out.rstrip().endswith("Port Aven  (1 page(s))")
    light = _stored_id(out)
    code, out, _ = client("add", str(lighthouse), "--title", "Port Aven")
    assert code == 0 and out.startswith(f"Already stored: {light}  Port Aven")
    code, out, err = client("add", "--text", HARBOUR, "--title", "Saint-Malo")
    assert code == 0, err
    harbour = _stored_id(out)

    code, out, _ = client("docs")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == [harbour, light]  # newest first
    assert re.fullmatch(rf"{light}  \d{{4}}-\d\d-\d\d \d\d:\d\d     1 p\.  Port Aven", lines[1]), lines[1]
    code, out, _ = client("docs", "--query", "tidal locks")
    assert [line.split()[0] for line in out.splitlines()] == [harbour]
    code, out, err = client("docs", "--limit", "1")
    assert [line.split()[0] for line in out.splitlines()] == [harbour]
    assert "raise --limit" in err
    code, out, err = client("docs", "--query", "volcano")
    assert code == 0 and out == "" and "no documents match" in err
    code, out, _ = client("docs", "--json")
    assert [document["document_id"] for document in json.loads(out)["documents"]] == [harbour, light]


def test_ask_a_file_stores_it_then_answers_with_quotes(client, fake_model, lighthouse):
    fake_model.responses.append(AUTOMATED)
    code, out, err = client("ask", str(lighthouse), "When was the lighthouse automated?")
    assert code == 0, err
    assert f"{lighthouse}: stored as " in err
    assert out == f"{AUTOMATED}\n\n  p. 1  “{AUTOMATED_QUOTE}”\n"
    assert "model fake-model" in err and "chunk" not in err
    stored = err.split(" stored as ")[1].split()[0]
    assert client("docs")[1].split()[0] == stored  # the file went into the library

    code, out, err = client("ask", stored, "When was the lighthouse automated?", "--json")  # by id, no upload
    assert code == 0, err
    answer = json.loads(out)
    assert answer["answered"] is True and answer["citations"][0]["document_id"] == stored
    assert "stored as" not in err


def test_a_question_the_documents_do_not_answer_still_exits_0(client, fake_model, lighthouse):
    code, out, err = client("ask", str(lighthouse), "What did the quantum chromodynamics simulation predict?")
    assert code == 0, err
    assert "do not mention" in out and out.rstrip().endswith("Not answered from the documents.")
    assert "p. " not in out and fake_model.calls == []


def test_ask_a_collection_names_each_quotes_document(client, service, fake_model, lighthouse):
    light = _stored_id(client("add", str(lighthouse), "--title", "Port Aven")[1])
    harbour = _stored_id(client("add", "--text", HARBOUR, "--title", "Saint-Malo")[1])
    put = requests.put(f"{service}/collections/coast", json={"document_ids": [light, harbour]}, timeout=10)
    assert put.status_code == 201, put.text
    fake_model.responses.append(AUTOMATED)
    code, out, err = client("ask", "--collection", "coast", "When was the lighthouse automated?")
    assert code == 0, err
    assert f"  Port Aven, p. 1  “{AUTOMATED_QUOTE}”" in out.splitlines()


def test_unknown_ids_exit_1_with_the_services_message(client):
    code, out, err = client("ask", "0123abcd", "Who kept the lighthouse?")
    assert (code, out) == (1, "")
    assert "404" in err and "no document '0123abcd': it never existed or was deleted" in err
    code, _, err = client("summary", "--document", "0123abcd")
    assert code == 1 and "no document '0123abcd'" in err
    code, _, err = client("ask", "--collection", "nowhere", "Who kept the lighthouse?")
    assert code == 1 and "404" in err


def test_a_missing_file_is_not_sent_as_an_id(client):
    code, _, err = client("ask", "missing.pdf", "Who kept the lighthouse?")
    assert code == 2 and "cannot read missing.pdf: no such file" in err


def test_summary_and_points_of_a_stored_document(client, fake_model, lighthouse):
    light = _stored_id(client("add", str(lighthouse))[1])
    code, out, err = client("summary", "--document", light, "--length", "short")
    assert code == 0, err
    assert "Port Aven" in out
    code, out, err = client("points", "--document", light, "--count", "2")
    assert code == 0, err
    assert out.startswith("1. ") and "\n2. " in out
    assert all(call.messages[-1]["content"].count("lighthouse at Port Aven") == 1 for call in fake_model.calls)


def test_add_async_then_job_shows_the_document(client, lighthouse):
    code, out, err = client("add", str(lighthouse), "--async")
    assert code == 0, err
    job_id = out.split()[1]
    code, out, err = client("job", job_id)
    assert code == 0, err
    assert out.startswith("Stored: ")


def test_message_prints_each_message_and_the_points_it_leaves_out(client, fake_model):
    fake_model.responses.extend([
        "We will have a system update on Friday. Please back up your work before then.",
        "Hello. The system update is on Friday.", "1. Nothing useful.",
    ])
    code, out, err = client("message", "We will have a system update on Friday.",
                            "Please back up your work before then.", "--to", "all staff", "--from", "IT", "--n", "2")
    assert code == 0, err
    first, second = out.split("--- Message ")[1:]
    assert first.startswith("1 (covers 2 of 2 points)\nSubject: We will have a system update on Friday\n\nHi all")
    assert first.rstrip().endswith("Thanks,\nIT")
    assert second.startswith("2 (covers 1 of 2 points; leaves out: Please back up your work before then.)")
    assert "leave out some of the points" in err


def test_on_a_terminal_the_text_is_printed_as_it_comes_and_only_once(client, fake_model, lighthouse, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # capsys's stdout, for the length of this test
    live: list[str] = []  # what was printed as it came (pieces without a line end of their own)

    def recording_print(*values, **options):
        if options.get("file") is None and options.get("end") == "":
            live.append("".join(map(str, values)))
        print(*values, **options)  # noqa: T201 (passes on to the real print)

    monkeypatch.setattr(call_api, "print", recording_print, raising=False)
    code, out, err = client("summary", str(lighthouse), "--length", "short")
    assert code == 0, err
    assert live and out == "".join(live) + "\n"  # the summary, as its deltas came, and not again at the end
    assert "Port Aven" in out
    live.clear()
    fake_model.responses.extend(["We will have a system update on Friday. Please back up your work before then.",
                                 "Hello. The system update is on Friday.", "1. Nothing useful."])
    code, out, err = client("message", "We will have a system update on Friday.",
                            "Please back up your work before then.", "--n", "2")
    assert code == 0, err
    assert live and out.startswith("".join(live)) and out.startswith("Message 1\nSubject:")
    assert out.count("Subject: We will have a system update on Friday") == 2  # each message once
    assert out.endswith("--- Message 1 covers 2 of 2 points\n--- Message 2 covers 1 of 2 points; leaves out: "
                        "Please back up your work before then.\n")


def test_job_shows_where_an_audio_jobs_audio_is(client, service):
    job = requests.post(f"{service}/generate-audio?async=true", json={"text": "The lighthouse was built in 1850."},
                        timeout=30).json()
    code, out, err = client("job", job["job_id"])
    assert code == 0, err
    assert re.fullmatch(rf"\d+ s of mp3 audio \([\d,]+ bytes, voice en-us\): GET /jobs/{job['job_id']}/audio\n", out)


@pytest.mark.parametrize("args, message", [
    (["message"], "give the points"),
    (["message", "one point", "--document", "0123abcd"], "not both"),
    (["ask", "0123abcd"], "give a file or document id and the question"),
    (["ask", "0123abcd", "Who?", "--collection", "coast"], "not both"),
    (["docs", "extra words"], "unexpected argument"),  # a forgotten ask: no question goes unread
    (["add"], "give the file to store, or --text"),
    (["summary", "--document", "0123abcd", "--text", "Some text."], "one of the three"),
    (["docs", "--collection", "coast"], "--collection applies only to ask"),
])
def test_bad_usage_exits_2(client, args, message):
    code, _, err = client(*args)
    assert code == 2 and message in err


def test_the_library_commands_send_the_api_key(serve, capsys, monkeypatch, lighthouse):
    monkeypatch.setattr(call_api, "HEADERS", {})
    url = serve(api_key="s3cret-key", owner_secret="test-secret")
    assert call_api.main(["docs", "--url", url]) == 1
    assert "401 unauthorized" in capsys.readouterr().err
    assert call_api.main(["ask", str(lighthouse), "Who kept the lighthouse?", "--url", url,
                          "--api-key", "s3cret-key"]) == 0
    assert "stored as" in capsys.readouterr().err
    assert call_api.main(["docs", "--url", url, "--api-key", "s3cret-key"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


@pytest.mark.model
def test_ask_the_sample_pdf_with_the_real_model(live_server):
    """The sample PDF, stored and asked through a real server: an answer with quotes of its pages, or a refusal."""
    result = subprocess.run(
        [sys.executable, "call_api.py", "ask", "samples/lighthouses.pdf", "Who invented the Fresnel lens?", "--json",
         "--url", live_server.url], cwd=ROOT, env=server_env(), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["answer"] and isinstance(answer["answered"], bool)
    for citation in answer["citations"]:
        page = requests.get(f"{live_server.url}/documents/{citation['document_id']}/pages/{citation['page']}",
                            timeout=10).json()
        assert quote_on_page(citation["quote"], page["text"])
