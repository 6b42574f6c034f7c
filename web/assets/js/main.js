// The page: four views (summarize a document; the library; one stored document; write a message), chosen by the
// address's hash so that Back, reload and links work: #summarize, #library, #documents/<id>[/pages/<n>], #message.
// Plain JavaScript modules, no build step, no libraries; they call the same JSON API as every other client.

import { $, documentHash } from "./dom.js";
import { initKey } from "./api.js";
import { guardPageDrops } from "./files.js";
import { initForm } from "./form.js";
import { initGenerate, placePanels, resumeJob } from "./generate.js";
import { initResult } from "./result.js";
import { initLibrary, refreshLibrary } from "./library.js";
import { initDocument, openDocument } from "./document.js";
import { initMessage } from "./message.js";

const TITLES = { summarize: "Summarize a document", library: "Library", message: "Write a message" };
let shown = null; // the view on show: {view, id, page}
let started = false; // after the first view: moving between views moves the focus

// The view an address names; null for an in-page anchor (the skip link), which leaves the view as it is.
function parse(hash) {
  const found = /^#documents\/([^/]+)(?:\/pages\/(\d+))?$/.exec(hash);
  if (found) return { view: "document", id: decodeURIComponent(found[1]), page: Number(found[2] || 1) };
  if (hash === "#library") return { view: "library" };
  if (hash === "#message") return { view: "message" };
  if (!hash || hash === "#" || hash === "#summarize") return { view: "summarize" };
  return null;
}

function route({ highlight = "" } = {}) {
  const target = parse(location.hash) || (shown ? null : { view: "summarize" });
  if (!target) return;
  const moved = !shown || shown.view !== target.view;
  for (const name of ["summarize", "library", "document", "message"]) $(`${name}-view`).hidden = name !== target.view;
  for (const link of document.querySelectorAll(".views a")) {
    if (link.dataset.view === target.view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (target.view === "document") {
    const opened = moved || shown.id !== target.id;
    placePanels($("document-run"), target.id);
    openDocument(target.id, target.page, { highlight, focus: !started ? "" : opened ? "title" : "page" });
  } else {
    document.title = TITLES[target.view];
    if (target.view === "summarize") placePanels($("summarize-run"), null);
    else placePanels(null, undefined);
    if (target.view === "library") refreshLibrary();
    if (moved && started) $(`${target.view}-title`).focus();
  }
  shown = target;
}

// Open another view; replace: without a new history entry.
function navigate(hash, { replace = false, highlight = "" } = {}) {
  if (location.hash !== hash) history[replace ? "replaceState" : "pushState"](null, "", hash);
  route({ highlight });
}

// A quote's "page N" link: the page in the document view, the quote marked on it.
function openCitation(citation) {
  const hash = documentHash(citation.document_id, citation.page);
  const here = shown && shown.view === "document" && shown.id === citation.document_id;
  navigate(hash, { replace: here, highlight: citation.quote });
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

function init() {
  initKey();
  initForm(initGenerate());
  initResult();
  initLibrary({ onCite: openCitation });
  initDocument({ navigate, onCite: openCitation });
  initMessage();
  guardPageDrops();
  window.addEventListener("hashchange", () => route());
  route();
  started = true;
  checkModel();
  resumeJob();
}

init();
