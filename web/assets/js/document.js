// The document view: a stored document's pages, page by page; rename and delete; Summarize and Key points (the
// result panel shows them, as for an upload); the results made before; and an Ask box about the document.

import { $, documentHash, el, formatDate, plural, sentence } from "./dom.js";
import { ApiError, apiJson } from "./api.js";
import { LIBRARY_MESSAGES, Notice } from "./messages.js";
import { createAskBox } from "./ask.js";
import { run } from "./generate.js";
import { metaLine, pageLink, resultBody } from "./result.js";
import { announce, rememberTitle } from "./library.js";

const view = { id: null, detail: null, page: 0, wanted: null, loading: 0, navigate: null };
const notice = new Notice($("doc-message"));
const runNotice = new Notice($("doc-run-message"));
let askBox = null;

// Show the document at a page. highlight: a quote to mark on the page; focus: "title" (a document just opened),
// "page" (a page asked for) or "" (leave the focus where it is, as on a reload).
export async function openDocument(id, page, { highlight = "", focus = "" } = {}) {
  view.wanted = { page, highlight, focus: focus === "page" || highlight ? "page" : "" };
  if (id !== view.id) {
    view.id = id;
    view.detail = null;
    view.page = 0;
    askBox.reset();
    notice.hide();
    runNotice.hide();
    $("rename-form").hidden = true;
    $("doc-title").textContent = "Opening the document…";
    $("doc-meta").textContent = "";
    $("doc-body").hidden = true;
    if (focus) $("doc-title").focus();
    if (!(await loadDetail(id))) return;
  } else if (!view.detail) {
    return; // still opening: it shows the page wanted last
  } else if (focus === "title") {
    $("doc-title").focus();
  }
  const { page: wantedPage, ...options } = view.wanted;
  await showPage(wantedPage, options);
}

async function loadDetail(id) {
  let detail;
  try {
    detail = await apiJson(`documents/${encodeURIComponent(id)}`);
  } catch (error) {
    if (id !== view.id) return false;
    $("doc-title").textContent = "Document not found";
    notice.failure(error, { messages: LIBRARY_MESSAGES });
    return false;
  }
  if (id !== view.id) return false;
  view.detail = detail;
  rememberTitle(detail);
  showDetail();
  $("doc-body").hidden = false;
  return true;
}

function showDetail() {
  const detail = view.detail;
  $("doc-title").textContent = detail.title;
  document.title = `${detail.title} · Library`;
  const parts = [plural(detail.pages, "page"), plural(detail.characters, "character"),
                 `added ${formatDate(detail.created_at, true)}`];
  if (detail.filename && detail.filename !== detail.title) parts.unshift(detail.filename);
  $("doc-meta").replaceChildren(parts.join(" · "));
  if (detail.ocr_pages.length) {
    const pages = detail.ocr_pages.join(", ");
    $("doc-meta").append(" ", el("span", { className: "badge", textContent: "OCR" }),
      ` ${detail.ocr_pages.length === 1 ? "page" : "pages"} ${pages} read with OCR`);
  }
  $("doc-notes").hidden = !detail.warnings.length;
  $("doc-warnings").replaceChildren(...detail.warnings.map((warning) => el("li", { textContent: sentence(warning) })));
  showMadeResults();
}

// ---- pages ---------------------------------------------------------------------------------------------

async function showPage(number, { highlight = "", focus = "" } = {}) {
  const pages = view.detail.pages;
  const page = Math.min(Math.max(1, Number(number) || 1), pages);
  const loading = (view.loading += 1);
  $("page-prev").disabled = page <= 1;
  $("page-next").disabled = page >= pages;
  let answer;
  try {
    answer = await apiJson(`documents/${encodeURIComponent(view.id)}/pages/${page}`);
  } catch (error) {
    if (loading === view.loading) notice.failure(error, { messages: LIBRARY_MESSAGES });
    return;
  }
  if (loading !== view.loading) return; // a later page was asked for meanwhile
  view.page = page;
  $("page-heading").textContent = `Page ${page} of ${pages}`;
  $("page-ocr").hidden = !answer.ocr;
  const mark = showPageText(answer.text, highlight);
  // The address names the page shown, without a history entry per page turned.
  const hash = documentHash(view.id, page);
  if (location.hash !== hash) history.replaceState(null, "", hash);
  if (focus) {
    $("page-heading").focus({ preventScroll: true });
    $("page-viewer").scrollIntoView({ block: "start" });
  }
  if (mark) mark.scrollIntoView({ block: "nearest" });
}

// The page's text, with the quote marked where it is found (quotes are the page's words, spaces normalized).
function showPageText(text, quote) {
  const holder = $("page-text");
  holder.scrollTop = 0;
  const words = String(quote || "").trim().split(/\s+/).filter(Boolean);
  const found = words.length
    ? new RegExp(words.map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\s+")).exec(text) : null;
  if (!found) {
    holder.textContent = text;
    return null;
  }
  const mark = el("mark", { textContent: found[0] });
  holder.replaceChildren(text.slice(0, found.index), mark, text.slice(found.index + found[0].length));
  return mark;
}

function turnPage(step) {
  if (!view.detail) return;
  const page = view.page + step;
  if (page >= 1 && page <= view.detail.pages) showPage(page);
}

// ← and → turn the pages while the focus is in the page viewer (but not in a field).
function pageKeys(event) {
  if (event.target.matches("input, textarea, select") || event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === "ArrowLeft") turnPage(-1);
  else if (event.key === "ArrowRight") turnPage(1);
  else return;
  event.preventDefault();
}

// ---- results made before -------------------------------------------------------------------------------

function showMadeResults() {
  const { results, document_id: documentId, title } = view.detail;
  $("doc-results-none").hidden = results.length > 0;
  $("doc-results").replaceChildren(...results.map((made) => {
    const what = made.task === "summary" ? `Summary, ${made.options.length}` : `Key points, ${made.options.count}`;
    const request = { documentId, name: title };
    return el("details", { className: "made" },
      el("summary", {}, `${what} · ${formatDate(made.made_at, true)}`),
      el("div", { className: "result-body" }, resultBody(made.task, made.result, (page) => pageLink(page, { request }))),
      el("p", { className: "meta" }, ...metaLine(made.result)));
  }));
}

async function refreshResults(event) {
  if (!view.detail || event.detail.documentId !== view.id) return;
  try {
    view.detail = await apiJson(`documents/${encodeURIComponent(view.id)}`);
    showMadeResults();
  } catch {
    // the list of earlier results stays as it was; the new result is on show anyway
  }
}

// ---- summarize, rename, delete -------------------------------------------------------------------------

function make(task) {
  if (!view.detail) return;
  runNotice.hide();
  const request = { task, documentId: view.id, name: view.detail.title };
  if (task === "summary") {
    request.length = $("doc-length").value;
  } else {
    const count = Number($("doc-count").value);
    if (!$("doc-count").value.trim() || !Number.isInteger(count) || count < 1) {
      runNotice.show("The number of points must be a whole number, 1 or more.");
      $("doc-count").focus();
      return;
    }
    request.count = count;
  }
  run(request);
}

function startRename() {
  $("rename-title").value = view.detail.title;
  $("rename-form").hidden = false;
  $("rename-title").focus();
  $("rename-title").select();
}

function stopRename() {
  $("rename-form").hidden = true;
  $("rename").focus();
}

async function rename(event) {
  event.preventDefault();
  const title = $("rename-title").value.trim();
  if (!title) {
    notice.show("A title cannot be empty.");
    $("rename-title").focus();
    return;
  }
  notice.hide();
  try {
    const renamed = await apiJson(`documents/${encodeURIComponent(view.id)}`, { method: "PATCH", json: { title } });
    view.detail = { ...view.detail, title: renamed.title };
    rememberTitle(renamed);
    showDetail();
    $("rename-form").hidden = true;
    $("doc-title").focus();
  } catch (error) {
    notice.failure(error, { messages: LIBRARY_MESSAGES });
  }
}

function askDelete() {
  $("delete-dialog-text").textContent =
    `“${view.detail.title}”, its pages and the summaries and key points made from it will be gone for good.`;
  $("delete-dialog").returnValue = ""; // Escape leaves the last answer in place: it must not be "delete"
  $("delete-dialog").showModal();
}

async function remove() {
  const { title } = view.detail;
  try {
    await apiJson(`documents/${encodeURIComponent(view.id)}`, { method: "DELETE" });
  } catch (error) {
    if (!(error instanceof ApiError && error.code === "not_found")) {
      notice.failure(error, { messages: LIBRARY_MESSAGES });
      return;
    }
  }
  view.id = null;
  view.detail = null;
  announce(`Deleted “${title}”.`);
  view.navigate("#library", { replace: true }); // Back must not lead to the deleted document
}

// navigate(hash) opens another view.
export function initDocument({ navigate, onCite }) {
  view.navigate = navigate;
  askBox = createAskBox($("doc-ask"), {
    prefix: "doc-ask",
    documentIds: () => [view.id],
    onCite,
  });
  $("page-prev").addEventListener("click", () => turnPage(-1));
  $("page-next").addEventListener("click", () => turnPage(1));
  $("page-viewer").addEventListener("keydown", pageKeys);
  $("doc-summarize").addEventListener("click", () => make("summary"));
  $("doc-points").addEventListener("click", () => make("points"));
  $("rename").addEventListener("click", startRename);
  $("rename-cancel").addEventListener("click", stopRename);
  $("rename-form").addEventListener("submit", rename);
  $("rename-title").addEventListener("keydown", (event) => {
    if (event.key === "Escape") stopRename();
  });
  $("delete").addEventListener("click", askDelete);
  $("delete-confirm").addEventListener("click", () => $("delete-dialog").close("delete"));
  $("delete-keep").addEventListener("click", () => $("delete-dialog").close("keep"));
  $("delete-dialog").addEventListener("close", () => {
    if ($("delete-dialog").returnValue === "delete") remove();
  });
  document.addEventListener("result-made", refreshResults);
}
