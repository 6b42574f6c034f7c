// Following a job the API started (202): its event stream, read with fetch, and long-polling when that breaks off.

import { sentence, sleep } from "./dom.js";
import { ApiError, api, apiJson } from "./api.js";

const POLL_WAIT_S = 2;
const MIN_POLL_MS = 1000;
const MAX_RETRY_MS = 10000;
// Answers that mean "the server is away for now", not "the request is wrong".
export const AWAY = new Set(["network", "http_502", "http_503", "http_504"]);
export const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
const STAGES = {
  queued: "Waiting in the queue",
  running: "Starting",
  summarizing: "Summarizing",
  "summarizing parts": "Summarizing the parts",
  "writing final summary": "Writing the final summary",
  "finding key points": "Finding key points",
  reading: "Reading the document",
  indexing: "Indexing its pages",
  searching: "Searching the documents",
  answering: "Writing the answer",
  "writing messages": "Writing the messages",
  speaking: "Speaking",
};

export function stageLabel(stage) {
  if (STAGES[stage]) return STAGES[stage];
  const merging = /^merging level (\d+)$/.exec(stage || "");
  if (merging) return `Merging the part summaries (level ${merging[1]})`;
  return sentence(stage || "Working");
}

// A progress report in words, with the chunk count when there are several: "Summarizing the parts — chunk 2 of 5".
export function progressLine(progress) {
  if (progress.status === "queued") return "Waiting in the queue…";
  const total = Number(progress.total) || 0;
  const done = Math.min(Number(progress.done) || 0, total);
  let text = stageLabel(progress.stage);
  const unit = { "writing messages": "message", speaking: "piece" }[progress.stage] || "chunk";
  if (total > 1) text += ` — ${unit} ${Math.min(done + 1, total)} of ${total}`;
  return text;
}

// The same, as a state still going on: "Searching the documents…".
export function ongoing(progress) {
  const line = progressLine(progress);
  return line.endsWith("…") ? line : `${line}…`;
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
async function streamEvents(statusUrl, onProgress, onDelta) {
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
      if (event.name === "progress") onProgress(event.data);
      if (event.name === "delta") onDelta(event.data);
      if (event.name === "result" || event.name === "error") {
        reader.cancel().catch(() => {});
        return jobFromEvent(event.data);
      }
    }
  }
}

// Long-polling, for when the event stream breaks off (a proxy that buffers, a restarted server). A server that
// is away (no answer, or a proxy's 502/503/504 while it restarts) is asked again, less and less often: the job
// is safe in its queue and resumes when the server is back. Cancel stays available meanwhile.
async function pollJob(statusUrl, onProgress, onAway) {
  for (let attempt = 1; ; attempt += 1) {
    const started = Date.now();
    try {
      const job = await apiJson(`${statusUrl}?wait=${POLL_WAIT_S}`);
      onProgress({ status: job.status, ...job.progress });
      // A stopping server answers at once: never ask more than once a second.
      if (!FINISHED.has(job.status)) await sleep(Math.max(0, MIN_POLL_MS - (Date.now() - started)));
      return job;
    } catch (error) {
      if (!(error instanceof ApiError) || !AWAY.has(error.code)) throw error;
      onAway();
      await sleep(Math.min(1000 * attempt, MAX_RETRY_MS));
    }
  }
}

// The finished job (succeeded, failed or cancelled); onProgress hears each report, onDelta each piece of the text
// as it is written ({text, offset}), onAway each lost contact.
export async function followJob(statusUrl, { onProgress = () => {}, onDelta = () => {}, onAway = () => {} } = {}) {
  let job = null;
  try {
    job = await streamEvents(statusUrl, onProgress, onDelta);
  } catch (error) {
    // An API error (401, 404) stands; a stream that broke off (network, a restarted server) is followed by polling.
    if (error instanceof ApiError && !AWAY.has(error.code)) throw error;
  }
  while (!job || !FINISHED.has(job.status)) job = await pollJob(statusUrl, onProgress, onAway);
  return job;
}

// Ask the server to cancel; the job as it answers (still "running" while the model stops).
export function cancelJob(statusUrl) {
  return apiJson(statusUrl, { method: "DELETE" });
}

// The error a failed job ended with, as an ApiError.
export function jobError(job) {
  const error = job.error || { code: "internal_error", message: "the job failed" };
  return new ApiError(error.code, error.message, error);
}
