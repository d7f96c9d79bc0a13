// Record cards, as the tutorial's demo draws its startups: picture, linked title, labels, description.
// Which field plays which part comes from the collection (`display` in /api/collections).
// Everything from a record is inserted with textContent; a URL is used only when it is http(s)
// (or, for a picture, an inline data:image), so a hostile record renders inert.
"use strict";
const MAX_URL = 2048;
const MAX_DATA_URI = 100000;
const MAX_SHOWN = 500;  // characters of a folded field's value
const MAX_TEXT = 5000;  // characters of a text field

function webUrl(value) {
  if (typeof value !== "string" || value.length > MAX_URL) return null;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch { return null; }
}

function pictureUrl(value) {
  for (const item of [].concat(value)) {
    if (typeof item !== "string") continue;
    if (/^data:image\/(png|jpeg|gif|webp|avif|svg\+xml);base64,[A-Za-z0-9+/=\s]+$/i.test(item)
        && item.length <= MAX_DATA_URI) return item;
    const url = webUrl(item);
    if (url) return url;
  }
  return null;
}

function shown(value, limit = MAX_SHOWN) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

// The picture fades in once it has loaded; until then, and for good when it fails or is
// absent, a neutral tile with the title's first letter stands in (never a broken-image icon).
function picture(source, alt, title) {
  const letter = (String(title || "").trim().match(/\p{L}|\p{N}/u) || ["·"])[0].toUpperCase();
  const frame = el("div", { class: "picture", "aria-hidden": source ? null : "true" },
                   el("span", { class: "placeholder", text: letter }));
  if (source) {
    const img = el("img", { loading: "lazy", decoding: "async", referrerpolicy: "no-referrer",
                            alt: typeof alt === "string" ? alt.slice(0, 200) : "" });
    img.addEventListener("load", () => frame.classList.add("loaded"));
    img.addEventListener("error", () => img.remove());
    img.src = source;
    frame.append(img);
  }
  return frame;
}

function chips(display, payload) {
  const box = el("div", { class: "labels" });
  for (const field of display.labels || []) {
    for (const value of [].concat(payload[field]).slice(0, 5)) {
      if (value == null || value === "" || typeof value === "object") continue;
      const input = $("filters").querySelector(`[data-field="${CSS.escape(field)}"]`);
      const label = `${field}: ${value}`;
      const chip = input
        ? el("button", { type: "button", class: "chip", title: `Show only ${label}`, onclick: () => {
            input.value = String(value);
            run();
          } })
        : el("span", { class: "chip", title: label });
      chip.append(el("span", { class: "chip-field", text: field }), document.createTextNode(` ${shown(value)}`));
      box.append(chip);
    }
  }
  return box.childElementCount ? box : null;
}

function recordCard(hit, rank, best) {
  const info = current() || {};
  const display = info.display || {};
  const textFields = info.text_fields || [];
  const payload = hit.payload;
  const titleText = payload[display.title] != null && payload[display.title] !== "" ? shown(payload[display.title]) : hit.id;
  const href = webUrl(payload[display.link]);
  const title = href
    ? el("a", { class: "title", href, target: "_blank", rel: "noopener noreferrer" })
    : el("span", { class: "title" });
  title.append(typeof payload[display.title] === "string" && hit.highlights[display.title]
    ? marked(titleText, hit.highlights[display.title], "span") : document.createTextNode(titleText));
  const head = el("div", { class: "record-head" }, title,
                  href ? el("span", { class: "host", text: new URL(href).host }) : null);
  const body = el("div", { class: "record-body" }, head, chips(display, payload));
  for (const field of textFields) {
    if (field !== display.title && payload[field] != null && payload[field] !== "") {
      body.append(marked(shown(payload[field], MAX_TEXT), hit.highlights[field]));
    }
  }
  const used = new Set([display.title, display.link, display.image, display.alt, ...(display.labels || []), ...textFields]);
  const rest = Object.entries(payload).filter(([k, v]) => !used.has(k) && v != null && v !== "");
  if (rest.length) {
    const list = el("dl");
    for (const [k, v] of rest) list.append(el("dt", { text: k }), el("dd", { text: shown(v) }));
    body.append(el("details", { class: "more-fields" },
                   el("summary", { text: `${rest.length} more field${rest.length > 1 ? "s" : ""}` }), list));
  }
  const similar = el("button", { type: "button", class: "similar", text: "Find similar", onclick: async () => {
    setStatus("Searching…");
    try {
      const result = await api("/api/similar", { collection: $("collection").value, id: hit.id });
      const top = Math.max(0, ...result.result.map(nearness));
      $("results").dataset.scoreKind = result.score_kind || "";
      $("results").replaceChildren(...result.result.map((h, i) => recordCard(h, i + 1, top)));
      setStatus(`${result.result.length} records like “${titleText}”`);
    } catch (error) { setStatus(error.message, true); }
  } });
  const side = el("div", { class: "record-side" }, rankNode(rank, hit, best), similar);
  return el("article", { class: "card record-hit" },
            picture(pictureUrl(payload[display.image]), payload[display.alt], titleText), body, side);
}
