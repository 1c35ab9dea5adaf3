// Revision compare view: pick two documents of the chat (old and new version) -> the sheets with
// their status -> a sheet side by side, the changed regions highlighted in both versions, and the
// list of changes (a click scrolls both pages to the change). The comparison comes from
// GET /api/compare (computed once on the server, then cached).

import { api } from "./api.js";
import { $, el } from "./dom.js";
import { STRINGS, t } from "./i18n.js";

Object.assign(STRINGS, {
  "compare.open": "Сравнить версии",
  "compare.title": "Сравнение версий",
  "compare.old": "Старая версия",
  "compare.new": "Новая версия",
  "compare.run": "Сравнить",
  "compare.running": "Сравниваю версии… (большой комплект — до нескольких минут)",
  "compare.need_two": "Прикрепите к чату обе версии комплекта — старую и новую.",
  "compare.same": "Выберите две разные версии.",
  "compare.summary": "Листов: {sheets} — без изменений {same}, изменено {changed}, добавлено {added}, удалено {removed}; изменений: {changes}.",
  "compare.only_changed": "только изменённые",
  "compare.no_changes": "Различий не найдено: все листы совпадают.",
  "compare.pick_sheet": "Выберите лист слева.",
  "compare.sheet": "Лист {sheet}",
  "compare.page": "Стр. {page}",
  "compare.split_from": "выделен из листа {sheet}",
  "compare.pages": "стр. {old} → {new}",
  "compare.no_image": "Изображения листа нет (документ без PDF).",
  "compare.not_in_version": "Листа нет в этой версии.",
  "compare.changes_none": "Изменений на листе нет.",
  "compare.status.same": "без изменений",
  "compare.status.changed": "изменён",
  "compare.status.added": "добавлен",
  "compare.status.removed": "удалён",
  "compare.kind.text_changed": "Текст изменён",
  "compare.kind.text_added": "Текст добавлен",
  "compare.kind.text_removed": "Текст удалён",
  "compare.kind.text_moved": "Текст перемещён",
  "compare.kind.table_row_changed": "Строка таблицы изменена",
  "compare.kind.table_row_added": "Строка таблицы добавлена",
  "compare.kind.table_row_removed": "Строка таблицы удалена",
  "compare.kind.drawing_changed": "Изменение на чертеже",
  "compare.cell": "столбец {column}: «{old}» → «{new}»",
  "compare.register": "Реестр изменений: новых строк {count}.",
  "compare.register.not_updated": "Реестр не дополнен: новых строк по сравнению со старой версией нет.",
  "compare.register.named_missing": "Названы в реестре, но таких листов нет: {sheets}.",
  "compare.register.none": "Реестр изменений в новой версии не найден.",
  "compare.register.named_unchanged": "Названы в реестре, но изменений не найдено: {sheets}.",
  "compare.register.changed_unnamed": "Изменены, но в реестре не названы: {sheets}.",
  "compare.register.ok": "Реестр совпадает с найденными изменениями.",
});

let options = null; // {getChat, getDocuments, toast}
let result = null;
let selected = null;


// Hook for app.js: called once at start.
export function initCompare(opts) {
  options = opts;
  $("#compare-open").textContent = t("compare.open");
  $("#compare-open").addEventListener("click", () => openCompare());
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && $("#compare")) closeCompare(); });
}

// Hook for app.js: the chat's documents changed (the button needs two).
export function updateCompareButton(ids) {
  $("#compare-open").hidden = (ids || []).length < 2;
}

function modal() {
  let box = $("#compare");
  if (box) return box;
  const pick = (id, label) => el("label", { class: "compare-pick" }, el("span", { text: label }), el("select", { id }));
  box = el("div", { id: "compare", class: "modal", hidden: true },
    el("div", { class: "modal-box compare-box" },
      el("header", {},
        el("span", { text: t("compare.title") }),
        pick("compare-old", t("compare.old")),
        pick("compare-new", t("compare.new")),
        el("button", { id: "compare-run", type: "button", class: "primary", text: t("compare.run"), onclick: run }),
        el("button", { type: "button", class: "close", title: "×", text: "×", onclick: closeCompare })),
      el("div", { class: "compare-body" },
        el("div", { id: "compare-status", class: "note", "aria-live": "polite" }),
        el("div", { id: "compare-summary" }),
        el("div", { class: "compare-main" },
          el("div", { class: "compare-side" },
            el("label", { class: "compare-filter" },
              el("input", { id: "compare-only-changed", type: "checkbox", checked: true, onchange: renderSheets }),
              el("span", { text: t("compare.only_changed") })),
            el("ul", { id: "compare-sheets" }),
            el("div", { id: "compare-register", class: "note" })),
          el("div", { id: "compare-detail" },
            el("div", { class: "compare-pair" },
              pane("old", t("compare.old")), pane("new", t("compare.new"))),
            el("ol", { id: "compare-changes" }))))));
  box.addEventListener("click", (e) => { if (e.target.id === "compare") closeCompare(); });
  document.body.append(box);
  return box;
}

function pane(side, label) {
  return el("figure", { class: "compare-pane", "data-side": side },
    el("figcaption", { id: `compare-caption-${side}`, text: label }),
    el("div", { class: "compare-scroll", id: `compare-scroll-${side}` },
      el("img", { id: `compare-img-${side}`, alt: label, onclick: (e) => e.currentTarget.classList.toggle("zoomed") })),
    el("div", { class: "note", id: `compare-note-${side}` }));
}

// A document's revision number («изм.8», «izm8», «Изм 8») from its title or its file name (the
// title is often the шифр of the title block, the same for every revision): the higher one is new.
function revision(doc) {
  for (const text of [doc.title, doc.filename]) {
    const m = /(?:изм|izm|rev)\.?\s*_?(\d+)/i.exec(text || "");
    if (m) return Number(m[1]);
  }
  return null;
}

// What a document is called in the pickers: its title, and its file name when another document
// of the chat has the same title (two revisions of one set).
function label(doc, docs) {
  const title = doc.title || doc.filename || doc.id;
  const twins = docs.filter((d) => (d.title || d.filename) === title).length > 1;
  return twins && doc.filename && doc.filename !== title ? `${title} (${doc.filename})` : title;
}

export function openCompare() {
  const box = modal();
  const ids = (options.getChat()?.document_ids) || [];
  const docs = ids.map((id) => options.getDocuments().find((d) => d.id === id) || { id, title: id.slice(0, 8) });
  const order = docs.slice().sort((a, b) => {
    const ra = revision(a), rb = revision(b);
    return ra !== null && rb !== null ? ra - rb : 0;
  });
  for (const [id, pre] of [["#compare-old", order[0]], ["#compare-new", order[order.length - 1]]]) {
    $(id).replaceChildren(...docs.map((d) => el("option", { value: d.id, text: label(d, docs) })));
    if (pre) $(id).value = pre.id;
  }
  $("#compare-status").textContent = docs.length < 2 ? t("compare.need_two") : "";
  $("#compare-run").disabled = docs.length < 2;
  box.hidden = false;
  if (docs.length >= 2 && !result) run();
}

export function closeCompare() {
  const box = $("#compare");
  if (box) box.hidden = true;
}

async function run() {
  const oldId = $("#compare-old").value;
  const newId = $("#compare-new").value;
  if (oldId === newId) {
    $("#compare-status").textContent = t("compare.same");
    return;
  }
  const chat = options.getChat();
  $("#compare-status").textContent = t("compare.running");
  $("#compare-run").disabled = true;
  $("#compare").dataset.state = "running";
  try {
    const params = new URLSearchParams({ old: oldId, new: newId });
    if (chat) params.set("chat_id", chat.id);
    result = await api("GET", `/api/compare?${params}`);
    $("#compare-status").textContent = "";
    selected = null;
    renderSummary();
    renderSheets();
    const first = result.sheets.find((s) => s.status !== "same");
    if (first) selectSheet(first);
    else renderDetail();
    $("#compare").dataset.state = "done";
  } catch (e) {
    $("#compare-status").textContent = e.message || String(e);
    $("#compare").dataset.state = "failed";
  } finally {
    $("#compare-run").disabled = false;
  }
}

function renderSummary() {
  const s = result.summary;
  $("#compare-summary").textContent = t("compare.summary", s) + (s.changed + s.added + s.removed ? "" : " " + t("compare.no_changes"));
  const reg = result.register;
  const lines = [];
  if (!reg) lines.push(t("compare.register.none"));
  else {
    lines.push(t("compare.register", { count: reg.entries.length }));
    if (reg.updated === false) lines.push(t("compare.register.not_updated"));
    if (reg.named_unchanged.length) lines.push(t("compare.register.named_unchanged", { sheets: reg.named_unchanged.join(", ") }));
    if (reg.changed_unnamed.length) lines.push(t("compare.register.changed_unnamed", { sheets: reg.changed_unnamed.join(", ") }));
    if ((reg.named_missing || []).length) lines.push(t("compare.register.named_missing", { sheets: reg.named_missing.join(", ") }));
    if (reg.updated !== false && !reg.named_unchanged.length && !reg.changed_unnamed.length && !(reg.named_missing || []).length) {
      lines.push(t("compare.register.ok"));
    }
  }
  $("#compare-register").replaceChildren(...lines.map((l) => el("div", { text: l })));
}

function sheetLabel(s) {
  const name = s.sheet ? t("compare.sheet", { sheet: s.sheet }) : t("compare.page", { page: s.new_page || s.old_page });
  return s.split_from ? `${name} (${t("compare.split_from", { sheet: s.split_from })})` : name;
}

function renderSheets() {
  if (!result) return;
  const only = $("#compare-only-changed").checked;
  const list = $("#compare-sheets");
  list.replaceChildren();
  result.sheets.forEach((s, k) => {
    if (only && s.status === "same") return;
    const count = s.changes.length ? ` (${s.changes.length})` : "";
    list.append(el("li", { class: `compare-sheet ${s.status}${selected === s ? " active" : ""}`, "data-index": k },
      el("button", { type: "button", class: "link", onclick: () => selectSheet(s), title: s.title || "" },
        el("span", { class: "name", text: sheetLabel(s) }),
        el("span", { class: "status", text: t(`compare.status.${s.status}`) + count }),
        s.title ? el("span", { class: "title", text: s.title }) : null)));
  });
}

function selectSheet(s) {
  selected = s;
  renderSheets();
  renderDetail();
}

function renderDetail() {
  const s = selected;
  for (const side of ["old", "new"]) {
    const img = $(`#compare-img-${side}`);
    const note = $(`#compare-note-${side}`);
    img.classList.remove("zoomed");
    const page = s ? s[`${side}_page`] : null;
    const src = s ? s[`${side}_image`] : null;
    $(`#compare-caption-${side}`).textContent = `${t(`compare.${side}`)}${page ? " — " + t("compare.page", { page }) : ""}`;
    if (src) {
      img.src = src;
      img.hidden = false;
      note.textContent = "";
    } else {
      img.removeAttribute("src");
      img.hidden = true;
      note.textContent = s ? (page ? t("compare.no_image") : t("compare.not_in_version")) : "";
    }
  }
  const list = $("#compare-changes");
  list.replaceChildren();
  if (!s) {
    list.append(el("li", { class: "note", text: result && result.summary.changes ? t("compare.pick_sheet") : t("compare.no_changes") }));
    return;
  }
  if (!s.changes.length) list.append(el("li", { class: "note", text: t("compare.changes_none") }));
  for (const c of s.changes) {
    list.append(el("li", { class: `compare-change ${c.kind}`, onclick: () => focus(c) },
      el("b", { text: t(`compare.kind.${c.kind}`) }), " ", describe(c)));
  }
}

function quote(text) {
  const s = (text || "").replace(/\s+/g, " ").trim();
  return s.length > 160 ? s.slice(0, 159) + "…" : s;
}

function describe(c) {
  if (c.kind === "drawing_changed") return "";
  if (c.cells && c.cells.length) {
    return c.cells.map((x) => t("compare.cell", { column: x.column, old: quote(x.old_text), new: quote(x.new_text) })).join("; ");
  }
  if (c.old_text && c.new_text && c.old_text !== c.new_text) return `«${quote(c.old_text)}» → «${quote(c.new_text)}»`;
  return `«${quote(c.new_text || c.old_text)}»`;
}

// Both pages at full resolution, scrolled so that the change is in the middle.
function focus(c) {
  for (const side of ["old", "new"]) {
    const box = c[`bbox_norm_${side}`] || c[`bbox_norm_${side === "old" ? "new" : "old"}`];
    const img = $(`#compare-img-${side}`);
    const scroll = $(`#compare-scroll-${side}`);
    if (!box || img.hidden || !img.naturalWidth) continue;
    img.classList.add("zoomed");
    const [x1, y1, x2, y2] = box.map(Number);
    scroll.scrollLeft = ((x1 + x2) / 2) * img.naturalWidth - scroll.clientWidth / 2;
    scroll.scrollTop = ((y1 + y2) / 2) * img.naturalHeight - scroll.clientHeight / 2;
  }
}
