// The page viewer (a modal): an answer's zoom image, or a cited page with its block highlighted.
// Fitted to the window, or at its own resolution ("Крупно"). A page opened from a citation
// starts at its own resolution scrolled to the cited block (focus: coords_norm), so the
// highlighted text is readable at once; the button or a click on the image switches.

import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { docTitle, state } from "./state.js";

function showViewer(title, src, focus = null) {
  $("#viewer-title").textContent = title;
  $("#viewer-open").href = src;
  $("#viewer-status").textContent = t("page.loading");
  const img = $("#viewer-img");
  const fit = $("#viewer-fit");
  fit.hidden = true;
  setZoomed(false);
  img.onload = () => {
    $("#viewer-status").textContent = "";
    const body = img.parentElement;
    fit.hidden = img.naturalWidth <= body.clientWidth - 24 && img.naturalHeight <= body.clientHeight;
    if (focus && !fit.hidden) {
      setZoomed(true);
      const [x1, y1, x2, y2] = focus.map(Number);
      body.scrollLeft = img.offsetLeft + ((x1 + x2) / 2) * img.naturalWidth - body.clientWidth / 2;
      body.scrollTop = img.offsetTop + ((y1 + y2) / 2) * img.naturalHeight - body.clientHeight / 2;
    }
  };
  img.onerror = () => { $("#viewer-status").textContent = t("page.failed"); };
  img.src = src;
  img.alt = title;
  $("#viewer").hidden = false;
}

function setZoomed(on) {
  $("#viewer-img").classList.toggle("zoomed", on);
  $("#viewer-fit").textContent = on ? t("viewer.fit") : t("viewer.zoom");
  $("#viewer").dataset.zoomed = on ? "1" : "0";
}

export function toggleZoom(e) {
  if ($("#viewer-fit").hidden) return;
  const img = $("#viewer-img");
  const body = img.parentElement;
  const on = !img.classList.contains("zoomed");
  // Keep the clicked point (or the centre) under the pointer.
  const r = img.getBoundingClientRect();
  const fx = e && e.clientX !== undefined && e.target === img ? (e.clientX - r.left) / r.width : 0.5;
  const fy = e && e.clientY !== undefined && e.target === img ? (e.clientY - r.top) / r.height : 0.5;
  setZoomed(on);
  if (on) {
    body.scrollLeft = img.offsetLeft + fx * img.naturalWidth - body.clientWidth / 2;
    body.scrollTop = img.offsetTop + fy * img.naturalHeight - body.clientHeight / 2;
  }
}

export function openImage(im) {
  showViewer(im.description || im.image_type, im.url);
  $("#viewer-legend").textContent = t("viewer.legend_image");
}

export function openPage(c, userMessageId) {
  const params = new URLSearchParams();
  if (c.coords_norm) params.append("box", c.coords_norm.map((v) => Number(v).toFixed(5)).join(","));
  params.set("chat_id", state.chatId);
  if (userMessageId) params.set("message_id", userMessageId);
  const src = `/api/documents/${encodeURIComponent(c.document_id)}/pages/${c.page_number}.png?${params}`;
  showViewer(t("page.title", { page: c.page_number, document: docTitle(c.document_id) }), src, c.coords_norm || null);
  $("#viewer").dataset.kind = "page";
  $("#viewer-legend").textContent = t("viewer.legend_page");
}

export function closeViewer() {
  $("#viewer").hidden = true;
  $("#viewer-img").removeAttribute("src");
  delete $("#viewer").dataset.kind;
}

// The viewer's own controls: close (button, backdrop, Escape) and fit / own resolution.
export function initPageView() {
  $("#viewer-close").addEventListener("click", closeViewer);
  $("#viewer-fit").addEventListener("click", () => toggleZoom(null));
  $("#viewer-img").addEventListener("click", toggleZoom);
  $("#viewer").addEventListener("click", (e) => { if (e.target.id === "viewer") closeViewer(); });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeViewer(); });
}
