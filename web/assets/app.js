// The document page: reads the form, starts a job on the API, follows its progress, shows the result.
// Plain JavaScript, no build step, no libraries; it calls the same JSON API as every other client.
"use strict";

const KEY_STORAGE = "llm-doc-service.api-key";
// The job this tab follows, so that a reload (or a tab restored by the browser) picks it up again.
const JOB_STORAGE = "llm-doc-service.job";
const POLL_WAIT_S = 2;
const MIN_POLL_MS = 1000;
const MAX_RETRY_MS = 10000;
// Answers that mean "the server is away for now", not "the request is wrong".
const AWAY = new Set(["network", "http_502", "http_503", "http_504"]);
const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
const PAGES_PATTERN = /^\s*\d+\s*(-\s*\d+\s*)?(,\s*\d+\s*(-\s*\d+\s*)?)*$/;

// Plain words for the API's error codes; the server's own message is the fallback.
const MESSAGES = {
  pdf_no_text: "This PDF is a scan: it has no text layer, so it needs OCR first.",
  pdf_password_required: "This PDF is protected: enter its password.",
  pdf_password_incorrect: "That password does not open this PDF. Check it and try again.",
  pdf_garbled_text: "The text of this PDF cannot be read: its fonts do not say which letters they draw. " +
    "Try another copy of the document, or run OCR on it.",
  pdf_unreadable: "This PDF is damaged or incomplete, so it cannot be read.",
  pdf_too_complex: "This PDF took too long or too much memory to read. Try fewer pages.",
  no_answer: "This text gave nothing to answer with: it has no complete sentences that state something.",
  payload_too_large: "This document is too large for the server. Try a page range or a smaller file.",
  unsupported_media_type: "This kind of file is not supported: choose a PDF, a .txt or a .md file.",
  queue_full: "The server is busy with other documents. Try again in a minute.",
  server_busy: "The server is busy reading other PDFs. Try again in a few seconds.",
  model_loading: "The model is still loading. Try again in a few seconds.",
  model_unavailable: "The model could not be loaded on the server, so nothing can be summarized.",
  cancelled: "The job was cancelled.",
  not_found: "The job is no longer on the server: it may have expired. Start again.",
  internal_error: "Something went wrong on the server.",
  network: "The service cannot be reached. Check that it is still running, then try again.",
};
// Codes whose server message adds something useful (a limit, a reason) under the plain words.
const DETAILED = new Set([
  "payload_too_large", "unsupported_media_type", "pdf_unreadable", "pdf_too_complex", "model_unavailable",
  "no_answer",
]);
const STAGES = {
  queued: "Waiting in the queue",
  running: "Starting",
  summarizing: "Summarizing",
  "summarizing parts": "Summarizing the parts",
  "writing final summary": "Writing the final summary",
  "finding key points": "Finding key points",
};

const state = {
  running: false,
  cancelling: false,
  job: null,
  startedAt: 0,
  timer: 0,
  shown: null, // what the result panel shows: {request, result, fileUrl}
};

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(code, message, extra = {}) {
    super(message || code);
    this.code = code;
    this.extra = extra;
  }
}

// ---- form ----------------------------------------------------------------------------------------------

function checked(name) {
  const input = document.querySelector(`input[name="${name}"]:checked`);
  return input ? input.value : "";
}

function chosenFile() {
  const files = $("file").files;
  return files && files.length ? files[0] : null;
}

function isPdf(file) {
  return Boolean(file) && (/\.pdf$/i.test(file.name) || file.type === "application/pdf");
}

function syncForm() {
  const source = checked("source");
  const task = checked("task");
  $("file-panel").hidden = source !== "file";
  $("text-panel").hidden = source !== "text";
  $("summary-options").hidden = task !== "summary";
  $("points-options").hidden = task !== "points";
  $("pdf-options").hidden = !(source === "file" && isPdf(chosenFile()));
  $("submit").textContent = task === "summary" ? "Summarize" : "List key points";
}

function formatBytes(size) {
  if (size < 1024) return `${size} bytes`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(0)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

function showChosenFile() {
  const file = chosenFile();
  $("file-chosen").hidden = !file;
  $("file-name").textContent = file ? file.name : "";
  $("file-size").textContent = file ? formatBytes(file.size) : "";
  hideMessage();
  syncForm();
}

function clearFile() {
  $("file").value = "";
  showChosenFile();
  $("file").focus();
}

function takeDroppedFile(event) {
  event.preventDefault();
  $("drop-zone").classList.remove("is-dragging");
  const files = event.dataTransfer ? event.dataTransfer.files : null;
  if (!files || !files.length) return;
  const one = new DataTransfer();
  one.items.add(files[0]);
  $("file").files = one.files;
  $("source-file").checked = true;
  showChosenFile();
  if (files.length > 1) showMessage(`One document at a time: using ${files[0].name}.`, "", "info");
}

function countWords() {
  const words = $("text").value.trim().split(/\s+/).filter(Boolean).length;
  $("text-count").textContent = `${words.toLocaleString()} ${words === 1 ? "word" : "words"}`;
}

class FormProblem extends Error {
  constructor(message, fieldId) {
    super(message);
    this.fieldId = fieldId;
  }
}

function readForm() {
  const request = { task: checked("task"), source: checked("source"), file: null, text: "" };
  if (request.source === "file") {
    request.file = chosenFile();
    if (!request.file) throw new FormProblem("Choose a file first, or drop one on the box.", "file");
  } else {
    request.text = $("text").value;
    if (!request.text.trim()) throw new FormProblem("Paste some text first.", "text");
  }
  if (request.task === "summary") {
    request.length = checked("length") || "medium";
  } else {
    const count = Number($("count").value);
    if (!$("count").value.trim() || !Number.isInteger(count) || count < 1) {
      throw new FormProblem("The number of points must be a whole number, 1 or more.", "count");
    }
    request.count = count;
  }
  if (isPdf(request.file)) {
    request.pages = $("pages").value.trim();
    request.password = $("password").value;
    if (request.pages && !PAGES_PATTERN.test(request.pages)) {
      throw new FormProblem("Pages should look like 1-3, 7: page numbers or ranges, separated by commas.", "pages");
    }
  }
  return request;
}

function requestBody(request) {
  const body = new FormData();
  body.append("async", "true");
  if (request.file) body.append("file", request.file, request.file.name);
  else body.append("text", request.text);
  if (request.task === "summary") body.append("length", request.length);
  else body.append("count", String(request.count));
  if (request.pages) body.append("pages", request.pages);
  if (request.password) body.append("password", request.password);
  return body;
}

// ---- API -----------------------------------------------------------------------------------------------

function apiKey() {
  return $("api-key").value.trim();
}

async function api(url, options = {}) {
  const headers = new Headers(options.headers || {});
  headers.set("Accept", "application/json, text/event-stream");
  if (apiKey()) headers.set("Authorization", `Bearer ${apiKey()}`);
  let response;
  try {
    response = await fetch(url, { ...options, headers, cache: "no-store" });
  } catch {
    throw new ApiError("network", MESSAGES.network);
  }
  if (!response.ok && response.status !== 202) throw await errorFrom(response);
  return response;
}

async function errorFrom(response) {
  try {
    const body = await response.json();
    if (body && body.error) return new ApiError(body.error.code, body.error.message, body.error);
  } catch {
    // not JSON: a proxy's error page
  }
  return new ApiError(`http_${response.status}`, `The server answered ${response.status} ${response.statusText}.`);
}

function parseEvent(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (!data.length) return null;
  return { name, data: JSON.parse(data.join("\n")) };
}

function jobFromEvent(data) {
  if (data && data.job_id) return data;
  throw new ApiError(data.code || "internal_error", data.message);
}

// Server-Sent Events read with fetch, so that the API key travels in a header (EventSource sends none).
async function streamEvents(statusUrl) {
  const response = await api(`${statusUrl}/events`);
  if (!response.body) return null;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    buffer += value.replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = parseEvent(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
      if (!event) continue;
      if (event.name === "progress") showProgress(event.data);
      if (event.name === "result" || event.name === "error") {
        reader.cancel().catch(() => {});
        return jobFromEvent(event.data);
      }
    }
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Long-polling, for when the event stream breaks off (a proxy that buffers, a restarted server). A server that
// is away (no answer, or a proxy's 502/503/504 while it restarts) is asked again, less and less often: the job
// is safe in its queue and resumes when the server is back. Cancel stays available meanwhile.
async function pollJob(statusUrl) {
  for (let attempt = 1; ; attempt += 1) {
    const started = Date.now();
    try {
      const job = await (await api(`${statusUrl}?wait=${POLL_WAIT_S}`)).json();
      showProgress({ status: job.status, ...job.progress });
      // A stopping server answers at once: never ask more than once a second.
      if (!FINISHED.has(job.status)) await sleep(Math.max(0, MIN_POLL_MS - (Date.now() - started)));
      return job;
    } catch (error) {
      if (!(error instanceof ApiError) || !AWAY.has(error.code)) throw error;
      $("progress-text").textContent = "Lost contact with the service; trying again…";
      await sleep(Math.min(1000 * attempt, MAX_RETRY_MS));
    }
  }
}

async function followJob(statusUrl) {
  let job = null;
  try {
    job = await streamEvents(statusUrl);
  } catch (error) {
    // An API error (401, 404) stands; a stream that broke off (network, a restarted server) is followed by polling.
    if (error instanceof ApiError && !AWAY.has(error.code)) throw error;
  }
  while (!job || !FINISHED.has(job.status)) job = await pollJob(statusUrl);
  return job;
}

// ---- running a job -------------------------------------------------------------------------------------

async function submit(event) {
  event.preventDefault();
  if (state.running) return;
  hideMessage();
  let request;
  try {
    request = readForm();
  } catch (problem) {
    showProblem(problem);
    return;
  }
  await run(request);
}

async function run(request) {
  beginProgress(request);
  try {
    const endpoint = request.task === "summary" ? "generate-summary" : "generate-points";
    const response = await api(endpoint, { method: "POST", body: requestBody(request) });
    const answer = await response.json();
    let job;
    if (response.status === 202) {
      state.job = answer;
      rememberJob(request, answer);
      $("job-id").textContent = answer.job_id;
      $("progress-text").textContent = "Waiting in the queue…";
      if (state.cancelling) await cancelJob(); // Cancel was pressed while the document was on its way
      job = await followJob(answer.status_url);
    } else {
      job = { status: "succeeded", result: answer };
    }
    showOutcome(request, job);
  } catch (error) {
    showFailure(error);
  } finally {
    endProgress();
  }
}

function rememberJob(request, job) {
  const { task, length, count, pages } = request;
  const saved = { task, length, count, pages, name: sourceName(request), startedAt: state.startedAt, job };
  sessionStorage.setItem(JOB_STORAGE, JSON.stringify(saved));
}

function savedJob() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(JOB_STORAGE) || "null");
    return saved && saved.job && typeof saved.job.status_url === "string" ? saved : null;
  } catch {
    return null;
  }
}

// After a reload: follow the job this tab had started (the file itself is gone, so cited pages show as numbers).
async function resumeJob() {
  const saved = savedJob();
  if (!saved) return;
  const request = { task: saved.task, length: saved.length, count: saved.count, pages: saved.pages,
                    name: saved.name, file: null };
  beginProgress(request);
  state.startedAt = saved.startedAt || Date.now();
  tick();
  state.job = saved.job;
  $("job-id").textContent = saved.job.job_id;
  $("progress-text").textContent = "Picking up your job again…";
  try {
    showOutcome(request, await followJob(saved.job.status_url));
  } catch (error) {
    showFailure(error);
  } finally {
    endProgress();
  }
}

function showOutcome(request, job) {
  if (job.status === "succeeded") {
    showResult(request, job.result, job.job_id);
  } else if (job.status === "cancelled") {
    showMessage(`Cancelled after ${clock(Date.now() - state.startedAt)}.`, "", "info");
    $("message").focus();
  } else {
    const error = job.error || { code: "internal_error", message: "the job failed" };
    showFailure(new ApiError(error.code, error.message, error));
  }
}

async function cancel() {
  if (!state.running || state.cancelling) return;
  state.cancelling = true;
  $("cancel").disabled = true;
  if (state.job) await cancelJob();
  else $("progress-text").textContent = "Cancelling as soon as the server has the document…";
}

async function cancelJob() {
  $("progress-text").textContent = "Cancelling…";
  try {
    const job = await (await api(state.job.status_url, { method: "DELETE" })).json();
    if (job.status === "running") $("progress-text").textContent = "Stopping…";
  } catch (error) {
    state.cancelling = false;
    $("cancel").disabled = false;
    $("progress-text").textContent = `Could not cancel: ${describe(error).text}`;
  }
}

function beginProgress(request) {
  state.running = true;
  state.cancelling = false;
  state.job = null;
  state.startedAt = Date.now();
  $("result").hidden = true;
  $("job-id").textContent = "—";
  $("progress-title").textContent = request.task === "summary" ? "Summarizing" : "Finding key points";
  $("progress-bar").removeAttribute("value");
  $("progress-text").textContent = isPdf(request.file) ? "Sending and reading the PDF…" : "Sending the document…";
  $("elapsed").textContent = "0:00";
  $("progress-panel").hidden = false;
  $("submit").disabled = true;
  $("cancel").disabled = false;
  state.timer = setInterval(tick, 250);
  $("cancel").focus();
}

function endProgress() {
  sessionStorage.removeItem(JOB_STORAGE);
  clearInterval(state.timer);
  state.running = false;
  $("progress-panel").hidden = true;
  $("submit").disabled = false;
}

function tick() {
  $("elapsed").textContent = clock(Date.now() - state.startedAt);
}

function clock(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

function stageLabel(stage) {
  if (STAGES[stage]) return STAGES[stage];
  const merging = /^merging level (\d+)$/.exec(stage || "");
  if (merging) return `Merging the part summaries (level ${merging[1]})`;
  return sentence(stage || "Working");
}

function showProgress(progress) {
  if (!state.running || FINISHED.has(progress.status)) return;
  const bar = $("progress-bar");
  const total = Number(progress.total) || 0;
  const done = Math.min(Number(progress.done) || 0, total);
  if (progress.status === "queued") {
    bar.removeAttribute("value");
    $("progress-text").textContent = "Waiting in the queue…";
    return;
  }
  let text = stageLabel(progress.stage);
  if (total > 1) text += ` — chunk ${Math.min(done + 1, total)} of ${total}`;
  if (total > 0 && done > 0) bar.value = Math.round((100 * done) / total);
  else bar.removeAttribute("value");
  if (state.cancelling) text += ". Stopping…";
  $("progress-text").textContent = text;
}

// ---- messages ------------------------------------------------------------------------------------------

function sentence(text) {
  const trimmed = String(text || "").trim();
  if (!trimmed) return "";
  const first = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}

function describe(error) {
  const code = error.code || "";
  if (code === "unauthorized") {
    const text = apiKey()
      ? "The API key was not accepted. Check it and try again."
      : "This server needs an API key: enter it under “API key” and try again.";
    return { text, detail: "", field: "api-key" };
  }
  if (code === "internal_error") {
    const id = error.extra && error.extra.request_id;
    return { text: MESSAGES.internal_error, detail: id ? `If you report it, quote request id ${id}.` : "" };
  }
  const text = MESSAGES[code] || sentence(error.message) || `Something went wrong (${code}).`;
  const detail = DETAILED.has(code) ? sentence(error.message) : "";
  return { text, detail, field: fieldFor(code, error.message) };
}

// The form field an error is about, to put the cursor there.
function fieldFor(code, message) {
  if (code === "pdf_password_required" || code === "pdf_password_incorrect") return "password";
  if (code !== "invalid_request") return "";
  const text = message || "";
  if (/'pages'|page range|is outside it/.test(text)) return isPdf(chosenFile()) ? "pages" : "";
  if (/'count'/.test(text)) return checked("task") === "points" ? "count" : "";
  if (/'text'/.test(text)) return checked("source") === "text" ? "text" : "";
  return "";
}

function showFailure(error) {
  if (!(error instanceof ApiError)) {
    console.error(error);
    error = new ApiError("internal_error", String(error));
  }
  const { text, detail, field } = describe(error);
  showMessage(text, detail, "error");
  if (field) focusField(field);
  else $("message").focus();
}

function showProblem(problem) {
  showMessage(problem.message, "", "error");
  focusField(problem.fieldId);
}

function focusField(id) {
  if (id === "api-key") $("key-box").open = true;
  if (id === "file" && checked("source") !== "file") $("source-file").checked = true;
  syncForm();
  $(id).focus();
  if ($(id).select && id !== "file") $(id).select();
}

function showMessage(text, detail, kind) {
  const box = $("message");
  box.classList.toggle("is-info", kind === "info");
  $("message-text").textContent = text;
  $("message-detail").textContent = detail || "";
  $("message-detail").hidden = !detail;
  box.hidden = false;
}

function hideMessage() {
  $("message").hidden = true;
}

// ---- the result ----------------------------------------------------------------------------------------

function sourceName(request) {
  return request.file ? request.file.name : request.name || "Pasted text";
}

function showResult(request, result, jobId) {
  if (state.shown && state.shown.fileUrl) URL.revokeObjectURL(state.shown.fileUrl);
  const fileUrl = isPdf(request.file) ? URL.createObjectURL(request.file) : null;
  state.shown = { request, result, fileUrl, jobId };
  $("result-title").textContent = request.task === "summary" ? "Summary" : "Key points";
  $("result-source").textContent = sourceLine(request, result);
  const body = $("result-body");
  body.replaceChildren(request.task === "summary" ? summaryView(result.summary) : pointsView(result.points));
  showWarnings(result.warnings || []);
  $("result-meta").replaceChildren(...metaParts(result).flatMap((part, index) => {
    const span = document.createElement("span");
    span.textContent = part;
    return index ? [" · ", span] : [span];
  }));
  $("copy-status").textContent = "";
  $("result").hidden = false;
  $("result-title").focus();
}

function sourceLine(request, result) {
  const parts = [sourceName(request)];
  if (request.pages) parts.push(`pages ${request.pages}`);
  const found = request.task === "points" ? result.points.length : 0;
  if (request.task === "summary") parts.push(`${request.length} summary`);
  else parts.push(`${found} ${found === 1 ? "point" : "points"}${found < request.count ? ` (${request.count} asked)` : ""}`);
  return parts.join(" · ");
}

function summaryView(summary) {
  const fragment = document.createDocumentFragment();
  for (const paragraph of String(summary).split(/\n\s*\n/)) {
    if (!paragraph.trim()) continue;
    const p = document.createElement("p");
    p.textContent = paragraph.trim();
    fragment.append(p);
  }
  return fragment;
}

function pointsView(points) {
  const list = document.createElement("ol");
  list.className = "points";
  for (const point of points) {
    const item = document.createElement("li");
    const text = document.createElement("span");
    text.className = "point-text";
    text.textContent = point.text;
    item.append(text);
    if (point.pages && point.pages.length) item.append(citations(point.pages));
    list.append(item);
  }
  return list;
}

function citations(pages) {
  const holder = document.createElement("span");
  holder.className = "cites";
  for (const page of pages) holder.append(pageLink(page));
  return holder;
}

function pageLink(page) {
  const { fileUrl, request } = state.shown;
  const link = document.createElement(fileUrl ? "a" : "span");
  link.className = "page-link";
  link.textContent = `p. ${page}`;
  if (fileUrl) {
    link.href = `${fileUrl}#page=${page}`;
    link.target = "_blank";
    link.rel = "noopener";
    link.setAttribute("aria-label", `Page ${page} of ${request.file.name} (opens in a new tab)`);
  } else {
    link.setAttribute("aria-label", `page ${page}`);
  }
  return link;
}

function showWarnings(warnings) {
  $("result-notes").hidden = !warnings.length;
  $("result-warnings").replaceChildren(...warnings.map((warning) => {
    const item = document.createElement("li");
    item.textContent = sentence(warning);
    return item;
  }));
}

function seconds(ms) {
  return ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : clock(ms);
}

function metaParts(result) {
  const parts = [`Model: ${result.model}`, `took ${seconds(result.elapsed_ms || 0)}`];
  if (result.pages) parts.push(`${result.pages} ${result.pages === 1 ? "page" : "pages"} read`);
  if (result.chunks > 1) parts.push(`${result.chunks} chunks`);
  return parts;
}

function pagesNote(pages) {
  return pages && pages.length ? ` (${pages.length === 1 ? "page" : "pages"} ${pages.join(", ")})` : "";
}

function plainText() {
  const { request, result } = state.shown;
  if (request.task === "summary") return result.summary.trim();
  return result.points.map((point, index) => `${index + 1}. ${point.text}${pagesNote(point.pages)}`).join("\n");
}

function markdown() {
  const { request, result } = state.shown;
  const title = request.task === "summary" ? "Summary" : "Key points";
  const lines = [`# ${title}: ${sourceName(request)}`, "", plainText(), ""];
  if (result.warnings && result.warnings.length) {
    lines.push("## Notes", "", ...result.warnings.map((warning) => `- ${sentence(warning)}`), "");
  }
  lines.push("---", "", `_${metaParts(result).join(" · ")}_`, "");
  return lines.join("\n");
}

function downloadName() {
  const { request } = state.shown;
  const base = request.file ? request.file.name.replace(/\.[^.]+$/, "") : "pasted-text";
  const slug = base.normalize("NFKD").replace(/[^\w.-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "").slice(0, 80);
  return `${slug || "document"}-${request.task === "summary" ? "summary" : "key-points"}.md`;
}

function download() {
  if (!state.shown) return;
  const url = URL.createObjectURL(new Blob([markdown()], { type: "text/markdown;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = downloadName();
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
  flash(`Downloaded ${link.download}.`);
}

async function copy() {
  if (!state.shown) return;
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
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "visually-hidden";
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

// ---- API key and model status --------------------------------------------------------------------------

function storages() {
  try {
    return [window.sessionStorage, window.localStorage];
  } catch {
    return []; // storage blocked: the key lives in the field only
  }
}

function restoreKey() {
  const [session, local] = storages();
  if (!session) return;
  const key = session.getItem(KEY_STORAGE) || local.getItem(KEY_STORAGE) || "";
  $("api-key").value = key;
  $("remember-key").checked = Boolean(local.getItem(KEY_STORAGE));
  showKeyState();
}

function saveKey() {
  const [session, local] = storages();
  const key = apiKey();
  if (session) {
    session.removeItem(KEY_STORAGE);
    local.removeItem(KEY_STORAGE);
    if (key) ($("remember-key").checked ? local : session).setItem(KEY_STORAGE, key);
  }
  showKeyState();
}

function showKeyState() {
  $("key-box").querySelector("summary").textContent = apiKey() ? "API key (set)" : "API key";
}

async function checkModel() {
  const status = $("model-status");
  let retry = 0;
  try {
    const response = await fetch("health", { cache: "no-store" });
    const body = await response.json();
    if (body.status === "ok") {
      status.textContent = `Model: ${body.model.name} · ready`;
    } else if (body.status === "loading") {
      status.textContent = "The model is loading…";
      retry = 2000;
    } else {
      status.textContent = `The model could not be loaded: ${(body.error && body.error.message) || body.status}`;
    }
    status.classList.toggle("is-bad", body.status === "failed");
  } catch {
    status.textContent = "The service cannot be reached right now.";
    status.classList.add("is-bad");
    retry = 5000;
  }
  if (retry) setTimeout(checkModel, retry);
}

// ---- wiring --------------------------------------------------------------------------------------------

function bindDropZone() {
  const zone = $("drop-zone");
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("is-dragging");
    });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("is-dragging"));
  zone.addEventListener("drop", takeDroppedFile);
  // A file dropped beside the box must not replace the page with the file.
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => {
    if (!zone.contains(event.target)) event.preventDefault();
  });
}

function submitOnCtrlEnter(event) {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    $("job-form").requestSubmit();
  }
}

function init() {
  for (const input of document.querySelectorAll('input[name="source"], input[name="task"]')) {
    input.addEventListener("change", syncForm);
  }
  $("file").addEventListener("change", showChosenFile);
  $("file-clear").addEventListener("click", clearFile);
  $("text").addEventListener("input", countWords);
  $("text").addEventListener("keydown", submitOnCtrlEnter);
  $("job-form").addEventListener("submit", submit);
  $("cancel").addEventListener("click", cancel);
  $("copy").addEventListener("click", copy);
  $("download").addEventListener("click", download);
  $("api-key").addEventListener("input", saveKey);
  $("remember-key").addEventListener("change", saveKey);
  bindDropZone();
  restoreKey();
  showChosenFile();
  countWords();
  checkModel();
  resumeJob();
}

init();
