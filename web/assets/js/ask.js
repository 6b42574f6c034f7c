// An "Ask" box: a question about stored documents, answered with quotes that link to their pages. Follow-up
// questions send the conversation so far (history); a long answer is followed as a job, with progress and Cancel.

import { $, clock, documentHash, el, sentence } from "./dom.js";
import { api } from "./api.js";
import { cancelJob, followJob, jobError, ongoing } from "./jobs.js";
import { liveText } from "./live.js";
import { LIBRARY_MESSAGES, Notice, describe } from "./messages.js";
import { metaLine } from "./result.js";

// The model's context is small: the latest turns matter most to a follow-up, so older ones are left out.
const HISTORY_TURNS = 12;
// The longest turn the server takes by default (MAX_QUESTION_CHARS); a longer answer is cut to fit.
const TURN_CHARS = 2000;

export class AskProblem extends Error {}

// A box built in holder from the page's template. options: prefix (for ids), documentIds() (the documents to
// ask; it may throw an AskProblem), titleOf(id) (a title to show beside each quote, or ""), onCite(citation)
// (open the quoted page; the link's own hash is the fallback).
export function createAskBox(holder, { prefix, documentIds, titleOf = () => "", onCite = () => {} }) {
  holder.replaceChildren($("ask-template").content.cloneNode(true));
  const part = (name) => holder.querySelector(`.ask-${name}`);
  const input = part("question");
  input.id = `${prefix}-question`;
  part("label").htmlFor = input.id;
  part("hint").id = `${prefix}-question-hint`;
  input.setAttribute("aria-describedby", part("hint").id);
  const notice = new Notice(holder.querySelector(".message"));
  const box = { history: [], running: false, cancelling: false, job: null, startedAt: 0, timer: 0 };

  function reset() {
    box.history = [];
    part("conversation").replaceChildren();
    part("conversation").hidden = true;
    part("reset").hidden = true;
    notice.hide();
  }

  function quoteView(citation) {
    const link = el("a", {
      className: "page-link quote-link", textContent: `page ${citation.page}`,
      href: documentHash(citation.document_id, citation.page),
    });
    link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      onCite(citation);
    });
    const title = titleOf(citation.document_id);
    return el("li", { className: "citation" },
      el("blockquote", { className: "quote", textContent: citation.quote }),
      el("p", { className: "quote-source" }, title ? el("cite", { textContent: title }) : null, title ? " · " : null,
        link));
  }

  function answerView(result) {
    const answer = el("div", { className: result.answered ? "answer" : "answer is-not-found" });
    if (!result.answered) answer.append(el("p", { className: "not-found", textContent: "Not in the documents" }));
    answer.append(el("p", { className: "answer-text", textContent: result.answer }));
    if (result.citations.length) {
      answer.append(el("ul", { className: "citations", attrs: { "aria-label": "Quotes" } },
        ...result.citations.map(quoteView)));
    }
    if (result.warnings && result.warnings.length) {
      answer.append(el("ul", { className: "answer-notes" },
        ...result.warnings.map((warning) => el("li", { textContent: sentence(warning) }))));
    }
    answer.append(el("p", { className: "meta" }, ...metaLine(result)));
    return answer;
  }

  function showProgress(progress) {
    if (!box.running) return;
    part("progress-text").textContent = box.cancelling ? "Cancelling…" : ongoing(progress);
  }

  function begin() {
    box.running = true;
    box.cancelling = false;
    box.job = null;
    box.startedAt = Date.now();
    part("submit").disabled = true;
    part("cancel").disabled = false;
    part("progress-text").textContent = "Sending the question…";
    part("elapsed").textContent = "0:00";
    part("progress").hidden = false;
    box.timer = setInterval(() => {
      part("elapsed").textContent = clock(Date.now() - box.startedAt);
    }, 250);
  }

  function end() {
    clearInterval(box.timer);
    box.running = false;
    part("submit").disabled = false;
    part("progress").hidden = true;
  }

  async function ask(event) {
    event.preventDefault();
    if (box.running) return;
    notice.hide();
    const question = input.value.trim();
    if (!question) {
      notice.show("Type a question first.");
      input.focus();
      return;
    }
    let ids;
    try {
      ids = documentIds();
    } catch (problem) {
      if (!(problem instanceof AskProblem)) throw problem;
      notice.show(problem.message);
      notice.focus();
      return;
    }
    const turn = el("li", { className: "turn" },
      el("p", { className: "turn-question" }, el("span", { className: "visually-hidden", textContent: "You asked: " }),
        question));
    // The answer's checked sentences as they come, until the answer with its quotes takes their place.
    const liveAnswer = el("p", { className: "live-text", hidden: true });
    turn.append(liveAnswer);
    const live = liveText(liveAnswer);
    part("conversation").append(turn);
    part("conversation").hidden = false;
    begin();
    try {
      const history = box.history.slice(-HISTORY_TURNS);
      const response = await api("ask", { method: "POST", json: { question, document_ids: ids, history, async: true } });
      const answer = await response.json();
      let job = { status: "succeeded", result: answer };
      if (response.status === 202) {
        box.job = answer;
        if (box.cancelling) await cancelJob(answer.status_url); // Cancel was pressed while the question was sent
        job = await followJob(answer.status_url, {
          onProgress: showProgress,
          onDelta: live.add,
          onAway: () => {
            part("progress-text").textContent = "Lost contact with the service; trying again…";
          },
        });
      }
      liveAnswer.remove(); // the answer with its quotes takes its place
      if (job.status === "succeeded") {
        turn.append(answerView(job.result));
        box.history.push({ role: "user", content: question.slice(0, TURN_CHARS) },
                         { role: "assistant", content: job.result.answer.slice(0, TURN_CHARS) });
        part("reset").hidden = false;
        input.value = "";
      } else {
        turn.remove();
        if (job.status === "cancelled") notice.show("The question was cancelled.", "", "info");
        else notice.failure(jobError(job), { messages: LIBRARY_MESSAGES });
      }
    } catch (error) {
      turn.remove();
      notice.failure(error, { messages: LIBRARY_MESSAGES });
    } finally {
      end();
      part("conversation").hidden = !part("conversation").children.length;
    }
  }

  async function cancel() {
    if (!box.running || box.cancelling) return;
    box.cancelling = true;
    part("cancel").disabled = true;
    part("progress-text").textContent = "Cancelling…";
    if (!box.job) return; // the question is on its way: ask() cancels it once the server has it
    try {
      await cancelJob(box.job.status_url);
    } catch (error) {
      box.cancelling = false;
      part("cancel").disabled = false;
      part("progress-text").textContent = `Could not cancel: ${describe(error).text}`;
    }
  }

  part("form").addEventListener("submit", ask);
  part("cancel").addEventListener("click", cancel);
  part("reset").addEventListener("click", () => {
    reset();
    input.focus();
  });
  reset();
  return { reset, focus: () => input.focus() };
}
