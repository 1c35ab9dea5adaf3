// Small DOM helpers shared by the views of the web UI: a query shortcut, an element builder,
// the i18n pass over the static page, toasts and notices that go away, and the time format.

import { t } from "./i18n.js";

export const $ = (sel) => document.querySelector(sel);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "html") node.innerHTML = v; // only ever renderMarkdown()/escapeHtml() output
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

export function applyI18n(root = document) {
  root.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((n) => { n.placeholder = t(n.dataset.i18nPlaceholder); });
  root.querySelectorAll("[data-i18n-title]").forEach((n) => { n.title = t(n.dataset.i18nTitle); });
  document.title = t("app.title");
}

export function toast(message, kind = "error") {
  const box = el("div", { class: `toast ${kind}`, role: "alert", text: message, onclick: () => box.remove() });
  document.body.append(box);
  setTimeout(() => box.remove(), 6000);
}

// A notice that goes away: after a while, or at once with its ×.
export function transient(node, ms = 15000) {
  node.append(el("button", { type: "button", class: "link dismiss", title: t("viewer.close"), text: "×",
                             onclick: () => node.remove() }));
  setTimeout(() => node.remove(), ms);
  return node;
}

export function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString("ru-RU", { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" });
}
