// The "Summarize a document" form: a file (picked or dropped) or pasted text, and what to make of it.

import { $, formatBytes } from "./dom.js";
import { bindDropZone, isPdf, setInputFiles } from "./files.js";
import { Notice, focusKey } from "./messages.js";

const PAGES_PATTERN = /^\s*\d+\s*(-\s*\d+\s*)?(,\s*\d+\s*(-\s*\d+\s*)?)*$/;

export const formNotice = new Notice($("message"));

export class FormProblem extends Error {
  constructor(message, fieldId) {
    super(message);
    this.fieldId = fieldId;
  }
}

function checked(name) {
  const input = document.querySelector(`input[name="${name}"]:checked`);
  return input ? input.value : "";
}

function chosenFile() {
  const files = $("file").files;
  return files && files.length ? files[0] : null;
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

function showChosenFile() {
  const file = chosenFile();
  $("file-chosen").hidden = !file;
  $("file-name").textContent = file ? file.name : "";
  $("file-size").textContent = file ? formatBytes(file.size) : "";
  formNotice.hide();
  syncForm();
}

function clearFile() {
  $("file").value = "";
  showChosenFile();
  $("file").focus();
}

function takeDroppedFiles(files) {
  setInputFiles($("file"), [files[0]]);
  $("source-file").checked = true;
  showChosenFile();
  if (files.length > 1) formNotice.show(`One document at a time: using ${files[0].name}.`, "", "info");
}

function countWords() {
  const words = $("text").value.trim().split(/\s+/).filter(Boolean).length;
  $("text-count").textContent = `${words.toLocaleString()} ${words === 1 ? "word" : "words"}`;
}

// The request the form describes: {task, source, file, text, length | count, pages, password}.
export function readForm() {
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

// The form field an error is about, to put the cursor there.
export function fieldFor(code, message) {
  if (code === "pdf_password_required" || code === "pdf_password_incorrect") return "password";
  if (code !== "invalid_request") return "";
  const text = message || "";
  if (/'pages'|page range|is outside it/.test(text)) return isPdf(chosenFile()) ? "pages" : "";
  if (/'count'/.test(text)) return checked("task") === "points" ? "count" : "";
  if (/'text'/.test(text)) return checked("source") === "text" ? "text" : "";
  return "";
}

export function focusField(id) {
  if (id === "api-key") {
    focusKey();
    return;
  }
  if (id === "file" && checked("source") !== "file") $("source-file").checked = true;
  syncForm();
  $(id).focus();
  if ($(id).select && id !== "file") $(id).select();
}

export function showProblem(problem) {
  formNotice.show(problem.message, "", "error");
  focusField(problem.fieldId);
}

function submitOnCtrlEnter(event) {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    $("job-form").requestSubmit();
  }
}

// onSubmit(event) runs when the form is sent (button, Enter, or Ctrl+Enter in the text).
export function initForm(onSubmit) {
  for (const input of document.querySelectorAll('input[name="source"], input[name="task"]')) {
    input.addEventListener("change", syncForm);
  }
  $("file").addEventListener("change", showChosenFile);
  $("file-clear").addEventListener("click", clearFile);
  $("text").addEventListener("input", countWords);
  $("text").addEventListener("keydown", submitOnCtrlEnter);
  $("job-form").addEventListener("submit", onSubmit);
  bindDropZone($("drop-zone"), takeDroppedFiles);
  showChosenFile();
  countWords();
}
