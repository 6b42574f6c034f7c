// The "Write a message" view: key points (one per line) become several email variants, each showing the points
// it covers and the ones it leaves out, with a Copy button. The work is a job, followed with progress and Cancel.

import { $, el, plural, sentence } from "./dom.js";
import { api } from "./api.js";
import { cancelJob, followJob, jobError, ongoing } from "./jobs.js";
import { liveText } from "./live.js";
import { Notice } from "./messages.js";
import { metaLine } from "./result.js";

const notice = new Notice($("message-notice"));
const state = { running: false, cancelling: false, job: null };
// Each message as a whole, once it has passed its checks, while the others are being written.
const live = liveText($("message-live"));

function points() {
  return $("message-points").value.split("\n").map((line) => line.replace(/^\s*(?:[-*•]|\d{1,2}[.)])\s*/, "").trim())
    .filter(Boolean);
}

function messageView(message, index, allPoints) {
  const covered = `${message.covered.length} of ${plural(allPoints.length, "point")} covered`;
  const missing = message.missing.map((at) => allPoints[at]);
  const copy = el("button", { type: "button", className: "secondary", textContent: "Copy" });
  copy.addEventListener("click", async () => {
    await navigator.clipboard.writeText(`Subject: ${message.subject}\n\n${message.body}`);
    copy.textContent = "Copied";
  });
  return el("li", { className: "message-variant" },
    el("h3", { textContent: `Message ${index + 1}: ${message.subject}` }),
    el("pre", { className: "message-body", textContent: message.body }),
    el("p", { className: missing.length ? "coverage is-missing" : "coverage", textContent: missing.length
      ? `${covered}; leaves out: ${missing.join("; ")}` : covered }),
    copy);
}

function show(result) {
  $("message-list").replaceChildren(...result.messages.map((message, index) =>
    messageView(message, index, result.points)));
  $("message-meta").replaceChildren(...metaLine(result));
  for (const warning of result.warnings || []) {
    $("message-list").after(el("p", { className: "hint message-warning", textContent: sentence(warning) }));
  }
  $("message-results").hidden = false;
  $("message-results-title").focus();
}

function running(on) {
  state.running = on;
  live.clear();
  $("message-submit").disabled = on;
  $("message-cancel").disabled = false;
  $("message-progress").hidden = !on;
}

async function write(event) {
  event.preventDefault();
  if (state.running) return;
  notice.hide();
  const given = points();
  if (!given.length) {
    notice.show("Write at least one key point.");
    $("message-points").focus();
    return;
  }
  for (const old of document.querySelectorAll(".message-warning")) old.remove();
  $("message-results").hidden = true;
  const body = { points: given, tone: $("message-tone").value, n: Number($("message-n").value) || 1, async: true };
  for (const [field, id] of [["sender", "message-from"], ["recipient", "message-to"], ["purpose", "message-purpose"]]) {
    if ($(id).value.trim()) body[field] = $(id).value.trim();
  }
  state.cancelling = false;
  state.job = null;
  $("message-progress-text").textContent = "Sending the points…";
  running(true);
  try {
    const response = await api("generate-message", { method: "POST", json: body });
    const answer = await response.json();
    let job = { status: "succeeded", result: answer };
    if (response.status === 202) {
      state.job = answer;
      if (state.cancelling) await cancelJob(answer.status_url);
      job = await followJob(answer.status_url, {
        onProgress: (progress) => {
          if (!state.cancelling) $("message-progress-text").textContent = ongoing(progress);
        },
        onDelta: live.add,
        onAway: () => {
          $("message-progress-text").textContent = "Lost contact with the service; trying again…";
        },
      });
    }
    if (job.status === "succeeded") show(job.result);
    else if (job.status === "cancelled") notice.show("Writing the messages was cancelled.", "", "info");
    else notice.failure(jobError(job));
  } catch (error) {
    notice.failure(error);
  } finally {
    running(false);
  }
}

async function cancel() {
  if (!state.running || state.cancelling) return;
  state.cancelling = true;
  $("message-cancel").disabled = true;
  $("message-progress-text").textContent = "Cancelling…";
  if (state.job) await cancelJob(state.job.status_url);
}

export function initMessage() {
  $("message-form").addEventListener("submit", write);
  $("message-cancel").addEventListener("click", cancel);
}
