// Shared by the dashboard and the ideas board: DOM and SVG helpers, the API key, fetch, formats.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const KEY_STORE = "youasked.apiKey";

/** An HTML element: el("div", {class: "x", onclick: f}, child, "text", ...). */
function el(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, same shape as el(). */
function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** The API key: a "#key=..." fragment is stored and removed from the address bar. */
function takeKeyFromFragment() {
  const match = /(?:^#|&)key=([^&]+)/.exec(location.hash);
  if (match) {
    localStorage.setItem(KEY_STORE, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return localStorage.getItem(KEY_STORE);
}

class ApiFailure extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** GET an API path with query parameters (empty ones left out); the JSON body, or ApiFailure. */
async function getJson(path, params, key) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined && value !== "") query.set(name, value);
  }
  const url = query.toString() ? `${path}?${query}` : path;
  const headers = key ? { "X-API-Key": key } : {};
  let response;
  try {
    response = await fetch(url, { headers });
  } catch (error) {
    throw new ApiFailure(0, "network", "the API did not answer");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (body && body.error) || {};
    throw new ApiFailure(response.status, error.code || "error", error.message || response.statusText);
  }
  return body;
}

async function sendJson(method, path, body, key) {
  const response = await fetch(path, {
    method,
    headers: { "X-API-Key": key, "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (answer && answer.error) || {};
    throw new ApiFailure(response.status, error.code || "error", error.message || response.statusText);
  }
  return answer;
}

const NUMBER = new Intl.NumberFormat("en");
// "Oct 26" on a chart axis, where space is short; "October 2026" in sentences ("Nov 26" reads as a day)
const MONTH = new Intl.DateTimeFormat("en", { month: "short", year: "2-digit", timeZone: "UTC" });
const MONTH_LONG = new Intl.DateTimeFormat("en", { month: "long", year: "numeric", timeZone: "UTC" });
const DAY = new Intl.DateTimeFormat("en", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

function fmtInt(value) {
  return value === null || value === undefined ? "–" : NUMBER.format(value);
}

function fmtMonth(yyyyMm, { long = false } = {}) {
  const [year, month] = yyyyMm.split("-").map(Number);
  const first = new Date(0);
  first.setUTCFullYear(year, month - 1, 1); // Date.UTC would read years 0-99 as 1900-1999
  return (long ? MONTH_LONG : MONTH).format(first);
}

function fmtDay(iso) {
  return iso ? DAY.format(new Date(iso)) : "–";
}

const STATUS_LABELS = {
  new: "New",
  under_review: "Under review",
  planned: "Planned",
  in_progress: "In progress",
  shipped: "Shipped",
  declined: "Declined",
  merged: "Merged",
};
const QUADRANT_LABELS = {
  quick_win: "Quick win",
  big_bet: "Big bet",
  fill_in: "Fill-in",
  money_pit: "Money pit",
  unknown_cost: "Cost unknown",
};

function statusPill(status) {
  return el("span", { class: `pill status-${status}` }, STATUS_LABELS[status] || status);
}

/** A small trend line of weekly counts (oldest first), its values in data-trend. */
function sparkline(values, width = 96, height = 24) {
  const top = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / top) * (height - 4)).toFixed(1)}`);
  const last = values.length ? values[values.length - 1] : 0;
  return svg(
    "svg",
    { class: "sparkline", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": `mentions per week: ${values.join(", ")}`, dataset: { trend: values.join(",") } },
    svg("polyline", { points: points.join(" "), class: "spark-line" }),
    values.length ? svg("circle", { cx: ((values.length - 1) * step).toFixed(1),
      cy: (height - 2 - (last / top) * (height - 4)).toFixed(1), r: 2, class: "spark-dot" }) : null,
  );
}

/** Replace a panel body's content and mark its state (loading, ready, empty, error). */
function fill(panel, state, ...children) {
  const body = panel.querySelector(".panel-body");
  body.replaceChildren(...children.flat().filter(Boolean));
  panel.dataset.state = state;
}

function emptyState(text) {
  return el("p", { class: "empty" }, text);
}

function errorState(error) {
  return el("p", { class: "error-note" }, `Could not load: ${error.message}`);
}
