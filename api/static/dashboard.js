// The product managers' dashboard: every panel reads the API with the viewer's key.
// Panels mark their state in data-state (loading, ready, empty, error); <body data-ready="1">
// once every panel has rendered its first answer (the load benchmark and the browser tests wait on it).
"use strict";

const PANELS = ["monthly", "pipeline", "matrix", "top", "review", "pairs", "alone", "dialogue", "closures"];
const TOP_THEMES = 12;
const DIALOGUE_WEEKS = 8;
const MATRIX_POINTS = 150;
const PIPELINE_EVERY_MS = 15000;
const REASONS = { classifier: "not a request" };
const ALONE_SHOWN = 20;
const ALONE_REASONS = {
  near_ask: "two people, one idea",
  near_theme: "close to a theme",
  other_language: "another language",
  unique: "one person's idea",
  under_review: "possible duplicate",
  repeat: "a repeat",
};

const state = {
  key: null,
  role: null,
  product: "",
  platform: "",
  rolePromise: Promise.resolve(),
  loaded: new Set(),
  generation: 0,
};

function panel(name) {
  return document.getElementById(`panel-${name}`);
}

function rendered(name) {
  state.loaded.add(name);
  if (PANELS.every((p) => state.loaded.has(p)) && !document.body.dataset.ready) {
    document.body.dataset.ready = "1";
    const entry = performance.getEntriesByType("navigation")[0];
    document.body.dataset.firstLoadMs = Math.round(performance.now() - (entry ? entry.startTime : 0));
  }
}

function params(extra) {
  return { product: state.product, ...extra };
}

/** Run one panel's load; a 401 asks for a key again, other failures show in the panel. */
async function guarded(name, load) {
  // the pipeline does not depend on the filters: its answers are never stale
  const generation = state.generation;
  const current = name === "pipeline" ? () => true : () => generation === state.generation;
  try {
    await load(current);
  } catch (error) {
    if (!current()) return;
    if (error.status === 401) {
      askForKey("That key was not accepted. Enter a valid API key.");
    }
    fill(panel(name), "error", errorState(error));
    if (name === "matrix") {
      fill(panel("top"), "error", errorState(error));
      rendered("top");
    }
  }
  rendered(name);
}

// ---------------------------------------------------------------- monthly chart

async function loadMonthly(current) {
  const data = await getJson("/metrics/monthly", params({ platform: state.platform }), state.key);
  if (!current()) return;
  const months = data.months;
  if (!months.length) {
    fill(panel("monthly"), "empty", emptyState(
      state.platform || state.product
        ? "No valid suggestions for these filters yet."
        : "No valid suggestions yet. Replay comments or connect a platform, and they show here by month."));
    return;
  }
  const total = months.reduce((sum, m) => sum + m.suggestions, 0);
  const rejected = Object.entries(data.rejected_by_reason).sort((a, b) => b[1] - a[1]);
  const summary = el("div", { class: "chart-summary" },
    el("div", { class: "figure" }, el("strong", {}, fmtInt(total)), " valid suggestions"),
    el("div", { class: "figure" }, el("strong", {}, fmtInt(months[months.length - 1].distinct_authors)),
      ` ${months[months.length - 1].distinct_authors === 1 ? "person" : "people"} asked in ${fmtMonth(months[months.length - 1].month, { long: true })}`),
    rejected.length ? el("div", { class: "figure muted" }, "Set aside: ",
      rejected.slice(0, 4).map(([reason, n], i) => `${i ? ", " : ""}${REASONS[reason] || reason.replaceAll("_", " ")} ${fmtInt(n)}`)) : null,
  );
  fill(panel("monthly"), "ready", monthlyChart(months), summary);
}

function monthlyChart(months) {
  const width = 760, height = 230, left = 40, right = 12, top = 14, bottom = 28;
  const plotW = width - left - right, plotH = height - top - bottom;
  const max = niceMax(Math.max(...months.map((m) => Math.max(m.suggestions, m.distinct_authors))));
  const slot = plotW / months.length;
  const barW = Math.max(4, Math.min(46, slot * 0.62));
  const y = (v) => top + plotH - (v / max) * plotH;
  const chart = svg("svg", { class: "chart", id: "monthly-chart", viewBox: `0 0 ${width} ${height}`,
    role: "img", "aria-label": "valid suggestions and distinct people per month" });
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const value = Math.round(max * tick);
    chart.append(svg("line", { x1: left, x2: width - right, y1: y(value), y2: y(value), class: "gridline" }),
      svg("text", { x: left - 6, y: y(value) + 4, class: "axis-label", "text-anchor": "end" }, fmtInt(value)));
  }
  const labelEvery = Math.ceil(months.length / 12);
  const line = [];
  months.forEach((m, i) => {
    const cx = left + slot * i + slot / 2;
    const group = svg("g", { class: "bar", dataset: { month: m.month, suggestions: m.suggestions, authors: m.distinct_authors } },
      svg("title", {}, `${fmtMonth(m.month, { long: true })}: ${fmtInt(m.suggestions)} suggestions from ${fmtInt(m.distinct_authors)} people`),
      svg("rect", { x: cx - barW / 2, y: y(m.suggestions), width: barW, height: Math.max(0, top + plotH - y(m.suggestions)), rx: 3 }),
    );
    if (months.length <= 14) {
      group.append(svg("text", { x: cx, y: y(m.suggestions) - 4, class: "bar-value", "text-anchor": "middle" }, fmtInt(m.suggestions)));
    }
    if (i % labelEvery === 0) {
      group.append(svg("text", { x: cx, y: height - 8, class: "axis-label", "text-anchor": "middle" }, fmtMonth(m.month)));
    }
    chart.append(group);
    line.push([cx, y(m.distinct_authors), m]);
  });
  chart.append(svg("polyline", { class: "authors-line", points: line.map(([x, yy]) => `${x.toFixed(1)},${yy.toFixed(1)}`).join(" ") }));
  for (const [x, yy, m] of line) {
    chart.append(svg("circle", { cx: x, cy: yy, r: 3.5, class: "authors-dot", dataset: { month: m.month, authors: m.distinct_authors } },
      svg("title", {}, `${fmtMonth(m.month, { long: true })}: ${fmtInt(m.distinct_authors)} distinct people`)));
  }
  return chart;
}

/** A round maximum for an axis of four equal integer steps at least ``value`` high. */
function niceMax(value) {
  const rough = Math.max(1, value / 4);
  const power = 10 ** Math.floor(Math.log10(rough));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= rough && Number.isInteger(step * power)) return 4 * step * power;
  }
  return 40 * power;
}

// ---------------------------------------------------------------- matrix and top themes

async function loadMatrix(current) {
  const data = await getJson("/matrix", params({ platform: state.platform, limit: MATRIX_POINTS }), state.key);
  if (!current()) return;
  setProducts(data.products);
  const points = data.items.filter((p) => p.impact !== null && p.cost_normalized !== null);
  if (!points.length) {
    const note = "No themes yet. Themes form once a few people ask for similar things.";
    fill(panel("matrix"), "empty", emptyState(note));
    fill(panel("top"), "empty", emptyState(note));
    rendered("top");
    return;
  }
  fill(panel("matrix"), "ready", matrixChart(data, points),
    el("p", { class: "muted small caption" },
      `Top ${fmtInt(points.length)} of ${fmtInt(data.total)} active themes by score. Size: distinct people. ` +
      "Themes without an estimate sit at the assumed cost (M), spread slightly so each can be clicked. " +
      "High impact is the product's top quarter of its themes (the line); impact is drawn up to its highest."));
  renderTop(data);
  rendered("top");
}

function hashUnit(text) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return ((h >>> 0) % 1000) / 1000;
}

function matrixChart(data, points) {
  const width = 760, height = 420, left = 46, right = 16, top = 16, bottom = 40;
  const plotW = width - left - right, plotH = height - top - bottom;
  const pad = 20;  // the largest point's radius: a point at 0 or 1 stays inside the plot
  const bar = data.high_impact_threshold ?? 0.45;
  // impact is drawn up to a little above the product's highest (and its bar), not to 1: a product's
  // impacts sit in a narrow band, and on a 0..1 axis every point would huddle on the split line
  const most = Math.min(1, Math.max(0.05, 1.15 * Math.max(bar, ...points.map((p) => p.impact))));
  const x = (cost) => left + pad + cost * (plotW - 2 * pad);
  const y = (impact) => top + plotH - pad - (impact / most) * (plotH - 2 * pad);
  const splitX = x(data.high_cost_from);
  const splitY = y(bar);
  const maxPeople = Math.max(1, ...points.map((p) => p.author_count));
  const chart = svg("svg", { class: "chart matrix", id: "matrix-chart", viewBox: `0 0 ${width} ${height}`,
    role: "img", "aria-label": "themes by impact and cost" });
  const quadrants = [
    ["quick_win", left, top, splitX - left, splitY - top, "Quick wins"],
    ["big_bet", splitX, top, width - right - splitX, splitY - top, "Big bets"],
    ["fill_in", left, splitY, splitX - left, top + plotH - splitY, "Fill-ins"],
    ["money_pit", splitX, splitY, width - right - splitX, top + plotH - splitY, "Money pits"],
  ];
  for (const [name, qx, qy, qw, qh, label] of quadrants) {
    chart.append(svg("rect", { x: qx, y: qy, width: Math.max(0, qw), height: Math.max(0, qh), class: `quadrant q-${name}` }),
      svg("text", { x: qx + 8, y: qy + 18, class: "quadrant-label" }, label));
  }
  chart.append(
    svg("line", { x1: splitX, x2: splitX, y1: top, y2: top + plotH, class: "split" }),
    svg("line", { x1: left, x2: width - right, y1: splitY, y2: splitY, class: "split split-impact",
      dataset: { impact: bar } }),
    svg("text", { x: left + plotW / 2, y: height - 8, class: "axis-title", "text-anchor": "middle" }, "cost →"),
    svg("text", { x: 14, y: top + plotH / 2, class: "axis-title", "text-anchor": "middle",
      transform: `rotate(-90 14 ${top + plotH / 2})` }, "impact →"),
    svg("text", { x: left, y: height - 22, class: "axis-label" }, "low"),
    svg("text", { x: width - right, y: height - 22, class: "axis-label", "text-anchor": "end" }, "high"),
  );
  // largest first, so small points stay on top and clickable
  const ordered = [...points].sort((a, b) => b.author_count - a.author_count);
  for (const p of ordered) {
    const spread = p.cost_assumed ? (hashUnit(p.theme_id) - 0.5) * 0.08 : 0;
    const cx = x(Math.min(1, Math.max(0, p.cost_normalized + spread)));
    const cy = y(Math.min(most, Math.max(0, p.impact)));
    const r = 4 + 16 * Math.sqrt(p.author_count / maxPeople);
    const point = svg("circle", {
      cx: cx.toFixed(1), cy: cy.toFixed(1), r: r.toFixed(1), tabindex: 0, role: "button",
      class: `point status-${p.lifecycle_status}${p.cost_assumed ? " hollow" : ""}`,
      "aria-label": `${themeName(p)}: ${p.author_count} people`,
      dataset: { themeId: p.theme_id, impact: p.impact, cost: p.cost_normalized, people: p.author_count,
        quadrant: p.quadrant || "" },
      onclick: () => openTheme(p.theme_id),
      onkeydown: (event) => { if (event.key === "Enter" || event.key === " ") openTheme(p.theme_id); },
    }, svg("title", {}, `${themeName(p)}\n${p.author_count} people · ${p.mention_count} mentions · ` +
      `${QUADRANT_LABELS[p.quadrant] || p.quadrant} · ${STATUS_LABELS[p.lifecycle_status]}`));
    chart.append(point);
  }
  return chart;
}

/** A theme's title (a person's, else picked from its asks), else its keywords, else its id. */
function themeName(theme) {
  return theme.title || theme.label || theme.theme_id;
}

function emergingPill() {
  return el("span", { class: "pill emerging", title: "A few people asked this; it becomes a full theme as more do." },
    "emerging");
}

function mixedPill() {
  return el("span", { class: "pill mixed", title: "Most of its asks are far from its centre: it likely gathers several ideas, and its priority counts its people at that share. Read its asks; split or rename it." },
    "mixed");
}

function renderTop(data) {
  const rows = data.items.slice(0, TOP_THEMES).map((t, i) => el("tr", { dataset: { themeId: t.theme_id } },
    el("td", { class: "rank" }, i + 1),
    el("td", { class: "theme-cell" },
      el("button", { type: "button", class: "link-button", onclick: () => openTheme(t.theme_id) }, themeName(t)),
      t.emerging ? emergingPill() : null,
      t.mixed ? mixedPill() : null,
      el("div", { class: "muted small" }, `${QUADRANT_LABELS[t.quadrant] || "–"}${state.product ? "" : ` · ${t.product}`}`)),
    el("td", {}, statusPill(t.lifecycle_status)),
    el("td", { class: "num" }, fmtInt(t.author_count)),
    el("td", {}, sparkline(t.trend)),
  ));
  fill(panel("top"), "ready",
    el("table", { class: "table", id: "top-themes" },
      el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, "theme"), el("th", {}, "status"),
        el("th", { class: "num" }, "people"), el("th", {}, `${data.trend_weeks.length} weeks`))),
      el("tbody", {}, rows)));
}

function setProducts(products) {
  const select = document.getElementById("product");
  const known = new Set([...select.options].map((o) => o.value));
  for (const product of [...products, state.product]) {
    if (product && !known.has(product)) {
      select.append(el("option", { value: product }, product));
      known.add(product);
    }
  }
  select.value = state.product;
}

// ---------------------------------------------------------------- review queue

async function loadReview(current) {
  const [items] = await Promise.all([getJson("/review-queue", params({ limit: 20 }), state.key), state.rolePromise]);
  if (!current()) return;
  document.getElementById("review-note").textContent = items.length
    ? `${items.length === 20 ? "the 20 most similar" : `${items.length} waiting`}${canDecide() ? "" : " · a pm key settles them"}` : "";
  if (!items.length) {
    fill(panel("review"), "empty", emptyState("Nothing to review: no suggestion sits in the possible-duplicate band."));
    return;
  }
  const list = items.map((item) => el("li", { class: "review-item", dataset: { suggestionId: item.suggestion.suggestion_id } },
    el("div", { class: "similarity", title: "cosine similarity" }, `${Math.round((item.similarity || 0) * 100)}%`),
    el("div", { class: "pair" },
      el("blockquote", {}, item.suggestion.text,
        el("cite", {}, `${item.suggestion.platform} · ${fmtDay(item.suggestion.asked_at)}${item.suggestion.author_handle ? ` · ${item.suggestion.author_handle}` : ""}`)),
      el("div", { class: "may-repeat muted small" }, item.same_theme ? "may repeat, in the same theme:" : "may repeat, in another theme:"),
      item.original
        ? el("blockquote", { class: "original" }, item.original.text,
          el("cite", {}, `${item.original.platform} · ${fmtDay(item.original.asked_at)}`))
        : el("p", { class: "muted small" }, "The original is no longer known."),
    ),
    el("div", { class: "review-actions" },
      item.theme_id ? el("button", { type: "button", class: "button-quiet", onclick: () => openTheme(item.theme_id) }, "its theme") : null,
      item.original_theme_id && !item.same_theme
        ? el("button", { type: "button", class: "button-quiet", onclick: () => openTheme(item.original_theme_id) }, "original's theme") : null,
      canDecide() ? el("button", { type: "button", class: "button-quiet decide", dataset: { decision: "confirm" },
        title: "The same ask: count it as a mention of the original",
        onclick: (event) => settle(event.target, item, "confirm") }, "Same ask") : null,
      canDecide() ? el("button", { type: "button", class: "button-quiet decide", dataset: { decision: "reject" },
        title: "A different ask: keep it apart",
        onclick: (event) => settle(event.target, item, "reject") }, "Different") : null,
    ),
  ));
  fill(panel("review"), "ready", el("ul", { class: "review-list" }, list));
}

// ---------------------------------------------------------------- themes that may be one idea

const PAIRS_SHOWN = 10;

async function loadPairs(current) {
  const note = document.getElementById("pairs-note");
  if (!state.product) {
    note.textContent = "";
    fill(panel("pairs"), "empty", emptyState("Choose a product to see its themes that may be one idea."));
    return;
  }
  const [data] = await Promise.all([getJson("/themes/pairs", params({ limit: PAIRS_SHOWN }), state.key), state.rolePromise]);
  if (!current()) return;
  note.textContent = data.items.length
    ? `% of their asks nearest the other theme${canDecide() ? "" : " · a pm key merges them or keeps them apart"}` : "";
  if (!data.items.length) {
    fill(panel("pairs"), "empty", emptyState("No two themes of this product sit close enough to be one idea."));
    return;
  }
  const side = (theme) => el("div", { class: "pair-theme", dataset: { themeId: theme.theme_id } },
    el("button", { type: "button", class: "link-button", onclick: () => openTheme(theme.theme_id) }, themeName(theme)),
    theme.status === "emerging" ? emergingPill() : null,
    el("span", { class: "muted small" }, ` ${fmtInt(theme.author_count)} ${theme.author_count === 1 ? "person" : "people"}`),
    theme.representative_text ? el("blockquote", {}, theme.representative_text) : null);
  const list = data.items.map((pair) => el("li", { class: "pair-item", dataset: { into: pair.into.theme_id, other: pair.other.theme_id } },
    el("div", { class: "similarity", title: `for ${Math.round(pair.mutual * 100)}% of their asks the other theme is the nearest one besides their own; their centres at cosine ${pair.similarity.toFixed(2)}` },
      `${Math.round(pair.mutual * 100)}%`),
    side(pair.into),
    side(pair.other),
    el("div", { class: "review-actions" },
      canDecide() ? el("button", { type: "button", class: "button-quiet decide", dataset: { decision: "merge" },
        title: `One idea: fold “${themeName(pair.other)}” into “${themeName(pair.into)}”`,
        onclick: (event) => decidePair(event.target, pair, "merge") }, "Merge") : null,
      canDecide() ? el("button", { type: "button", class: "button-quiet decide", dataset: { decision: "keep-apart" },
        title: "Two ideas: stop listing this pair",
        onclick: (event) => decidePair(event.target, pair, "keep-apart") }, "Keep apart") : null,
    ),
  ));
  fill(panel("pairs"), "ready", el("ul", { class: "review-list pair-list" }, list));
}

/** Merge a pair or keep it apart (pm): the worker decides; the pair leaves the list at the next load. */
function decidePair(button, pair, decision) {
  const path = `/themes/${encodeURIComponent(pair.into.theme_id)}/${decision}`;
  const body = decision === "merge"
    ? { source_ids: [pair.other.theme_id], reason: "one idea (dashboard)" }
    : { other_ids: [pair.other.theme_id], reason: "two ideas (dashboard)" };
  return decideRow(button.closest(".pair-item"), () => sendJson("POST", path, body, state.key),
    decision === "merge" ? "Merged." : "Kept apart.");
}

/** Send a pm's decision about one row of a review list and show its outcome: a settled row loses its buttons. */
async function decideRow(row, send, doneText) {
  for (const b of row.querySelectorAll("button.decide")) b.disabled = true;
  const note = el("div", { class: "muted tiny decision-note" }, "Sent…");
  row.querySelector(".review-actions").append(note);
  try {
    const answer = await send();
    const outcome = await commandOutcome(answer.command_id);
    if (!outcome) {
      note.textContent = "Sent; the worker has not decided yet.";
      return;
    }
    // a decision that thanked someone in a follow-up closure says so
    note.textContent = outcome.accepted ? `${doneText}${outcome.closure_key && outcome.message ? ` ${outcome.message}` : ""}` : `Refused: ${outcome.code}`;
    if (outcome.accepted) {  // settled: it leaves the list at the next load
      row.classList.add("settled");
      for (const b of row.querySelectorAll("button.decide, select.move-choice")) b.remove();
    } else {
      for (const b of row.querySelectorAll("button.decide")) b.disabled = false;
    }
  } catch (error) {
    note.textContent = error.status === 403 ? "Your key may not decide this." : `Failed: ${error.message}`;
    for (const b of row.querySelectorAll("button.decide")) b.disabled = false;
  }
}

/** A command's outcome once the worker decided and it was projected; null after about 20 s. */
async function commandOutcome(commandId) {
  for (let i = 0; i < 40; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const answer = await fetch(`/commands/${encodeURIComponent(commandId)}`, { headers: { "X-API-Key": state.key } });
    if (answer.ok) return answer.json();
  }
  return null;
}

// ---------------------------------------------------------------- asks in no theme

async function loadAlone(current) {
  const note = document.getElementById("alone-note");
  if (!state.product) {
    note.textContent = "";
    fill(panel("alone"), "empty", emptyState("Choose a product to see its asks that are in no theme, and why."));
    return;
  }
  const [data] = await Promise.all([getJson("/themes/alone", params({ limit: ALONE_SHOWN }), state.key), state.rolePromise]);
  if (!current()) return;
  // where a pm may place an ask besides its closest theme: the product's other live themes
  const themes = canDecide() && data.alone
    ? (await getJson("/themes", { product: state.product, sort: "authors", limit: 200 }, state.key)).items : [];
  if (!current()) return;
  const total = data.alone + data.in_themes;
  note.textContent = total ? `${fmtInt(data.alone)} of ${fmtInt(total)} asks · ${Math.round((100 * data.alone) / total)}%` : "";
  if (!data.alone) {
    fill(panel("alone"), "empty", emptyState("Every ask of this product is in a theme."));
    return;
  }
  const counts = el("p", { class: "alone-counts small" },
    Object.entries(ALONE_REASONS).filter(([code]) => data.reasons[code])
      .map(([code, label]) => el("span", { class: `reason-chip reason-${code}`, dataset: { reason: code } },
        `${label} ${fmtInt(data.reasons[code])}`)),
    data.considered < data.alone ? el("span", { class: "muted" }, ` (of the ${fmtInt(data.considered)} most recent)`) : null);
  const list = data.items.map((item) => el("li", { class: "alone-item", dataset: { suggestionId: item.suggestion.suggestion_id, reason: item.reason } },
    el("blockquote", {}, item.suggestion.text,
      el("cite", {}, `${item.suggestion.platform} · ${fmtDay(item.suggestion.asked_at)}${item.suggestion.author_handle ? ` · ${item.suggestion.author_handle}` : ""}`)),
    el("div", { class: "alone-why small", title: item.detail },
      el("span", { class: `reason-chip reason-${item.reason}` }, ALONE_REASONS[item.reason] || item.reason),
      el("span", { class: "muted" }, ` ${aloneNote(item)}`),
      item.nearest_theme_id && item.reason === "near_theme"
        ? el("button", { type: "button", class: "button-quiet", onclick: () => openTheme(item.nearest_theme_id) }, "that theme") : null),
    canDecide() && PLACEABLE.has(item.reason) && themes.length
      ? el("div", { class: "review-actions" },
        item.nearest_theme_id && item.reason !== "other_language" ? el("button", { type: "button", class: "button-quiet decide", dataset: { decision: "place", target: item.nearest_theme_id },
          title: `It asks for “${item.nearest_theme_title}”: place it in that theme, where re-clusters leave it`,
          onclick: (event) => placeAsk(event, item, { theme_id: item.nearest_theme_id, title: item.nearest_theme_title }) },
        `Add to “${item.nearest_theme_title}”`) : null,
        // an ask in another language: the model that measured its closest theme does not read it, so every theme is offered alike
        ...otherThemeChoice(themes.filter((t) => item.reason === "other_language" || t.theme_id !== item.nearest_theme_id), "Add",
          (event, target) => placeAsk(event, item, target)))
      : null,
  ));
  fill(panel("alone"), "ready", el("div", {}, counts, el("ul", { class: "alone-list" }, list)));
}

/** Where one ask of a theme may move: the three other themes nearest it (by their centres), and
 * any other live theme of the product from a list (the model may not see what a person reads). */
async function offerThemes(button, theme, ask) {
  button.disabled = true;
  const actions = button.closest(".review-actions");
  let near;
  let all;
  try {
    [near, all] = await Promise.all([
      getJson(`/suggestions/${encodeURIComponent(ask.suggestion_id)}/themes`, { limit: 3 }, state.key),
      getJson("/themes", { product: theme.product, sort: "authors", limit: 200 }, state.key),
    ]);
  } catch (error) {
    button.disabled = false;
    actions.append(el("div", { class: "muted tiny decision-note" }, `Failed: ${error.message}`));
    return;
  }
  button.remove();
  const move = (target) => (event) => decideRow(event.target.closest("li"),
    () => sendJson("POST", `/themes/${encodeURIComponent(target.theme_id)}/place`,
      { suggestion_id: ask.suggestion_id, reason: "asks for that theme's idea (dashboard)" }, state.key),
    `Moved to “${themeName(target)}”.`);
  const offered = near.items.filter((other) => other.theme_id !== theme.theme_id);
  const shown = new Set([theme.theme_id, ...offered.map((other) => other.theme_id)]);
  const rest = all.items.filter((other) => !shown.has(other.theme_id));
  actions.append(el("span", { class: "muted tiny" }, "Move to "),
    ...offered.map((other) => el("button", {
      type: "button", class: "button-quiet decide", dataset: { decision: "place", target: other.theme_id },
      title: `cosine ${other.similarity.toFixed(2)} to its centre`, onclick: move(other),
    }, `“${themeName(other)}”`)),
    ...otherThemeChoice(rest, "Move", (event, target) => move(target)(event)));
}

/** A "place" history entry in words: "an ask from no theme", "an ask from t-…", "an ask to t-…". */
function placeNote(detail) {
  const fields = Object.fromEntries(detail.split(", ").map((part) => part.split("=")));
  if (fields.to) return `${fields.suggestion} to ${fields.to}`;
  return `${fields.suggestion} here from ${fields.from === "alone" ? "no theme" : fields.from}`;
}

/** Reasons of an ask in no theme that a pm may settle by placing it in its closest theme. */
const PLACEABLE = new Set(["near_theme", "near_ask", "other_language", "unique"]);

/** Place an ask in no theme in its closest theme (pm): the worker decides; it leaves the list at the next load. */
function placeAsk(event, item, target) {
  const path = `/themes/${encodeURIComponent(target.theme_id)}/place`;
  const body = { suggestion_id: item.suggestion.suggestion_id, reason: "asks for this theme's idea (dashboard)" };
  return decideRow(event.target.closest(".alone-item"), () => sendJson("POST", path, body, state.key),
    `Placed in “${themeName(target)}”.`);
}

/** A list of other themes and a button that sends an ask to the one chosen: [select, button]. */
function otherThemeChoice(themes, label, send) {
  if (!themes.length) return [];
  const choice = el("select", { class: "move-choice", "aria-label": "another theme" },
    el("option", { value: "" }, "another theme…"),
    themes.map((theme) => el("option", { value: theme.theme_id }, themeName(theme))));
  const go = el("button", { type: "button", class: "button-quiet decide", dataset: { decision: "place" }, disabled: true,
    onclick: (event) => {
      const target = themes.find((theme) => theme.theme_id === choice.value);
      if (target) send(event, target);
    } }, label);
  choice.addEventListener("change", () => { go.disabled = !choice.value; });
  return [choice, go];
}

/** The short line beside an alone ask's reason (the whole sentence is its tooltip). */
function aloneNote(item) {
  const cos = (value) => (value == null ? "" : value.toFixed(2));
  const theme = item.nearest_theme_title ? `“${item.nearest_theme_title}”` : "";
  if (item.reason === "near_theme") return `${theme} at cosine ${cos(item.theme_similarity)}: a re-cluster may place it there`;
  if (item.reason === "near_ask") return `another person's ask at cosine ${cos(item.ask_similarity)}: they may found a theme`;
  if (item.reason === "unique") return theme ? `closest theme ${theme}, cosine ${cos(item.theme_similarity)}` : "no theme yet";
  if (item.reason === "other_language") return "the model does not read it: choose its theme";
  if (item.reason === "repeat") return "counted as a mention of the ask it repeats";
  return "waiting in the review queue";
}

function canDecide() {
  return state.role === "pm" || state.role === "admin";
}

/** Confirm or reject a possible duplicate (pm): the worker decides; the queue reloads once it has. */
function settle(button, item, decision) {
  const path = `/review-queue/${encodeURIComponent(item.suggestion.suggestion_id)}/${decision}`;
  const body = { reason: decision === "confirm" ? "same ask" : "different ask" };
  return decideRow(button.closest(".review-item"), () => sendJson("POST", path, body, state.key), "Done.");
}

/** A pm renames a theme: the title stays across re-clusters and merges; empty returns to the picked one. */
function renameForm(theme) {
  const input = el("input", { type: "text", class: "rename-input", maxlength: 120, value: theme.title || "",
    "aria-label": "theme title" });
  const note = el("span", { class: "muted tiny rename-note" }, theme.named ? "named by a person" : "picked from the asks");
  const save = el("button", { type: "submit", class: "button-quiet rename-save" }, "Rename");
  return el("form", { class: "rename", onsubmit: (event) => { event.preventDefault(); rename(theme, input, save, note); } },
    input, save, note);
}

async function rename(theme, input, save, note) {
  save.disabled = true;
  note.textContent = "Sent…";
  try {
    const path = `/themes/${encodeURIComponent(theme.theme_id)}/title`;
    const answer = await sendJson("POST", path, { title: input.value.trim(), reason: "renamed on the dashboard" }, state.key);
    const body = await commandOutcome(answer.command_id);
    if (!body) {
      note.textContent = "Sent; the worker has not decided yet.";
    } else {
      note.textContent = body.accepted ? "Renamed." : `Refused: ${body.code}`;
      if (body.accepted && input.value.trim()) document.getElementById("detail-title").textContent = input.value.trim();
    }
  } catch (error) {
    note.textContent = error.status === 403 ? "Your key may not rename themes." : `Failed: ${error.message}`;
  }
  save.disabled = false;
}

// ---------------------------------------------------------------- closures

async function loadClosures(current) {
  const closures = await getJson("/closures", params({ limit: 8 }), state.key);
  if (!current()) return;
  if (!closures.length) {
    fill(panel("closures"), "empty", emptyState(
      "No closures yet. Mark a theme shipped and everyone who asked is thanked here."));
    return;
  }
  // a follow-up thanks people a product manager added after shipping, in their threads: no post,
  // no impact of its own (the closure it follows has both)
  const followUp = (c) => Boolean(c.event.follow_up_of);
  const impacts = await Promise.all(closures.map((c) => (c.outcome === "shipped" && !followUp(c)
    ? getJson(`/closures/${encodeURIComponent(c.closure_key)}/impact`, {}, state.key).catch(() => null)
    : null)));
  if (!current()) return;
  const items = closures.map((c, index) => {
    const posts = c.event.public_posts || [];
    const pill = followUp(c) ? "Follow-up" : c.outcome === "shipped" ? "Shipped" : "Declined";
    const thanked = `${fmtInt(c.people_count)} ${c.people_count === 1 ? "person" : "people"} thanked${followUp(c) ? " later, in their threads" : ""}`;
    return el("li", { class: "closure", dataset: { themeId: c.theme_id, closureId: c.closure_key, followUp: followUp(c) ? "1" : "0" } },
      el("div", { class: "closure-head" },
        el("span", { class: `pill outcome-${c.outcome}` }, pill),
        el("button", { type: "button", class: "link-button", onclick: () => openTheme(c.theme_id) }, c.title)),
      el("div", { class: "muted small" },
        `${thanked} · ${fmtInt(c.comment_count)} ${c.comment_count === 1 ? "comment" : "comments"} · ${fmtDay(c.closed_at)}${state.product ? "" : ` · ${c.product}`}`),
      posts.length ? el("p", { class: "post" }, posts[0].text) : null,
      impacts[index] ? impactView(impacts[index]) : null,
    );
  });
  fill(panel("closures"), "ready", el("ul", { class: "closure-list" }, items));
}

const IMPACT_WEEKS = 12;

/** Before/after of a shipped closure: asks per week before shipping, asks in each week after, praise. */
function impactView(impact) {
  const weeks = impact.weeks;
  if (!weeks.length) {
    return el("div", { class: "impact muted small", dataset: { weeks: 0 } },
      "Impact: followed for 12 weeks after shipping; no week has ended yet.");
  }
  const last = weeks[weeks.length - 1];
  const change = last.change === null ? "" : ` (${last.change > 0 ? "+" : ""}${Math.round(last.change * 100)}%)`;
  const praise = `${fmtInt(last.follow_up_praise)} said it works afterwards` +
    (last.praising_askers ? `, ${fmtInt(last.praising_askers)} of whom had asked` : "");
  return el("div", { class: "impact", dataset: { weeks: weeks.length, before: impact.asks_before_per_week, after: last.asks_after_per_week } },
    el("div", { class: "small" },
      `Asks per week: ${impact.asks_before_per_week.toFixed(1)} before → ${last.asks_after_per_week.toFixed(1)} after ${weeks.length} ${weeks.length === 1 ? "week" : "weeks"}${change} · ${praise}`),
    impactChart(impact));
}

function impactChart(impact) {
  const width = 320, height = 64, top = 6, bottom = 14, left = 4;
  const plotH = height - top - bottom, slot = (width - left) / IMPACT_WEEKS;
  const max = Math.max(1, impact.asks_before_per_week, ...impact.weeks.map((w) => w.asks_in_week));
  const y = (v) => top + plotH - (v / max) * plotH;
  const chart = svg("svg", { class: "impact-chart", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `asks per week: ${impact.asks_before_per_week} before shipping; after: ${impact.weeks.map((w) => w.asks_in_week).join(", ")}` });
  for (const w of impact.weeks) {
    const x = left + slot * (w.week - 1);
    chart.append(svg("g", { class: "impact-week", dataset: { week: w.week, asks: w.asks_in_week, praise: w.praise_in_week } },
      svg("title", {}, `week ${w.week} after shipping: ${fmtInt(w.asks_in_week)} asks, ${fmtInt(w.praise_in_week)} praise`),
      svg("rect", { x: x + 2, y: y(w.asks_in_week), width: slot - 4, height: Math.max(0, top + plotH - y(w.asks_in_week)), rx: 2 })));
  }
  chart.append(svg("line", { class: "impact-before", x1: left, x2: width, y1: y(impact.asks_before_per_week), y2: y(impact.asks_before_per_week) }),
    svg("text", { class: "axis-label", x: width - 2, y: y(impact.asks_before_per_week) - 3, "text-anchor": "end" }, "before"),
    svg("text", { class: "axis-label", x: left, y: height - 2 }, "week 1"),
    svg("text", { class: "axis-label", x: width - 2, y: height - 2, "text-anchor": "end" }, `week ${IMPACT_WEEKS}`));
  return chart;
}

// ---------------------------------------------------------------- dialogue

/** A duration in seconds as people read it: "74 s", "38 min", "6 h 27 min", "19 d 12 h". */
function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}

/** "p50 / p90", each duration kept on one line: a narrow column breaks only after the slash. */
function pairOfDurations(p50, p90) {
  const whole = (seconds) => fmtDuration(seconds).replaceAll(" ", "\u00a0");
  return `${whole(p50)} / ${whole(p90)}`;
}

function fmtShare(share) {
  return share === null || share === undefined ? "–" : `${Math.round(share * 100)} %`;
}

async function loadDialogue(current) {
  const note = document.getElementById("dialogue-level");
  if (!state.product) {
    note.textContent = "";
    fill(panel("dialogue"), "empty", emptyState(
      "Pick a product to see how fast its brand answers in reply threads."));
    return;
  }
  const data = await getJson("/metrics/dialogue", params({ platform: state.platform }), state.key);
  if (!current()) return;
  // a week whose only thread turned out to start earlier (a message that came late) is empty now
  const weeks = data.weeks.filter((w) => w.threads > 0);
  if (!weeks.length) {
    note.textContent = "";
    fill(panel("dialogue"), "empty", emptyState("No reply threads for these filters yet."));
    return;
  }
  const level = weeks[weeks.length - 1].service_level;
  note.textContent = `service level ${fmtDuration(level.response_s)} within ${level.work_start.slice(0, 5)}–${level.work_end.slice(0, 5)} ${level.timezone}`;
  const head = el("tr", {}, ["Week", "Platform", "Threads", "Answered", "First response p50 / p90",
    "Working time p50 / p90", "Within service level", "Closed without escalation"].map((h) => el("th", {}, h)));
  // the latest weeks only: a product's whole history is the API's (GET /metrics/dialogue)
  const shownWeeks = [...new Set(weeks.map((w) => w.week))].sort().slice(-DIALOGUE_WEEKS);
  const recent = weeks.filter((w) => shownWeeks.includes(w.week));
  const rows = recent.slice().reverse().map((w) => el("tr", { dataset: { week: w.week, platform: w.platform } },
    el("td", {}, w.week),
    el("td", {}, w.platform),
    el("td", { class: "num" }, fmtInt(w.threads)),
    el("td", { class: "num" }, fmtInt(w.answered)),
    el("td", { class: "num", dataset: { field: "response" } }, pairOfDurations(w.response_p50_s, w.response_p90_s)),
    el("td", { class: "num" }, pairOfDurations(w.working_response_p50_s, w.working_response_p90_s)),
    el("td", { class: "num", dataset: { field: "within" } }, fmtShare(w.share_within_service_level)),
    el("td", { class: "num", dataset: { field: "closed" } }, fmtShare(w.share_closed_without_escalation)),
  ));
  const earlier = weeks.length - recent.length;
  fill(panel("dialogue"), "ready",
    el("div", { class: "dialogue-scroll" }, el("table", { class: "dialogue-table" }, el("thead", {}, head), el("tbody", {}, rows))),
    earlier ? el("p", { class: "muted small" }, `The latest ${shownWeeks.length} weeks; ${fmtInt(earlier)} earlier rows are in GET /metrics/dialogue.`) : null);
}

// ---------------------------------------------------------------- pipeline

async function loadPipeline(current) {
  const health = await getJson("/pipeline", {}, state.key);
  if (!current()) return;
  document.getElementById("pipeline-checked").textContent = `checked ${new Date(health.checked_at).toLocaleTimeString()}`;
  if (health.broker !== "ok") {
    fill(panel("pipeline"), "ready",
      el("div", { class: "health-grid" },
        healthFigure("broker", "unknown", "bad"), healthFigure("consumer lag", "unknown"),
        healthFigure("dead letters", "unknown"), healthFigure("comments / min", "unknown")),
      el("p", { class: "muted small" }, health.message || "The broker could not be asked."));
    return;
  }
  const lag = health.total_lag;
  const rate = health.comments_per_minute;
  const short = (topic) => topic.slice(topic.indexOf("feedback.") >= 0 ? topic.indexOf("feedback.") + 9 : 0);
  fill(panel("pipeline"), "ready",
    el("div", { class: "health-grid" },
      healthFigure("broker", "ok", "good"),
      healthFigure("consumer lag", fmtInt(lag), lag === 0 ? "good" : lag > 1000 ? "bad" : "warn"),
      healthFigure("dead letters", fmtInt(health.dead_letter_total), health.dead_letter_total ? "warn" : "good"),
      healthFigure("comments / min", rate === null ? "measuring…" : fmtInt(Math.round(rate)), null,
        rate === null ? "a rate needs two checks 5 s apart" : `over the last ${Math.round(health.measured_over_s)} s`)),
    el("table", { class: "table compact", id: "lag-table" },
      el("thead", {}, el("tr", {}, el("th", {}, "input topic"), el("th", { class: "num" }, "written"), el("th", { class: "num" }, "behind"))),
      el("tbody", {}, health.inputs.map((t) => el("tr", { dataset: { topic: t.topic, lag: t.lag } },
        el("td", {}, short(t.topic)), el("td", { class: "num" }, fmtInt(t.end_offset)), el("td", { class: "num" }, fmtInt(t.lag)))))),
    el("table", { class: "table compact", id: "dead-letter-table" },
      el("thead", {}, el("tr", {}, el("th", {}, "stage"), el("th", {}, "dead-letter topics"), el("th", { class: "num" }, "dead letters"))),
      el("tbody", {}, health.stages.map((s) => el("tr", { dataset: { stage: s.stage, deadLetters: s.dead_letters } },
        el("td", {}, s.stage),
        el("td", { class: "muted small" }, Object.entries(s.topics).map(([t, n], i) => `${i ? ", " : ""}${short(t)} ${fmtInt(n)}`).join("")),
        el("td", { class: `num${s.dead_letters ? " tone-warn" : ""}` }, fmtInt(s.dead_letters)))))),
    el("p", { class: "muted small" }, `consumer group ${health.consumer_group}`));
}

function healthFigure(label, value, tone, note) {
  return el("div", { class: `health-figure${tone ? ` tone-${tone}` : ""}`, dataset: { figure: label } },
    el("div", { class: "health-value" }, value), el("div", { class: "muted small" }, label),
    note ? el("div", { class: "muted tiny" }, note) : null);
}

// ---------------------------------------------------------------- theme detail

async function openTheme(themeId) {
  const drawer = document.getElementById("detail");
  const body = document.getElementById("detail-body");
  drawer.hidden = false;
  drawer.dataset.themeId = themeId;
  drawer.dataset.state = "loading";
  document.getElementById("detail-title").textContent = "Loading…";
  body.replaceChildren(el("p", { class: "loading" }, "Loading…"));
  let theme;
  try {
    theme = await getJson(`/themes/${encodeURIComponent(themeId)}`, { suggestions_limit: 25 }, state.key);
  } catch (error) {
    if (drawer.dataset.themeId !== themeId) return;
    document.getElementById("detail-title").textContent = "Theme";
    body.replaceChildren(errorState(error));
    drawer.dataset.state = "error";
    return;
  }
  if (drawer.dataset.themeId !== themeId) return;
  document.getElementById("detail-title").textContent = themeName(theme);
  const score = theme.score || {};
  const factors = (score.factors || []).filter((f) => f.weight > 0);
  const weeks = Object.keys(theme.weekly_counts).sort();
  body.replaceChildren(...[
    el("div", { class: "detail-meta" }, statusPill(theme.lifecycle_status),
      theme.status === "emerging" ? emergingPill() : null,
      theme.mixed ? mixedPill() : null,
      el("span", { class: "pill" }, QUADRANT_LABELS[theme.quadrant] || "no score"),
      el("span", { class: "muted small" }, `${theme.product} · ${theme.theme_id}`)),
    theme.keywords && theme.keywords.length
      ? el("p", { class: "muted small detail-keywords" }, `Keywords: ${theme.keywords.join(", ")}`) : null,
    canDecide() ? renameForm(theme) : null,
    el("div", { class: "health-grid" },
      healthFigure("people", fmtInt(theme.author_count)),
      healthFigure("mentions", fmtInt(theme.mention_count)),
      healthFigure("impact", score.impact === undefined ? "–" : score.impact.toFixed(2)),
      healthFigure("cost", theme.cost ? (theme.cost.size || `${theme.cost.points} pt`) : "not estimated")),
    el("p", { class: "muted small" }, `First asked ${fmtDay(theme.first_seen)}, last ${fmtDay(theme.last_seen)}.`),
    theme.shipped_at ? el("p", { class: "small after-shipping", dataset: { count: theme.asked_after_shipping } },
      `Shipped ${fmtDay(theme.shipped_at)}; ${fmtInt(theme.asked_after_shipping)} ${theme.asked_after_shipping === 1 ? "ask" : "asks"} since (asked after shipping).`) : null,
    weeks.length ? el("div", { class: "detail-trend" }, el("h3", {}, "Mentions per week"),
      sparkline(weeks.map((w) => theme.weekly_counts[w]), 360, 48)) : null,
    factors.length ? el("div", {}, el("h3", {}, "Why this score"),
      el("ul", { class: "factors" }, factors.map((f) => el("li", {},
        el("span", { class: "factor-name" }, f.name.replaceAll("_", " ")),
        el("span", { class: "factor-bar" }, el("span", { class: "factor-fill", dataset: { share: f.contribution } })),
        el("span", { class: "num small" }, f.contribution.toFixed(3)),
        el("span", { class: "muted small factor-note" }, factorNote(f)))))) : null,
    el("h3", {}, `What people asked (${fmtInt(theme.suggestions.length)} of ${fmtInt(Math.max(theme.mention_count, theme.suggestions.length))})`),
    theme.suggestions.length ? el("ul", { class: "suggestions" }, theme.suggestions.map((s) => el("li", {},
      el("p", {}, s.text),
      s.comment_text && s.comment_text !== s.text
        ? el("details", { class: "small" }, el("summary", { class: "muted" }, "from the comment"), el("blockquote", {}, s.comment_text))
        : null,
      el("div", { class: "muted small" }, `${s.platform} · ${fmtDay(s.asked_at)}${s.author_handle ? ` · ${s.author_handle}` : ""}${s.duplicate_kind ? ` · ${s.duplicate_kind} duplicate` : ""}`,
        theme.shipped_at && new Date(s.asked_at) > new Date(theme.shipped_at) ? el("span", { class: "pill after-shipping-pill" }, "asked after shipping") : null,
        s.placed ? el("span", { class: "pill placed-pill", title: "A product manager placed this ask here; re-clusters leave it" }, "placed by a person") : null),
      canDecide() && theme.status !== "merged" && s.duplicate_kind !== "exact"
        ? el("div", { class: "review-actions move-actions" },
          el("button", { type: "button", class: "button-quiet move-open", title: "This ask wants another theme's idea: find the themes closest to it",
            onclick: (event) => offerThemes(event.target, theme, s) }, "Move…")) : null)))
      : emptyState("No suggestions are stored for this theme."),
    canDecide() ? closurePreview(theme) : null,
    theme.history.length ? el("div", {}, el("h3", {}, "History"), el("ol", { class: "history" }, theme.history.map((h) => el("li", {},
      `${fmtDay(h.at)}: ${h.kind.replaceAll("_", " ")} ${h.kind === "rename" ? `“${h.detail.replace(/^title=/, "")}”` : h.kind.endsWith("_asker") ? h.detail.split(" ")[1] : h.kind === "keep_apart" ? `from ${h.detail.replace(/^apart_from=/, "")}` : h.kind === "place" ? placeNote(h.detail) : `${h.from_status} → ${h.to_status}`} by ${h.actor}${h.reason ? ` (${h.reason})` : ""}`)))) : null,
  ].filter(Boolean));
  // widths through the CSSOM (the page's policy allows no inline style attributes)
  const largest = Math.max(0.0001, ...factors.map((f) => f.contribution));
  for (const fillBar of body.querySelectorAll(".factor-fill")) {
    fillBar.style.width = `${(100 * Number(fillBar.dataset.share)) / largest}%`;
  }
  drawer.dataset.state = "ready";
}

/** What a score factor measured, in words: its own note, else its raw value. */
function factorNote(factor) {
  if (factor.note) return factor.note;
  switch (factor.name) {
    case "distinct_authors": return `${fmtInt(factor.raw)} ${factor.raw === 1 ? "person" : "people"}`;
    case "mentions": return `${fmtInt(factor.raw)} mentions`;
    case "engagement": return `${fmtInt(factor.raw)} likes, replies and shares`;
    case "negative_tone": return `${Math.round(100 * factor.raw)}% of rated mentions at 1 or 2 stars`;
    default: return "";
  }
}

// ---------------------------------------------------------------- closure preview (pm)

const VERDICTS = [
  ["thanked", "Would be thanked"],
  ["held", "Held for you to decide"],
  ["left_out", "Left out"],
];

/** Who a closure of this theme would thank, hold or leave out if it shipped now, with a pm's say. */
function closurePreview(theme) {
  const section = el("section", { class: "closure-preview", id: "closure-preview", dataset: { state: "loading" } },
    el("h3", {}, "If it shipped now"), el("p", { class: "loading" }, "Judging the asks…"));
  loadPreview(section, theme);
  return section;
}

async function loadPreview(section, theme) {
  const release = theme.release || {};
  const query = release.version ? { release: release.version } : {};
  let preview;
  try {
    preview = await getJson(`/themes/${encodeURIComponent(theme.theme_id)}/closure-preview`, query, state.key);
  } catch (error) {
    section.replaceChildren(el("h3", {}, "If it shipped now"), errorState(error));
    section.dataset.state = "error";
    return;
  }
  const byPerson = new Map();
  for (const ask of preview.asks) {
    if (ask.verdict === "asked_after_shipping") continue;
    const group = byPerson.get(ask.author_hash) || [];
    group.push(ask);
    byPerson.set(ask.author_hash, group);
  }
  const people = (verdict) => [...byPerson.values()].filter((asks) => asks[0].verdict === verdict);
  section.replaceChildren(
    el("h3", {}, "If it shipped now"),
    el("p", { class: "muted small" },
      `“${preview.title}”${preview.release ? ` in ${preview.release}` : ""}: asks made by ${fmtDay(preview.asked_by)} — `,
      `${fmtInt(preview.thanked)} thanked, ${fmtInt(preview.held)} held, ${fmtInt(preview.left_out)} left out`,
      preview.asked_after_shipping ? `, ${fmtInt(preview.asked_after_shipping)} asked after shipping (never thanked for it)` : ""),
    ...VERDICTS.map(([verdict, heading]) => {
      const group = people(verdict);
      return el("div", { class: `preview-group verdict-${verdict}`, dataset: { verdict, people: group.length } },
        el("h4", {}, `${heading} (${group.length} ${group.length === 1 ? "person" : "people"})`),
        group.length ? el("ul", { class: "preview-people" }, group.map((asks) => personRow(theme, asks, section)))
          : el("p", { class: "muted small" }, "Nobody."));
    }),
  );
  section.dataset.state = "ready";
}

function personRow(theme, asks, section) {
  const first = asks[0];
  const score = (value) => (value === null || value === undefined ? "–" : value.toFixed(2));
  const actions = el("div", { class: "preview-actions" },
    first.verdict === "thanked" ? null : el("button", { type: "button", class: "button-quiet decide-asker", dataset: { decision: "include" },
      onclick: (event) => decideAsker(event.target, theme, first, "include", section) }, "Thank"),
    first.verdict === "left_out" ? null : el("button", { type: "button", class: "button-quiet decide-asker", dataset: { decision: "exclude" },
      onclick: (event) => decideAsker(event.target, theme, first, "exclude", section) }, "Leave out"));
  return el("li", { class: "preview-person", dataset: { authorHash: first.author_hash, verdict: first.verdict } },
    el("div", {}, asks.map((ask) => el("p", { class: "preview-ask" }, ask.ask)),
      el("div", { class: "muted tiny" },
        `${first.platform}${first.author_handle ? ` · ${first.author_handle}` : ""} · ${fmtDay(first.asked_at)} · `,
        `to what shipped ${score(first.release_similarity)}, to the theme ${score(first.centre_similarity)}`,
        first.decided_by ? ` · decided by ${first.decided_by}` : ""),
      el("div", { class: "muted tiny preview-rule" }, first.rule)),
    actions);
}

/** Include or exclude one person (pm): the worker decides; the preview reloads once it has. */
async function decideAsker(button, theme, ask, decision, section) {
  const row = button.closest(".preview-person");
  for (const b of row.querySelectorAll("button.decide-asker")) b.disabled = true;
  const note = el("div", { class: "muted tiny decision-note" }, "Sent…");
  row.querySelector(".preview-actions").append(note);
  try {
    const path = `/themes/${encodeURIComponent(theme.theme_id)}/askers/${ask.author_hash}/${decision}`;
    const reason = decision === "include" ? "asked for what shipped" : "asked for something else";
    const answer = await sendJson("POST", path, { reason }, state.key);
    const body = await commandOutcome(answer.command_id);
    if (!body) {
      note.textContent = "Sent; the worker has not decided yet.";
    } else if (body.accepted) {
      await loadPreview(section, theme);
    } else {
      note.textContent = `Refused: ${body.code}`;
      for (const b of row.querySelectorAll("button.decide-asker")) b.disabled = false;
    }
  } catch (error) {
    note.textContent = error.status === 403 ? "Your key may not decide this." : `Failed: ${error.message}`;
    for (const b of row.querySelectorAll("button.decide-asker")) b.disabled = false;
  }
}

function closeTheme() {
  const drawer = document.getElementById("detail");
  drawer.hidden = true;
  delete drawer.dataset.themeId;
}

// ---------------------------------------------------------------- key, filters, start

async function whoAmI() {
  try {
    const me = await getJson("/me", {}, state.key);
    state.role = me.role;
    document.getElementById("who").textContent = `${me.name} · ${me.role}`;
  } catch (error) {
    state.role = null;
    document.getElementById("who").textContent = "";
  }
}

function askForKey(message) {
  const dialog = document.getElementById("key-dialog");
  const note = document.getElementById("key-error");
  note.hidden = !message;
  note.textContent = message || "";
  if (!dialog.open) dialog.showModal();
}

function loadAll() {
  state.generation += 1;
  const url = new URL(location.href);
  for (const name of ["product", "platform"]) {
    if (state[name]) url.searchParams.set(name, state[name]);
    else url.searchParams.delete(name);
  }
  history.replaceState(null, "", url.pathname + url.search);
  for (const name of PANELS) {
    if (name !== "pipeline") panel(name).dataset.state = "loading";
  }
  guarded("monthly", loadMonthly);
  guarded("matrix", loadMatrix);
  guarded("review", loadReview);
  guarded("pairs", loadPairs);
  guarded("alone", loadAlone);
  guarded("dialogue", loadDialogue);
  guarded("closures", loadClosures);
}

function start() {
  state.key = takeKeyFromFragment();
  const query = new URLSearchParams(location.search);
  state.product = query.get("product") || "";
  state.platform = query.get("platform") || "";
  document.getElementById("platform").value = state.platform;
  document.getElementById("product").addEventListener("change", (event) => {
    state.product = event.target.value;
    loadAll();
  });
  document.getElementById("platform").addEventListener("change", (event) => {
    state.platform = event.target.value;
    loadAll();
  });
  document.getElementById("detail-close").addEventListener("click", closeTheme);
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeTheme(); });
  document.getElementById("change-key").addEventListener("click", () => askForKey(""));
  document.getElementById("key-form").addEventListener("submit", () => {
    const value = document.getElementById("key-input").value.trim();
    if (!value) return;
    localStorage.setItem(KEY_STORE, value);
    state.key = value;
    state.rolePromise = whoAmI();
    loadAll();
    guarded("pipeline", loadPipeline);
  });
  if (!state.key) {
    for (const name of PANELS) fill(panel(name), "empty", emptyState("Enter an API key to see this."));
    askForKey("");
    return;
  }
  state.rolePromise = whoAmI();  // the review panel waits for it: decisions are for pm keys
  loadAll();
  guarded("pipeline", loadPipeline);
  setInterval(() => { if (state.key && !document.hidden) guarded("pipeline", loadPipeline); }, PIPELINE_EVERY_MS);
}

document.addEventListener("DOMContentLoaded", start);
