// The public ideas board: public routes only, no key. Titles, counts and dates; no one named.
"use strict";

const COLUMN_NOTES = {
  under_review: "Heard, and being looked at.",
  planned: "On the plan.",
  in_progress: "Being built now.",
  shipped: "Available now.",
};
const EMPTY_NOTES = {
  under_review: "No ideas waiting right now.",
  planned: "Nothing planned yet.",
  in_progress: "Nothing being built right now.",
  shipped: "Nothing shipped yet. When an idea ships, it shows here with our note.",
};

let product = "";
let generation = 0;

function card(theme, status) {
  const people = `${fmtInt(theme.people)} ${theme.people === 1 ? "person" : "people"} asked`;
  return el("li", { class: `idea status-${status}`, dataset: { themeId: theme.theme_id } },
    el("h3", {}, theme.title),
    el("div", { class: "muted small" }, status === "shipped" && theme.shipped
      ? `${people} · ${fmtInt(theme.shipped.thanked)} thanked · shipped ${fmtDay(theme.shipped.shipped_at)}${theme.shipped.release_version ? ` in ${theme.shipped.release_version}` : ""}`
      : `${people}${theme.last_asked ? ` · last asked ${fmtDay(theme.last_asked)}` : ""}`),
    product ? null : el("div", { class: "product-tag small" }, theme.product),
    theme.shipped && theme.shipped.post ? el("blockquote", { class: "post" }, theme.shipped.post) : null,
  );
}

async function loadBoard() {
  const mine = ++generation;
  const columns = document.getElementById("columns");
  const update = document.getElementById("monthly-update");
  columns.dataset.state = "loading";
  update.dataset.state = "loading";
  const [board, monthly] = await Promise.allSettled([
    getJson("/public/themes", { product, limit: 30 }),
    getJson("/public/monthly-update", { product }),
  ]);
  if (mine !== generation) return;
  if (board.status === "fulfilled") {
    const select = document.getElementById("product");
    const known = new Set([...select.options].map((o) => o.value));
    for (const name of board.value.products) {
      if (!known.has(name)) select.append(el("option", { value: name }, name));
    }
    select.value = product;
    columns.replaceChildren(...board.value.columns.map((column) => el("section", { class: "column", dataset: { status: column.status } },
      el("div", { class: "column-head" }, el("h2", {}, column.title), el("span", { class: "count" }, fmtInt(column.total))),
      el("p", { class: "muted small" }, COLUMN_NOTES[column.status]),
      column.themes.length
        ? el("ul", { class: "ideas" }, column.themes.map((t) => card(t, column.status)))
        : emptyState(EMPTY_NOTES[column.status]),
      column.total > column.themes.length ? el("p", { class: "muted small" }, `and ${fmtInt(column.total - column.themes.length)} more`) : null,
    )));
    columns.dataset.state = "ready";
  } else {
    columns.replaceChildren(errorState(board.reason));
    columns.dataset.state = "error";
  }
  const body = update.querySelector(".panel-body");
  if (monthly.status === "fulfilled" && monthly.value.text) {
    body.replaceChildren(
      el("p", { class: "muted small" }, `${monthly.value.product} · ${fmtMonth(monthly.value.month, { long: true })}`),
      el("div", { class: "update-text" }, monthly.value.text.split("\n").map((line) => el("p", {}, line))));
    update.dataset.state = "ready";
  } else if (monthly.status === "fulfilled") {
    body.replaceChildren(emptyState("No monthly update yet. The first one comes at the end of a month in which something shipped."));
    update.dataset.state = "empty";
  } else {
    body.replaceChildren(errorState(monthly.reason));
    update.dataset.state = "error";
  }
  document.body.dataset.ready = "1";
}

document.addEventListener("DOMContentLoaded", () => {
  product = new URLSearchParams(location.search).get("product") || "";
  document.getElementById("product").addEventListener("change", (event) => {
    product = event.target.value;
    const url = new URL(location.href);
    if (product) url.searchParams.set("product", product);
    else url.searchParams.delete("product");
    history.replaceState(null, "", url.pathname + url.search);
    loadBoard();
  });
  loadBoard();
});
