// The library view: your stored documents (newest first, searchable), adding files or pasted text, and asking
// the documents listed or ticked.

import { $, documentHash, el, formatDate, plural } from "./dom.js";
import { ApiError, api, apiJson } from "./api.js";
import { followJob, jobError, ongoing } from "./jobs.js";
import { LIBRARY_MESSAGES, Notice, asApiError, describe, focusKey } from "./messages.js";
import { bindDropZone, isPdf } from "./files.js";
import { AskProblem, createAskBox } from "./ask.js";

const PAGE_SIZE = 50;
const SEARCH_DELAY_MS = 300;
// The most documents one question may name on a server with the default settings (MAX_ASK_DOCUMENTS).
const MAX_ASK_DOCUMENTS = 50;
const UPLOAD_MESSAGES = {
  ...LIBRARY_MESSAGES,
  pdf_password_required: "This PDF is protected: enter its password under “PDF options”, then add it again.",
};

const list = { documents: [], next: null, q: "", loaded: 0, selected: new Set() };
const titles = new Map(); // every document title seen, for quotes shown beside their document's name
const notice = new Notice($("library-message"));
let searchTimer = 0;

export function titleOf(documentId) {
  return titles.get(documentId) || "";
}

export function rememberTitle(doc) {
  titles.set(doc.document_id, doc.title);
}

// A line of news at the top of the library (a document deleted, say).
export function announce(text) {
  notice.show(text, "", "info");
}

// ---- the list ------------------------------------------------------------------------------------------

export async function refreshLibrary() {
  const q = $("search-q").value.trim();
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (q) params.set("q", q);
  await load(`documents?${params}`, q, false);
}

async function load(url, q, more) {
  const loading = (list.loaded += 1); // a newer search wins over an older one still on its way
  let page;
  try {
    page = await apiJson(url);
  } catch (error) {
    if (loading !== list.loaded) return;
    if (q && error instanceof ApiError && error.code === "invalid_request") {
      page = { documents: [] }; // a search of punctuation only: nothing to find
    } else {
      notice.failure(error, { messages: LIBRARY_MESSAGES });
      return;
    }
  }
  if (loading !== list.loaded) return;
  list.q = q;
  list.documents = more ? [...list.documents, ...page.documents] : page.documents;
  list.next = page.next || null;
  const listed = new Set(list.documents.map((doc) => doc.document_id));
  list.selected = new Set([...list.selected].filter((id) => listed.has(id)));
  for (const doc of page.documents) rememberTitle(doc);
  showList();
}

function showList() {
  const count = list.documents.length;
  let line;
  if (list.q) {
    line = count ? `${plural(count, "document")}${list.next ? " or more" : ""} with “${list.q}”.`
      : `No document has “${list.q}”.`;
  } else {
    line = count ? `${plural(count, "document")}${list.next ? " or more" : ""}, newest first.`
      : "No documents yet: add one above.";
  }
  $("library-count").textContent = line;
  $("document-list").replaceChildren(...list.documents.map(itemView));
  $("library-more").hidden = !list.next;
  showAskScope();
}

function itemView(doc) {
  const id = doc.document_id;
  const pick = el("input", { type: "checkbox", className: "doc-pick", checked: list.selected.has(id),
                             attrs: { "aria-label": `Ask “${doc.title}”` } });
  pick.addEventListener("change", () => {
    if (pick.checked) list.selected.add(id);
    else list.selected.delete(id);
    showAskScope();
  });
  const meta = el("p", { className: "doc-meta" },
    `${plural(doc.pages, "page")} · added ${formatDate(doc.created_at)}`);
  if (doc.ocr_pages && doc.ocr_pages.length) {
    meta.append(" ", el("span", {
      className: "badge", textContent: "OCR",
      title: `Read with OCR: ${plural(doc.ocr_pages.length, "page")}`,
      attrs: { "aria-label": `${plural(doc.ocr_pages.length, "page")} read with OCR` },
    }));
  }
  return el("li", { className: "doc-item" }, pick,
    el("div", { className: "doc-main" },
      el("a", { className: "doc-link", href: documentHash(id), textContent: doc.title }), meta));
}

// ---- asking the library --------------------------------------------------------------------------------

function askedIds() {
  if (list.selected.size) return [...list.selected];
  return list.documents.slice(0, MAX_ASK_DOCUMENTS).map((doc) => doc.document_id);
}

function showAskScope() {
  const ticked = list.selected.size;
  const listed = Math.min(list.documents.length, MAX_ASK_DOCUMENTS);
  $("library-ask-scope").textContent = ticked ? `Asks the ${plural(ticked, "document")} you ticked.`
    : listed ? `Asks the ${plural(listed, "document")} listed${list.q ? " (the search’s)" : ""}; tick some to ask ` +
      "only those." : "Add a document to ask it questions.";
}

function documentIds() {
  const ids = askedIds();
  if (!ids.length) throw new AskProblem(list.q ? "No document is listed: change the search first."
    : "Your library is empty: add a document first.");
  return ids;
}

// ---- adding documents ----------------------------------------------------------------------------------

function logLine(name) {
  const line = el("li", {}, el("span", { className: "upload-name", textContent: name }), ": ",
    el("span", { className: "upload-state", textContent: "adding…" }));
  $("upload-log").prepend(line);
  return line;
}

function logOutcome(line, doc, created) {
  const state = line.querySelector(".upload-state");
  state.replaceChildren(
    created ? `added, ${plural(doc.pages, "page")}. ` : "already in your library. ",
    el("a", { href: documentHash(doc.document_id), textContent: "Open it" }),
  );
  if (doc.warnings && doc.warnings.length) state.append(` (${doc.warnings.join("; ")})`);
}

function logFailure(line, error) {
  const { text, detail, field } = describe(asApiError(error), {
    messages: UPLOAD_MESSAGES,
    fieldFor: (code) => (code.startsWith("pdf_password") ? "library-password" : ""),
  });
  line.classList.add("is-error");
  line.querySelector(".upload-state").textContent = detail ? `${text} ${detail}` : text;
  if (field === "api-key") focusKey();
  if (field === "library-password") {
    $("library-pdf-box").open = true;
    $("library-password").focus();
  }
}

// POST /documents, following the job when reading takes a while: the stored document and whether it is new.
async function store(request, line) {
  const response = await api("documents", { method: "POST", ...request });
  const answer = await response.json();
  if (response.status !== 202) return { doc: answer, created: answer.created };
  const job = await followJob(answer.status_url, {
    onProgress: (progress) => {
      line.querySelector(".upload-state").textContent = ongoing(progress).toLowerCase();
    },
  });
  if (job.status !== "succeeded") throw jobError(job);
  return { doc: job.result, created: job.result.created };
}

async function addFiles(files) {
  notice.hide();
  for (const file of files) {
    const line = logLine(file.name);
    const body = new FormData();
    body.append("file", file, file.name);
    body.append("async", "true");
    if (isPdf(file)) {
      if ($("library-pages").value.trim()) body.append("pages", $("library-pages").value.trim());
      if ($("library-password").value) body.append("password", $("library-password").value);
    }
    try {
      const { doc, created } = await store({ body }, line);
      rememberTitle(doc);
      logOutcome(line, doc, created);
    } catch (error) {
      logFailure(line, error);
    }
  }
  $("library-file").value = "";
  await refreshLibrary();
}

async function addText(event) {
  event.preventDefault();
  notice.hide();
  const text = $("paste-text").value;
  if (!text.trim()) {
    notice.show("Paste some text first.");
    $("paste-text").focus();
    return;
  }
  const title = $("paste-title").value.trim();
  const line = logLine(title || "Pasted text");
  $("paste-submit").disabled = true;
  try {
    const { doc, created } = await store({ json: { text, ...(title ? { title } : {}), async: true } }, line);
    rememberTitle(doc);
    logOutcome(line, doc, created);
    $("paste-text").value = "";
    $("paste-title").value = "";
  } catch (error) {
    logFailure(line, error);
  } finally {
    $("paste-submit").disabled = false;
  }
  await refreshLibrary();
}

// ---- wiring --------------------------------------------------------------------------------------------

function searchSoon() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(refreshLibrary, SEARCH_DELAY_MS);
}

export function initLibrary({ onCite }) {
  $("library-file").addEventListener("change", () => {
    if ($("library-file").files.length) addFiles([...$("library-file").files]);
  });
  bindDropZone($("library-drop"), (files) => addFiles([...files]));
  $("paste-form").addEventListener("submit", addText);
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(searchTimer);
    refreshLibrary();
  });
  $("search-q").addEventListener("input", searchSoon);
  $("library-more").addEventListener("click", () => {
    if (list.next) load(list.next, list.q, true);
  });
  createAskBox($("library-ask"), { prefix: "library-ask", documentIds, titleOf, onCite });
}
