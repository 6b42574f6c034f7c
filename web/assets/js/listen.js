// The result panel's Listen button: the summary shown is spoken by the server (POST /generate-audio, as a job)
// and played here. The audio is fetched with the API key and played from memory, since an <audio> element
// cannot send the key itself.

import { $ } from "./dom.js";
import { api } from "./api.js";
import { followJob, jobError } from "./jobs.js";
import { describe } from "./messages.js";

let summaryShown = () => "";
let playing = null; // the object URL of the audio loaded, revoked when another summary is shown

// A new result: the button for a summary only, nothing loaded yet.
export function resetListen(isSummary) {
  if (playing) URL.revokeObjectURL(playing);
  playing = null;
  $("listen").hidden = !isSummary;
  $("listen").disabled = false;
  $("listen-audio").hidden = true;
  $("listen-audio").removeAttribute("src");
  $("listen-status").textContent = "";
}

async function listen() {
  const text = summaryShown();
  if (!text) return;
  $("listen").disabled = true;
  $("listen-status").textContent = "Making the audio…";
  try {
    const answer = await (await api("generate-audio", { method: "POST", json: { text, async: true } })).json();
    const job = await followJob(answer.status_url);
    if (job.status !== "succeeded") throw jobError(job);
    const audio = await (await api(job.result.audio_url)).blob();
    if (summaryShown() !== text) return; // another result came while this one was spoken
    playing = URL.createObjectURL(audio);
    $("listen-audio").src = playing;
    $("listen-audio").hidden = false;
    $("listen-status").textContent = `Audio: ${Math.round(job.result.duration_s)} seconds.`;
    $("listen-audio").play().catch(() => {}); // a browser may refuse to start playing by itself: the controls stay
  } catch (error) {
    $("listen-status").textContent = `No audio: ${describe(error).text}`;
    $("listen").disabled = false;
  }
}

export function initListen(currentSummary) {
  summaryShown = currentSummary;
  $("listen").addEventListener("click", listen);
}
