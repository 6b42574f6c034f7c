// Errors said in plain words, and the message boxes (role="alert") that show them.

import { $, sentence } from "./dom.js";
import { ApiError, apiKey } from "./api.js";

// Plain words for the API's error codes; the server's own message is the fallback.
const MESSAGES = {
  pdf_no_text: "No text could be read from this PDF: it has no text layer, and OCR found no words in it.",
  pdf_password_required: "This PDF is protected: enter its password.",
  pdf_password_incorrect: "That password does not open this PDF. Check it and try again.",
  pdf_garbled_text: "The text of this PDF cannot be read: its fonts do not say which letters they draw. " +
    "Try another copy of the document, or run OCR on it.",
  pdf_unreadable: "This PDF is damaged or incomplete, so it cannot be read.",
  pdf_too_complex: "This PDF took too long or too much memory to read. Try fewer pages.",
  no_answer: "This text gave nothing to answer with: it has no complete sentences that state something.",
  payload_too_large: "This document is too large for the server. Try a page range or a smaller file.",
  unsupported_media_type: "This kind of file is not supported: choose a PDF, .txt, .md, .html or .docx file.",
  queue_full: "The server is busy with other documents. Try again in a minute.",
  server_busy: "The server is busy reading other PDFs. Try again in a few seconds.",
  model_loading: "The model is still loading. Try again in a few seconds.",
  model_unavailable: "The model could not be loaded on the server, so nothing can be summarized.",
  cancelled: "The job was cancelled.",
  speech_unavailable: "The server cannot make audio: its speech engine (espeak-ng) is not installed.",
  not_found: "The job is no longer on the server: it may have expired. Start again.",
  document_deleted: "The document was deleted while this was being made.",
  internal_error: "Something went wrong on the server.",
  network: "The service cannot be reached. Check that it is still running, then try again.",
};
// Where the library's words differ: its files may also be HTML or Word, and what goes missing is a document.
export const LIBRARY_MESSAGES = {
  unsupported_media_type: "This kind of file is not supported: choose a PDF, .txt, .md, .html or .docx file.",
  not_found: "This document is not in your library: it may have been deleted.",
};
// Codes whose server message adds something useful (a limit, a reason) under the plain words.
const DETAILED = new Set([
  "payload_too_large", "unsupported_media_type", "pdf_unreadable", "pdf_too_complex", "model_unavailable",
  "no_answer",
]);

// {text, detail, field}: the words for an error, and the field it is about (fieldFor(code, message) says which).
export function describe(error, { messages = {}, fieldFor = () => "" } = {}) {
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
  const text = messages[code] || MESSAGES[code] || sentence(error.message) || `Something went wrong (${code}).`;
  const detail = DETAILED.has(code) ? sentence(error.message) : "";
  return { text, detail, field: fieldFor(code, error.message) };
}

// Anything thrown (a bug included) as an ApiError.
export function asApiError(error) {
  if (error instanceof ApiError) return error;
  console.error(error);
  return new ApiError("internal_error", String(error));
}

// The API key field, opened and focused: where an "unauthorized" answer sends the cursor.
export function focusKey() {
  $("key-box").open = true;
  $("api-key").focus();
  $("api-key").select();
}

// A message box: <div class="message" tabindex="-1"> with .message-text and .message-detail inside.
export class Notice {
  constructor(box) {
    this.box = box;
    this.text = box.querySelector(".message-text");
    this.detail = box.querySelector(".message-detail");
  }

  show(text, detail = "", kind = "error") {
    this.box.classList.toggle("is-info", kind === "info");
    this.text.textContent = text;
    this.detail.textContent = detail || "";
    this.detail.hidden = !detail;
    this.box.hidden = false;
  }

  hide() {
    this.box.hidden = true;
  }

  focus() {
    this.box.focus();
  }

  // Show what went wrong; the cursor goes to the field it is about (the key's included), else to the message.
  failure(error, options = {}) {
    const { text, detail, field } = describe(asApiError(error), options);
    this.show(text, detail, "error");
    if (field === "api-key") focusKey();
    else if (!field) this.focus();
    return field;
  }
}
