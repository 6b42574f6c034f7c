// Small helpers every view shares: finding and making elements, and saying numbers and times in words.

export const $ = (id) => document.getElementById(id);

// An element with properties (className, textContent, href, …), attributes (under "attrs") and children.
export function el(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  const { attrs, ...rest } = props;
  Object.assign(element, rest);
  for (const [name, value] of Object.entries(attrs || {})) element.setAttribute(name, value);
  element.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

export function sentence(text) {
  const trimmed = String(text || "").trim();
  if (!trimmed) return "";
  const first = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}

export function plural(count, one, many = `${one}s`) {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

export function clock(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

export function seconds(ms) {
  return ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : clock(ms);
}

export function formatBytes(size) {
  if (size < 1024) return `${size} bytes`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(0)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

export function formatDate(iso, withTime = false) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const options = { year: "numeric", month: "short", day: "numeric" };
  if (withTime) Object.assign(options, { hour: "2-digit", minute: "2-digit" });
  return date.toLocaleString(undefined, options);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The hash that opens a stored document (at a page) in the library's document view.
export function documentHash(documentId, page) {
  const base = `#documents/${encodeURIComponent(documentId)}`;
  return page ? `${base}/pages/${page}` : base;
}
