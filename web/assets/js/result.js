// The result panel: a summary or key points, with the model and time, Copy, Download Markdown and (for a summary)
// Listen. The same views show a stored document's earlier results.

import { $, documentHash, el, seconds, sentence } from "./dom.js";
import { isPdf } from "./files.js";
import { initListen, resetListen } from "./listen.js";

let shown = null; // what the panel shows: {request, result, fileUrl}

export function sourceName(request) {
  return request.file ? request.file.name : request.name || "Pasted text";
}

// The stored document the panel's result is about: its id, null for an upload or a pasted text, undefined when
// the panel shows nothing.
export function shownDocument() {
  return shown ? shown.request.documentId || null : undefined;
}

// The summary the panel shows, for the Listen button ("" when it shows key points or nothing).
export function shownSummary() {
  return shown && shown.request.task === "summary" ? shown.result.summary : "";
}

export function setResultVisible(visible) {
  $("result").hidden = !visible || !shown;
}

// Fill the panel; when visible, show it and move the focus to it.
export function showResult(request, result, visible = true) {
  if (shown && shown.fileUrl) URL.revokeObjectURL(shown.fileUrl);
  const fileUrl = isPdf(request.file) ? URL.createObjectURL(request.file) : null;
  shown = { request, result, fileUrl };
  $("result-title").textContent = request.task === "summary" ? "Summary" : "Key points";
  $("result-source").textContent = sourceLine(request, result);
  $("result-body").replaceChildren(resultBody(request.task, result, (page) => pageLink(page, shown)));
  showWarnings($("result-notes"), $("result-warnings"), result.warnings || []);
  $("result-meta").replaceChildren(...metaLine(result));
  $("copy-status").textContent = "";
  resetListen(request.task === "summary");
  setResultVisible(visible);
  if (visible) $("result-title").focus();
}

function sourceLine(request, result) {
  const parts = [sourceName(request)];
  if (request.pages) parts.push(`pages ${request.pages}`);
  const found = request.task === "points" ? result.points.length : 0;
  if (request.task === "summary") parts.push(`${request.length} summary`);
  else parts.push(`${found} ${found === 1 ? "point" : "points"}${found < request.count ? ` (${request.count} asked)` : ""}`);
  return parts.join(" · ");
}

// A summary's paragraphs, or the numbered key points with a link per cited page (pageLink(page) makes it).
export function resultBody(task, result, pageLink) {
  return task === "summary" ? summaryView(result.summary) : pointsView(result.points, pageLink);
}

function summaryView(summary) {
  const fragment = document.createDocumentFragment();
  for (const paragraph of String(summary).split(/\n\s*\n/)) {
    if (paragraph.trim()) fragment.append(el("p", { textContent: paragraph.trim() }));
  }
  return fragment;
}

function pointsView(points, pageLink) {
  const list = el("ol", { className: "points" });
  for (const point of points) {
    const item = el("li", {}, el("span", { className: "point-text", textContent: point.text }));
    if (point.pages && point.pages.length) {
      item.append(el("span", { className: "cites" }, ...point.pages.map(pageLink)));
    }
    list.append(item);
  }
  return list;
}

// A cited page: the picked PDF at that page (a new tab), a stored document's page in the page viewer, or for a
// pasted text or a file no longer at hand, just the number.
export function pageLink(page, { fileUrl = null, request = {} } = {}) {
  if (fileUrl) {
    return el("a", {
      className: "page-link", textContent: `p. ${page}`, href: `${fileUrl}#page=${page}`, target: "_blank",
      rel: "noopener", attrs: { "aria-label": `Page ${page} of ${request.file.name} (opens in a new tab)` },
    });
  }
  if (request.documentId) {
    return el("a", {
      className: "page-link", textContent: `p. ${page}`, href: documentHash(request.documentId, page),
      attrs: { "aria-label": `Page ${page} of ${request.name}` },
    });
  }
  return el("span", { className: "page-link", textContent: `p. ${page}`, attrs: { "aria-label": `page ${page}` } });
}

export function showWarnings(holder, list, warnings) {
  holder.hidden = !warnings.length;
  list.replaceChildren(...warnings.map((warning) => el("li", { textContent: sentence(warning) })));
}

export function metaParts(result) {
  const parts = [`Model: ${result.model}`, `took ${seconds(result.elapsed_ms || 0)}`];
  if (result.pages) parts.push(`${result.pages} ${result.pages === 1 ? "page" : "pages"} read`);
  if (result.chunks > 1) parts.push(`${result.chunks} chunks`);
  return parts;
}

// The meta parts as spans joined by " · " (each kept on one line).
export function metaLine(result) {
  return metaParts(result).flatMap((part, index) => {
    const span = el("span", { textContent: part });
    return index ? [" · ", span] : [span];
  });
}

function pagesNote(pages) {
  return pages && pages.length ? ` (${pages.length === 1 ? "page" : "pages"} ${pages.join(", ")})` : "";
}

function plainText() {
  const { request, result } = shown;
  if (request.task === "summary") return result.summary.trim();
  return result.points.map((point, index) => `${index + 1}. ${point.text}${pagesNote(point.pages)}`).join("\n");
}

function markdown() {
  const { request, result } = shown;
  const title = request.task === "summary" ? "Summary" : "Key points";
  const lines = [`# ${title}: ${sourceName(request)}`, "", plainText(), ""];
  if (result.warnings && result.warnings.length) {
    lines.push("## Notes", "", ...result.warnings.map((warning) => `- ${sentence(warning)}`), "");
  }
  lines.push("---", "", `_${metaParts(result).join(" · ")}_`, "");
  return lines.join("\n");
}

function downloadName() {
  const { request } = shown;
  const named = request.file ? request.file.name : request.documentId ? request.name : "";
  const base = named ? named.replace(/\.[^.]+$/, "") : "pasted-text";
  const slug = base.normalize("NFKD").replace(/[^\w.-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "").slice(0, 80);
  return `${slug || "document"}-${request.task === "summary" ? "summary" : "key-points"}.md`;
}

function download() {
  if (!shown) return;
  const url = URL.createObjectURL(new Blob([markdown()], { type: "text/markdown;charset=utf-8" }));
  const link = el("a", { href: url, download: downloadName() });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
  flash(`Downloaded ${link.download}.`);
}

async function copy() {
  if (!shown) return;
  const text = plainText();
  try {
    await navigator.clipboard.writeText(text);
    flash("Copied to the clipboard.");
  } catch {
    if (copyWithSelection(text)) flash("Copied to the clipboard.");
    else selectResult();
  }
}

// Where the Clipboard API is missing (a page on plain http from another machine), copy a selection instead.
function copyWithSelection(text) {
  const area = el("textarea", { value: text, className: "visually-hidden", attrs: { readonly: "" } });
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  area.remove();
  $("copy").focus();
  return copied;
}

function selectResult() {
  const range = document.createRange();
  range.selectNodeContents($("result-body"));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  flash("The browser would not copy: the text is selected, press Ctrl+C (⌘C on a Mac).");
}

function flash(text) {
  $("copy-status").textContent = text;
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => {
    $("copy-status").textContent = "";
  }, 6000);
}

export function initResult() {
  initListen(shownSummary);
  $("copy").addEventListener("click", copy);
  $("download").addEventListener("click", download);
}
