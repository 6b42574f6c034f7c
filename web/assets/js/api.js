// Calls to the JSON API: the API key (kept in the browser, sent as a header) and errors as ApiError.

import { $ } from "./dom.js";

const KEY_STORAGE = "llm-doc-service.api-key";

export class ApiError extends Error {
  constructor(code, message, extra = {}) {
    super(message || code);
    this.code = code;
    this.extra = extra;
  }
}

export function apiKey() {
  return $("api-key").value.trim();
}

// fetch with the key and JSON errors turned into ApiError; options.json is sent as a JSON body.
export async function api(url, options = {}) {
  const { json, ...rest } = options;
  const headers = new Headers(rest.headers || {});
  headers.set("Accept", "application/json, text/event-stream");
  if (apiKey()) headers.set("Authorization", `Bearer ${apiKey()}`);
  if (json !== undefined) {
    headers.set("Content-Type", "application/json");
    rest.body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(url, { ...rest, headers, cache: "no-store" });
  } catch {
    throw new ApiError("network", "the service cannot be reached");
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

// The answer's JSON body (null for 204 No Content).
export async function apiJson(url, options = {}) {
  const response = await api(url, options);
  return response.status === 204 ? null : response.json();
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

// ---- the key's field ------------------------------------------------------------------------------------

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

export function initKey() {
  $("api-key").addEventListener("input", saveKey);
  $("remember-key").addEventListener("change", saveKey);
  restoreKey();
}
