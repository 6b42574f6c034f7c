// Making a summary or key points: of the form's file or text, or of a stored document (document_id). One job at a
// time; its progress panel shows its stage, chunk i of n, the time, Cancel and the summary's sentences as they are
// written; a reload picks the job up again.

import { $, clock } from "./dom.js";
import { api } from "./api.js";
import { FINISHED, cancelJob as askToCancel, followJob, jobError, progressLine } from "./jobs.js";
import { liveText } from "./live.js";
import { fieldFor, focusField, formNotice, readForm, showProblem } from "./form.js";
import { isPdf } from "./files.js";
import { LIBRARY_MESSAGES, Notice, describe } from "./messages.js";
import { setResultVisible, showResult, shownDocument, sourceName } from "./result.js";

// The job this tab follows, so that a reload (or a tab restored by the browser) picks it up again.
const JOB_STORAGE = "llm-doc-service.job";

const state = {
  running: false,
  cancelling: false,
  job: null,
  request: null,
  startedAt: 0,
  timer: 0,
  documentId: null, // the stored document the open view shows (null: the form's view)
};

const documentNotice = new Notice($("doc-run-message"));
// The summary as it is written, in the progress panel, a checked sentence at a time.
const live = liveText($("progress-live"));

// Where a request's messages go: the form's box, or the open document's.
function noticeFor(request) {
  return request.documentId ? documentNotice : formNotice;
}

function showFailure(request, error) {
  if (request.documentId) {
    documentNotice.failure(error, { messages: LIBRARY_MESSAGES });
    return;
  }
  const field = formNotice.failure(error, { fieldFor });
  if (field && field !== "api-key") focusField(field);
}

function requestBody(request) {
  if (request.documentId) {
    const options = request.task === "summary" ? { length: request.length } : { count: request.count };
    return { json: { document_id: request.documentId, ...options, async: true } };
  }
  const body = new FormData();
  body.append("async", "true");
  if (request.file) body.append("file", request.file, request.file.name);
  else body.append("text", request.text);
  if (request.task === "summary") body.append("length", request.length);
  else body.append("count", String(request.count));
  if (request.pages) body.append("pages", request.pages);
  if (request.password) body.append("password", request.password);
  return { body };
}

// ---- running a job -------------------------------------------------------------------------------------

async function submit(event) {
  event.preventDefault();
  if (state.running) return;
  formNotice.hide();
  let request;
  try {
    request = readForm();
  } catch (problem) {
    showProblem(problem);
    return;
  }
  await run(request);
}

// Run a request: {task, length | count} with a file, a text, or {documentId, name} of a stored document.
export async function run(request) {
  if (state.running) return;
  noticeFor(request).hide();
  beginProgress(request);
  try {
    const endpoint = request.task === "summary" ? "generate-summary" : "generate-points";
    const response = await api(endpoint, { method: "POST", ...requestBody(request) });
    const answer = await response.json();
    let job;
    if (response.status === 202) {
      state.job = answer;
      rememberJob(request, answer);
      $("job-id").textContent = answer.job_id;
      $("progress-text").textContent = "Waiting in the queue…";
      if (state.cancelling) await cancelJob(); // Cancel was pressed while the document was on its way
      job = await followJob(answer.status_url, { onProgress: showProgress, onDelta: live.add, onAway });
    } else {
      job = { status: "succeeded", result: answer };
    }
    showOutcome(request, job);
  } catch (error) {
    showFailure(request, error);
  } finally {
    endProgress();
  }
}

function rememberJob(request, job) {
  const { task, length, count, pages, documentId } = request;
  const saved = { task, length, count, pages, documentId, name: sourceName(request), startedAt: state.startedAt, job };
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
export async function resumeJob() {
  const saved = savedJob();
  if (!saved) return;
  const request = { task: saved.task, length: saved.length, count: saved.count, pages: saved.pages,
                    documentId: saved.documentId, name: saved.name, file: null };
  beginProgress(request);
  state.startedAt = saved.startedAt || Date.now();
  tick();
  state.job = saved.job;
  $("job-id").textContent = saved.job.job_id;
  $("progress-text").textContent = "Picking up your job again…";
  try {
    showOutcome(request, await followJob(saved.job.status_url, { onProgress: showProgress, onDelta: live.add,
                                                                 onAway }));
  } catch (error) {
    showFailure(request, error);
  } finally {
    endProgress();
  }
}

function showOutcome(request, job) {
  if (job.status === "succeeded") {
    showResult(request, job.result, belongsHere(request.documentId || null));
    if (request.documentId) {
      document.dispatchEvent(new CustomEvent("result-made", { detail: { documentId: request.documentId } }));
    }
  } else if (job.status === "cancelled") {
    const notice = noticeFor(request);
    notice.show(`Cancelled after ${clock(Date.now() - state.startedAt)}.`, "", "info");
    notice.focus();
  } else {
    showFailure(request, jobError(job));
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
    const job = await askToCancel(state.job.status_url);
    if (job.status === "running") $("progress-text").textContent = "Stopping…";
  } catch (error) {
    state.cancelling = false;
    $("cancel").disabled = false;
    $("progress-text").textContent = `Could not cancel: ${describe(error).text}`;
  }
}

// ---- the progress panel --------------------------------------------------------------------------------

function setStartButtons(enabled) {
  for (const button of document.querySelectorAll("[data-starts-job]")) button.disabled = !enabled;
}

function beginProgress(request) {
  state.running = true;
  state.cancelling = false;
  state.job = null;
  state.request = request;
  state.startedAt = Date.now();
  $("result").hidden = true;
  $("job-id").textContent = "—";
  $("progress-title").textContent = request.task === "summary" ? "Summarizing" : "Finding key points";
  $("progress-bar").removeAttribute("value");
  $("progress-text").textContent = isPdf(request.file) ? "Sending and reading the PDF…"
    : request.documentId ? "Sending the request…" : "Sending the document…";
  $("elapsed").textContent = "0:00";
  live.clear();
  $("progress-panel").hidden = false;
  setStartButtons(false);
  $("cancel").disabled = false;
  state.timer = setInterval(tick, 250);
  $("cancel").focus();
}

function endProgress() {
  sessionStorage.removeItem(JOB_STORAGE);
  live.clear();
  clearInterval(state.timer);
  state.running = false;
  $("progress-panel").hidden = true;
  setStartButtons(true);
}

function tick() {
  $("elapsed").textContent = clock(Date.now() - state.startedAt);
}

function showProgress(progress) {
  if (!state.running || FINISHED.has(progress.status)) return;
  const bar = $("progress-bar");
  const total = Number(progress.total) || 0;
  const done = Math.min(Number(progress.done) || 0, total);
  if (progress.status !== "queued" && total > 0 && done > 0) bar.value = Math.round((100 * done) / total);
  else bar.removeAttribute("value");
  let text = progressLine(progress);
  if (state.cancelling && progress.status !== "queued") text += ". Stopping…";
  $("progress-text").textContent = text;
}

function onAway() {
  $("progress-text").textContent = "Lost contact with the service; trying again…";
}

// ---- where the panels are ------------------------------------------------------------------------------

// Whether a result about this document (null: an upload or a pasted text) belongs in the open view.
function belongsHere(documentId) {
  return state.documentId !== undefined && documentId === state.documentId;
}

// The open view: the form's (documentId null), a stored document's, or another (undefined). The progress panel
// goes with the view, so that a running job can be watched and cancelled from either; a result shows only in the
// view it is about.
export function placePanels(slot, documentId) {
  state.documentId = documentId;
  if (slot) slot.append($("progress-panel"), $("result"));
  setResultVisible(!state.running && shownDocument() !== undefined && belongsHere(shownDocument()));
}

export function initGenerate() {
  $("cancel").addEventListener("click", cancel);
  return submit;
}
