// The search page. Everything from the index is inserted with textContent, never as HTML.
"use strict";
const $ = (id) => document.getElementById(id);
const MODES = {
  code: [["hybrid", "hybrid"], ["both", "neural"], ["lexical", "full-text"]],
  records: [["hybrid", "hybrid"], ["neural", "neural"], ["fulltext", "full-text"]],
};
const CODE_TYPES = ["", "Function", "Method", "Class", "Struct", "Enum", "Interface", "Trait", "Impl", "Module", "Block"];
let collections = [];
let apiKey = localStorage.getItem("semsearch-api-key") || "";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

class ApiError extends Error {}

async function api(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of [].concat(value)) if (v !== "" && v != null) query.append(key, v);
  }
  const headers = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
  const response = await fetch(`${path}?${query}`, { headers });
  if (response.status === 401) { askForKey(); throw new ApiError("This server needs an API key."); }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("; ") : body.detail;
    throw new ApiError(detail || `request failed (${response.status})`);
  }
  return body;
}

function askForKey() {
  if (document.querySelector(".key-form")) return;
  const form = $("key-prompt").content.firstElementChild.cloneNode(true);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apiKey = form.key.value.trim();
    localStorage.setItem("semsearch-api-key", apiKey);
    form.remove();
    init();
  });
  $("results").before(form);
}

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

function current() { return collections.find((c) => c.name === $("collection").value); }
function kind() { return (current() || {}).kind === "records" ? "records" : "code"; }
// A code collection of several trees: its repositories (the filter, and each hit's name beside its path).
function repos() { return kind() === "code" ? (current() || {}).repos || [] : []; }

function state() {
  const params = new URLSearchParams(location.search);
  return { q: params.get("q") || "", collection: params.get("collection"), mode: params.get("mode"),
           group_by: params.get("group_by") || "", filters: params.getAll("filter"), repo: params.get("repo") || "" };
}

function renderModes(selected) {
  const box = $("modes");
  box.replaceChildren();
  for (const [mode, label] of MODES[kind()]) {
    const button = el("button", { type: "button", role: "radio", "data-mode": mode, text: label,
      "aria-checked": String(mode === selected), onclick: () => { selectMode(mode); run(); } });
    box.append(button);
  }
  if (!box.querySelector('[aria-checked="true"]')) box.firstChild.setAttribute("aria-checked", "true");
}
function selectMode(mode) {
  for (const b of $("modes").children) b.setAttribute("aria-checked", String(b.dataset.mode === mode));
}
function mode() { return ($("modes").querySelector('[aria-checked="true"]') || {}).dataset?.mode || "hybrid"; }

function renderFilters(values, repo = "") {
  const box = $("filters");
  box.replaceChildren();
  if (repos().length > 1) {
    const select = el("select", { id: "repo", "aria-label": "repository" },
      el("option", { value: "", text: "all repositories" }),
      ...repos().map((r) => el("option", { value: r.name, text: `${r.name} (${r.structures.toLocaleString()})` })));
    select.value = repos().some((r) => r.name === repo) ? repo : "";
    select.addEventListener("change", run);
    box.append(el("label", {}, "repository ", select));
  }
  const given = Object.fromEntries(values.map((f) => [f.slice(0, f.indexOf(":")), f.slice(f.indexOf(":") + 1)]));
  const fields = kind() === "code" ? ["language", "dir", "type"] : (current() || {}).filter_fields || [];
  for (const field of fields) {
    let input;
    if (field === "type") {
      input = el("select", { "data-field": field, "aria-label": "code type" },
        ...CODE_TYPES.map((t) => el("option", { value: t, text: t || "any type" })));
    } else {
      input = el("input", { "data-field": field, placeholder: field === "dir" ? "path prefix" : field,
        "aria-label": field });
    }
    input.value = given[field] || "";
    input.addEventListener("change", run);
    box.append(el("label", {}, field === "dir" ? "path " : `${field} `, input));
  }
  $("group-label").hidden = kind() !== "code";
  $("group-repo").hidden = repos().length < 2;  // grouping by repository says something only when there are several
}

function filters() {
  return [...$("filters").querySelectorAll("[data-field]")]
    .filter((i) => i.value.trim()).map((i) => `${i.dataset.field}:${i.value.trim()}`);
}

// Example queries drawn from the selected collection's own data (none when it offers none).
function renderExamples() {
  const box = $("examples");
  const examples = (current() || {}).examples || [];
  box.replaceChildren(...(examples.length ? [el("span", { text: "Try:" })] : []));
  for (const example of examples) {
    box.append(el("a", { text: example, href: "#", onclick: (event) => {
      event.preventDefault();
      $("q").value = example;
      run();
    } }));
  }
}

let latestRun = 0;  // an answer to an earlier search that arrives late is dropped

async function run(event) {
  if (event && event.preventDefault) event.preventDefault();
  const ticket = ++latestRun;
  const q = $("q").value.trim();
  if (!q) { setStatus("Type a question or a name."); return; }
  const params = { q, collection: $("collection").value, mode: mode(), filter: filters(),
                   repo: $("repo") ? $("repo").value : "" };
  if (kind() === "code" && $("group-by").value) Object.assign(params, { group_by: $("group-by").value, group_size: 3 });
  const url = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of [].concat(v)) if (x) url.append(k, x);
  history.replaceState(null, "", `?${url}`);
  setStatus("Searching…");
  $("results").setAttribute("aria-busy", "true");
  try {
    const body = await api("/api/search", params);
    if (ticket === latestRun) show(body, params);
  } catch (error) {
    if (ticket !== latestRun) return;
    $("results").replaceChildren();
    setStatus(error.message, true);
  } finally {
    if (ticket === latestRun) $("results").removeAttribute("aria-busy");
  }
}

function show(body, params) {
  const results = $("results");
  results.replaceChildren();
  const grouped = Boolean(params.group_by);
  const count = grouped ? body.result.reduce((n, g) => n + g.hits.length, 0) : body.result.length;
  if (!count) { setStatus(`No results for “${params.q}”.`); return; }
  setStatus(`${count} results in ${body.latency_ms} ms (${body.mode})`);
  results.dataset.scoreKind = body.score_kind || "";
  if (grouped) {
    const best = Math.max(0, ...body.result.flatMap((g) => g.hits.map(nearness)));
    let rank = 0;
    const label = $("group-by").selectedOptions[0]?.text || params.group_by;  // "folder", not "dir"
    for (const group of body.result) {
      results.append(el("h2", { class: "group-title", text: `${label}: ${group.value}` }));
      for (const hit of group.hits) results.append(codeCard(hit, ++rank, best));
    }
  } else {
    const best = Math.max(0, ...body.result.map(nearness));
    const card = kind() === "records" ? recordCard : codeCard;
    body.result.forEach((hit, i) => results.append(card(hit, i + 1, best)));
  }
}

const SCORE_KINDS = { rrf: "reciprocal rank fusion", fused: "fused and re-ranked", cosine: "cosine similarity",
                      bm25: "BM25" };

// What a hit's bar measures: the API's `relevance` where it gives one (a hybrid record hit's
// cosine: its RRF score ranks it but does not say how near it is), else its score.
function nearness(hit) { return hit.relevance ?? hit.score; }

// Rank and a bar relative to the best hit: a raw score (RRF's 0.033) means nothing to a person.
function rankNode(rank, hit, best) {
  const score = hit.score;
  const share = best > 0 ? Math.max(0, Math.min(1, nearness(hit) / best)) : 0;
  const kind = SCORE_KINDS[$("results").dataset.scoreKind] || "score";
  const bar = el("span", { class: "relevance", role: "meter", "aria-valuemin": "0", "aria-valuemax": "100",
                           "aria-valuenow": String(Math.round(share * 100)),
                           "aria-label": `relevance ${Math.round(share * 100)}% of the best hit`,
                           title: `${Math.round(share * 100)}% of the best hit (${kind} ${score.toPrecision(3)})` },
                  el("span", { class: "fill" }));
  bar.firstChild.style.width = `${Math.round(share * 100)}%`;
  return el("span", { class: "rank" }, el("span", { class: "rank-no", text: `#${rank}` }), bar);
}

function lineNode(number, text, language, agree, context) {
  const cls = ["line", agree ? "agree" : "", context ? "context" : ""].filter(Boolean).join(" ");
  return el("div", { class: cls, "data-line": number ?? "" }, el("span", { class: "no", text: number ?? "" }),
            el("span", { class: "src" }, highlightLine(text, language)));
}

function codeCard(hit, rank, best) {
  const lines = (hit.snippet || "").split("\n");
  const numbered = lines.length === hit.line_to - hit.line_from + 1;
  const agree = new Set();
  for (const [lo, hi] of hit.overlap || []) for (let n = lo; n <= hi; n++) agree.add(n);
  const label = hit.line_to > hit.line_from ? `${hit.path}:${hit.line_from}-${hit.line_to}` : `${hit.path}:${hit.line_from}`;
  const base = (current() || {}).source_url;
  const href = hit.url && /^https?:\/\//.test(hit.url) ? hit.url
    : base ? `${base.replace(/\/$/, "")}/${hit.path}#L${hit.line_from}-L${hit.line_to}` : null;
  const loc = href ? el("a", { class: "loc", href, target: "_blank", rel: "noopener", text: label })
                   : el("span", { class: "loc", text: label });
  const repo = hit.repo && repos().length > 1 ? el("span", { class: "repo", text: hit.repo }) : null;
  const pre = el("pre", { class: "code" });
  lines.forEach((text, i) => {
    const n = numbered ? hit.line_from + i : null;
    pre.append(lineNode(n, text, hit.language, n != null && agree.has(n), false));
  });
  let first = hit.line_from, last = hit.line_to;
  async function more(direction) {
    const start = direction < 0 ? Math.max(1, first - 10) : last + 1;
    const end = direction < 0 ? first - 1 : last + 10;
    if (end < start) return;
    try {
      const body = await api("/api/file", { path: hit.path, start, end, collection: $("collection").value,
                                            repo: hit.repo });
      const nodes = body.lines.map((text, i) => lineNode(body.start + i, text, hit.language, false, true));
      if (direction < 0) { pre.prepend(...nodes); first = body.start; } else if (nodes.length) { pre.append(...nodes); last = body.end; }
    } catch (error) { setStatus(error.message, true); }
  }
  const copy = el("button", { type: "button", text: "Copy", onclick: async () => {
    try { await navigator.clipboard.writeText(hit.snippet); copy.textContent = "Copied"; }
    catch { copy.textContent = "Copy failed"; }
  } });
  const actions = el("div", { class: "card-actions" }, copy,
    numbered ? el("button", { type: "button", class: "more-above", text: "▲ more", onclick: () => more(-1) }) : null,
    numbered ? el("button", { type: "button", class: "more-below", text: "▼ more", onclick: () => more(1) }) : null);
  const head = el("div", { class: "card-head" }, repo, loc,
    el("span", { class: "name", text: hit.struct_name ? `${hit.struct_name}.${hit.name}` : hit.name }),
    el("span", { class: "kind", text: `${hit.code_type} · ${hit.language}` }),
    hit.deprecated ? el("span", { class: "deprecated", text: "deprecated", title: "Marked deprecated in the code" }) : null,
    rankNode(rank, hit, best), actions);
  const card = el("article", { class: "card code-hit" }, head, pre);
  if (agree.size) {
    const ranges = hit.overlap.map(([lo, hi]) => (hi > lo ? `${lo}-${hi}` : `${lo}`)).join(", ");
    card.append(el("div", { class: "agree-note", text: `text and code models agree on lines ${ranges}` }));
  }
  return card;
}

function marked(text, spans, tag = "p") {
  const p = el(tag);
  let at = 0;
  for (const [start, end] of (spans || []).filter(([, end]) => end <= text.length)) {
    p.append(document.createTextNode(text.slice(at, start)), el("mark", { text: text.slice(start, end) }));
    at = end;
  }
  p.append(document.createTextNode(text.slice(at)));
  return p;
}

function onCollectionChange() {
  renderModes("hybrid");
  renderFilters([]);
  renderExamples();
  if ($("q").value.trim()) run();
}

async function init() {
  try {
    collections = await api("/api/collections");
  } catch (error) { setStatus(error.message, true); return; }
  if (!collections.length) { setStatus("This store has no collections yet: run `semsearch index DIR` first."); return; }
  const s = state();
  $("collection").replaceChildren(...collections.map((c) =>
    el("option", { value: c.name, text: `${c.name} (${c.kind}, ${c.points.toLocaleString()})` })));
  if (s.collection && collections.some((c) => c.name === s.collection)) $("collection").value = s.collection;
  renderModes(s.mode || "hybrid");
  renderFilters(s.filters, s.repo);
  renderExamples();
  $("group-by").value = s.group_by;
  $("q").value = s.q;
  if (s.q) run();
  else setStatus("");
}

function duration(seconds) {
  if (seconds == null) return "";
  return seconds < 90 ? `about ${Math.max(1, Math.round(seconds))} s left` : `about ${Math.round(seconds / 60)} min left`;
}

// The server's own indexing job (`semsearch serve --index DIR`): progress while it runs,
// then a quiet line; collections are reloaded when a run finishes so counts stay true.
let indexUpdates = null;
async function pollIndex() {
  let job;
  try { job = await api("/api/index"); } catch (error) { return; }  // 404: this server runs no job
  const box = $("indexing");
  box.hidden = false;
  box.className = job.state === "failed" ? "failed" : "";
  const p = job.progress;
  if (job.state === "indexing" && p) {
    // Two passes: files read (searchable by words and names), then structures embedded.
    const read = el("progress", { max: String(Math.max(p.files_to_parse, 1)), value: String(p.files_parsed),
                                  title: "pass 1: files read" });
    const embedded = el("progress", { max: String(Math.max(p.structures_to_embed, p.structures_embedded, 1)),
                                      value: String(p.structures_embedded), title: "pass 2: structures embedded" });
    let words;
    if (p.phase === "embedding") {
      words = `Indexing ${job.root}: searchable; ${p.structures_embedded.toLocaleString()} of `
        + `${p.structures_to_embed.toLocaleString()} structures embedded`
        + (p.structures_per_s ? ` · ${Math.round(p.structures_per_s)}/s · ${duration(p.eta_s)}` : "");
    } else if (p.phase === "parsing") {
      words = `Indexing ${job.root}: reading ${p.files_parsed.toLocaleString()} of ${p.files_to_parse.toLocaleString()}`
        + ` changed files (${p.structures.toLocaleString()} structures)`;
    } else {
      words = `Indexing ${job.root}: ${p.phase} (${p.files.toLocaleString()} files seen)`;
    }
    box.replaceChildren(read, embedded, document.createTextNode(words));
  } else if (job.state === "failed") {
    box.textContent = `Indexing ${job.root} failed: ${job.error}`;
  } else if (job.last) {
    box.textContent = `Index of ${job.root}: ${job.last.points.toLocaleString()} structures`
      + (job.state === "watching" ? " · kept fresh as files change" : "");
  }
  if (indexUpdates !== null && job.updates !== indexUpdates) init();
  indexUpdates = job.updates;
  if (job.state !== "done" && job.state !== "failed") setTimeout(pollIndex, job.state === "watching" ? 5000 : 1000);
}

$("search-form").addEventListener("submit", run);
$("collection").addEventListener("change", onCollectionChange);
$("group-by").addEventListener("change", run);
document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
  if (event.key === "/" && !typing) { event.preventDefault(); $("q").focus(); }
});
init();
pollIndex();
