"""The document library over HTTP with the fake model: storing every kind of file, listing and searching, pages,
renaming, deleting (and what goes with it), results made for a stored document, and each key's own library."""

from __future__ import annotations

import io
import sqlite3

import pytest

from routes.resources import close_app
from settings import load_settings
from tests.conftest import post_json
from tests.fakes import FakeModel
from tests.pdfs import text_pdf

PORT_AVEN = "\n\n".join([
    "The lighthouse at Port Aven was built in 1850 to guide fishing boats past the reef. Its lens came from Paris.",
    "It was automated in 1985, and the last keeper, Marie Le Goff, left the island that year.",
    "Storms in 1910 damaged the tower, and local masons rebuilt its granite walls over two summers.",
])


def add_text(client, text: str = PORT_AVEN, title: str | None = "Port Aven", **headers):
    body = {"text": text} | ({"title": title} if title else {})
    return post_json(client, "/documents", body, headers=headers)


@pytest.fixture
def app(make_app, fake_model, database_settings):
    """This module's app, on SQLite and then on PostgreSQL."""
    return make_app(fake_model, **database_settings)


def test_a_text_is_stored_once(client):
    first = add_text(client)
    assert first.status_code == 201, first.get_json()
    stored = first.get_json()
    assert first.headers["Location"] == f"/documents/{stored['document_id']}"
    assert stored["title"] == "Port Aven" and stored["pages"] == 1 and stored["created"] is True
    assert stored["characters"] == len(PORT_AVEN) and stored["kind"] == "text" and stored["ocr_pages"] == []
    again = add_text(client)
    assert again.status_code == 200
    assert again.get_json()["document_id"] == stored["document_id"] and again.get_json()["created"] is False
    assert len(client.get("/documents").get_json()["documents"]) == 1


def test_a_long_text_is_paged_at_paragraph_ends(client):
    paragraphs = [f"Paragraph {n} tells of harbour number {n} and its {n * 3} boats. " * 5 for n in range(40)]
    stored = add_text(client, "\n\n".join(paragraphs), title=None).get_json()
    assert stored["pages"] == 4  # about 11,000 characters
    assert stored["title"].startswith("Paragraph 0 tells of harbour")
    for number in range(1, stored["pages"] + 1):
        page = client.get(f"/documents/{stored['document_id']}/pages/{number}").get_json()
        assert len(page["text"]) <= 3000
        assert page["text"].startswith("Paragraph ") and page["text"].endswith("boats.")


def _docx(paragraphs: list[str], title: str) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "data", "title", "kind"), [
    ("notes.md", f"# Port Aven\n\n{PORT_AVEN}".encode(), "notes.md", "file"),
    ("page.html", f"<html><head><title>The Reef Light</title><script>var x = 'hidden';</script></head><body>"
                  f"<h1>Port Aven</h1>{''.join(f'<p>{p}</p>' for p in PORT_AVEN.split(chr(10) * 2))}</body></html>"
                  .encode(), "The Reef Light", "file"),
    ("report.docx", _docx(PORT_AVEN.split("\n\n"), "Keeper's Report"), "Keeper's Report", "file"),
    ("aven.pdf", text_pdf(["First page about the reef light.", PORT_AVEN.replace("\n\n", " ")]), "aven.pdf", "pdf"),
])
def test_every_kind_of_file_is_read(client, name, data, title, kind):
    answer = client.post("/documents", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    assert answer.status_code == 201, answer.get_json()
    stored = answer.get_json()
    assert (stored["title"], stored["kind"], stored["filename"]) == (title, kind, name)
    text = " ".join(client.get(f"/documents/{stored['document_id']}/pages/{number}").get_json()["text"]
                    for number in range(1, stored["pages"] + 1))
    assert "Marie Le Goff" in text
    assert "hidden" not in text and "<p>" not in text


def test_unreadable_files_are_refused_as_before(client):
    for name, data, status in [("empty.txt", b"", 400), ("picture.png", b"\x89PNG\r\n\x1a\n" + bytes(64), 415),
                               ("fake.docx", b"not a zip at all", 415)]:
        answer = client.post("/documents", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
        assert answer.status_code == status, (name, answer.get_json())
        assert answer.get_json()["error"]["message"]
    assert client.get("/documents").get_json()["documents"] == []
    assert add_text(client, "   ").status_code == 400
    assert post_json(client, "/documents", {"text": "x", "colour": "red"}).status_code == 400


def test_listing_is_newest_first_searchable_and_paged(client):
    ids = [add_text(client, f"Harbour {n} has {n} cranes and a {word} lighthouse.", title=f"Harbour {n}")
           .get_json()["document_id"] for n, word in enumerate(["red", "green", "blue"])]
    listed = client.get("/documents?limit=2").get_json()
    assert [document["document_id"] for document in listed["documents"]] == ids[::-1][:2]
    assert listed["next"] == "/documents?limit=2&offset=2"
    assert [d["document_id"] for d in client.get(listed["next"]).get_json()["documents"]] == [ids[0]]
    assert [d["title"] for d in client.get("/documents?q=green").get_json()["documents"]] == ["Harbour 1"]
    assert [d["title"] for d in client.get("/documents?q=harbour%202").get_json()["documents"]] == ["Harbour 2"]
    assert client.get("/documents?q=lighthouses").get_json()["documents"]  # stems match
    assert client.get("/documents?q=zeppelin").get_json()["documents"] == []
    assert client.get("/documents?q=%22%20OR%20NEAR(").get_json()["documents"] == []  # words, never FTS syntax
    assert client.get("/documents?q=%22%20%2A%20%28").status_code == 400  # no words at all: said so


def test_pages_titles_and_deletion(client, fake_model):
    document_id = add_text(client).get_json()["document_id"]
    page = client.get(f"/documents/{document_id}/pages/1").get_json()
    assert page == {"document_id": document_id, "page": 1, "pages": 1, "ocr": False, "text": PORT_AVEN}
    for missing in (f"/documents/{document_id}/pages/2", f"/documents/{document_id}/pages/0",
                    f"/documents/{document_id}/pages/-3", f"/documents/{document_id}/pages/{10**20}",
                    "/documents/nope", "/documents/nope/pages/1"):
        answer = client.get(missing)
        assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
    renamed = client.patch(f"/documents/{document_id}", json={"title": "The Reef Light"})
    assert renamed.status_code == 200 and renamed.get_json()["title"] == "The Reef Light"
    assert client.get("/documents?q=reef").get_json()["documents"][0]["title"] == "The Reef Light"
    assert client.patch(f"/documents/{document_id}", json={"title": ""}).status_code == 400

    summary = post_json(client, "/generate-summary", {"document_id": document_id, "length": "short"})
    assert summary.status_code == 200, summary.get_json()
    assert client.get(f"/documents/{document_id}").get_json()["results"][0]["task"] == "summary"
    assert client.delete(f"/documents/{document_id}").status_code == 204
    assert client.get(f"/documents/{document_id}").status_code == 404
    assert client.delete(f"/documents/{document_id}").status_code == 404
    assert client.get("/jobs").get_json()["jobs"] == [  # the summary made from it went with it
        job for job in client.get("/jobs").get_json()["jobs"] if job["task"] == "document"
    ]
    assert client.get("/documents?q=lighthouse").get_json()["documents"] == []
    assert post_json(client, "/generate-summary", {"document_id": document_id}).status_code == 404


def test_a_result_made_for_a_document_is_reused(client, fake_model):
    document_id = add_text(client).get_json()["document_id"]
    first = post_json(client, "/generate-points", {"document_id": document_id, "count": 2})
    calls = len(fake_model.calls)
    second = post_json(client, "/generate-points", {"document_id": document_id, "count": 2})
    assert first.status_code == second.status_code == 200
    assert second.get_json() == first.get_json() and len(fake_model.calls) == calls
    assert all(point["pages"] == [1] for point in first.get_json()["points"])  # a text's pages are cited too
    other = post_json(client, "/generate-points", {"document_id": document_id, "count": 3})
    assert other.status_code == 200 and len(fake_model.calls) > calls
    results = client.get(f"/documents/{document_id}").get_json()["results"]
    assert sorted(result["options"]["count"] for result in results) == [2, 3]
    both = post_json(client, "/generate-summary", {"document_id": document_id, "text": "Also this."})
    assert both.status_code == 400


def test_a_library_outlives_the_app(make_app, tmp_path):
    first = make_app(FakeModel(), data_dir=tmp_path / "data")
    document_id = add_text(first.test_client()).get_json()["document_id"]
    close_app(first)
    second = make_app(FakeModel(), data_dir=tmp_path / "data").test_client()
    assert second.get(f"/documents/{document_id}/pages/1").get_json()["text"] == PORT_AVEN


KEYS = "alice:alice-key-1,bob:bob-key,carol-unnamed-key"


def test_each_key_has_its_own_library(make_app, tmp_path):
    app = make_app(FakeModel(), api_key=KEYS, owner_secret="server-secret", data_dir=tmp_path / "data")
    client = app.test_client()
    alice, bob, carol = ({"X-API-Key": key} for key in ("alice-key-1", "bob-key", "carol-unnamed-key"))
    mine = add_text(client, **alice).get_json()["document_id"]
    theirs = add_text(client, **bob)
    assert theirs.status_code == 201 and theirs.get_json()["document_id"] != mine  # two libraries, two documents
    for path in (f"/documents/{mine}", f"/documents/{mine}/pages/1"):
        assert client.get(path, headers=bob).status_code == 404
        assert client.get(path, headers=alice).status_code == 200
    assert client.delete(f"/documents/{mine}", headers=bob).status_code == 404
    assert post_json(client, "/ask", {"question": "When was it automated?", "document_ids": [mine]},
                     headers=carol).status_code == 404
    assert client.get("/documents", headers=carol).get_json()["documents"] == []

    summary = post_json(client, "/generate-summary", {"text": PORT_AVEN}, headers=alice).get_json()
    jobs_of = {name: client.get("/jobs", headers=headers).get_json()["jobs"]
               for name, headers in (("alice", alice), ("bob", bob), ("carol", carol))}
    assert {job["task"] for job in jobs_of["alice"]} == {"document", "summary"}
    assert {job["task"] for job in jobs_of["bob"]} == {"document"} and jobs_of["carol"] == []
    (alice_summary,) = [job for job in jobs_of["alice"] if job["task"] == "summary"]
    assert client.get(alice_summary["status_url"], headers=bob).status_code == 404
    assert client.delete(alice_summary["status_url"], headers=bob).status_code == 404
    # The same request from another key is its own job, never a shared result.
    post_json(client, "/generate-summary", {"text": PORT_AVEN}, headers=bob)
    (bob_summary,) = [job for job in client.get("/jobs", headers=bob).get_json()["jobs"] if job["task"] == "summary"]
    assert bob_summary["job_id"] != alice_summary["job_id"] and summary["summary"]
    close_app(app)

    # A named key can be rotated: the library follows the name. The database holds no key.
    rotated = make_app(FakeModel(), api_key="alice:alice-key-2", data_dir=tmp_path / "data").test_client()
    assert rotated.get(f"/documents/{mine}", headers={"X-API-Key": "alice-key-2"}).status_code == 200
    raw = b"".join(path.read_bytes() for path in (tmp_path / "data").iterdir())
    for key in ("alice-key-1", "bob-key", "carol-unnamed-key", "server-secret"):
        assert key.encode() not in raw


def test_what_was_made_before_keys_stays_shared(make_app, tmp_path):
    open_app = make_app(FakeModel(), data_dir=tmp_path / "data")
    document_id = add_text(open_app.test_client()).get_json()["document_id"]
    close_app(open_app)
    keyed = make_app(FakeModel(), api_key="alice:k1", data_dir=tmp_path / "data").test_client()
    assert keyed.get(f"/documents/{document_id}", headers={"X-API-Key": "k1"}).status_code == 404
    reopened = make_app(FakeModel(), data_dir=tmp_path / "data").test_client()
    assert reopened.get(f"/documents/{document_id}").status_code == 200


def test_an_unnamed_key_needs_the_owner_secret():
    with pytest.raises(Exception, match="OWNER_SECRET"):
        load_settings(api_key="just-a-key")
    with pytest.raises(Exception, match="API_KEY names"):
        load_settings(api_key="bad name:key")
    assert load_settings(api_key="alice:k1, bob:k2").api_keys() == [("alice", "k1"), ("bob", "k2")]


def test_the_library_tables_are_in_the_data_store(client, app):
    add_text(client)
    settings = app.extensions["settings"]
    if settings.database_url is None:
        with sqlite3.connect(settings.data_dir / "jobs.sqlite3") as db:
            assert db.execute("SELECT COUNT(*) FROM passages").fetchone()[0] >= 1
            assert db.execute("SELECT COUNT(*) FROM passages_index WHERE passages_index MATCH 'keeper'").fetchone()[0]
        db.close()
    else:  # PostgreSQL's own full-text search: the stemmed words of each passage, in a GIN index
        import psycopg

        with psycopg.connect(settings.database_url.get_secret_value()) as db:
            assert db.execute("SELECT COUNT(*) FROM passages").fetchone()[0] >= 1
            assert db.execute("SELECT COUNT(*) FROM passages WHERE words @@ plainto_tsquery('english', 'keepers')"
                              ).fetchone()[0]
        assert not (settings.data_dir / "jobs.sqlite3").exists()  # nothing went to the embedded file


def test_a_nul_character_is_refused_in_bodies_and_urls_on_either_store(client):
    # PostgreSQL cannot store or even compare text holding NUL; a text file holding one is refused as binary.
    refused = add_text(client, text="A tower\u0000 stands on the reef.")
    assert refused.status_code == 400 and "'text' holds a NUL character" in refused.get_json()["error"]["message"]
    nested = post_json(client, "/v1/chat/completions",
                       {"model": "fake-model", "messages": [{"role": "user", "content": "Hi\u0000"}]})
    assert nested.status_code == 400 and "'messages.0.content'" in nested.get_json()["error"]["message"]
    document_id = add_text(client).get_json()["document_id"]
    asked = post_json(client, "/ask", {"question": "Who\u0000 built it?", "document_ids": [document_id]})
    assert asked.status_code == 400 and "'question'" in asked.get_json()["error"]["message"]
    for path in (f"/documents/{document_id}%00", "/jobs/ab%00cd", "/collections/a%00b"):
        missing = client.get(path)
        assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert client.delete(f"/documents/{document_id}%00").status_code == 404
    assert client.get("/documents?q=reef%00").status_code == 400
    named = client.post("/documents", data={"file": (io.BytesIO(PORT_AVEN.encode()), "port\x00aven.txt")},
                        content_type="multipart/form-data")
    assert named.status_code == 201 and named.get_json()["filename"] == "portaven.txt"
