// Processing status of documents on their chips: queued / processing (OCR pages done of total) /
// error, and pages that could not be read. Polls GET /api/documents/{id} while a document is
// not finished; the server says everything in Russian (status_text, error, unreadable_reason).

import { api } from "./api.js";
import { t } from "./i18n.js";

const POLL_MS = 1500;
const watching = new Map(); // document id -> timer

function badge(doc) {
  const span = document.createElement("span");
  span.className = `doc-status doc-status-${doc.status}`;
  if (doc.status === "processing" && doc.progress && doc.progress.pages_total) {
    span.textContent = t("docstatus.ocr", { done: doc.progress.pages_done, total: doc.progress.pages_total });
  } else {
    span.textContent = doc.status_text || doc.status;
  }
  if (doc.status === "error" && doc.error) span.title = doc.error;
  if (doc.status === "ready" && (doc.unreadable_pages || []).length) {
    span.className = "doc-status doc-status-warning";
    span.textContent = t("docstatus.unreadable", { pages: doc.unreadable_pages.join(", ") });
    span.title = doc.unreadable_reason || "";
  }
  return span;
}

function show(doc) {
  for (const chip of document.querySelectorAll(`.doc-chip[data-id="${CSS.escape(doc.id)}"]`)) {
    chip.querySelectorAll(".doc-status").forEach((n) => n.remove());
    if (doc.status !== "ready" || (doc.unreadable_pages || []).length) chip.append(badge(doc));
  }
}

async function poll(id, onReady) {
  watching.delete(id);
  let doc;
  try {
    doc = await api("GET", `/api/documents/${encodeURIComponent(id)}`);
  } catch (e) {
    return; // deleted, or the server is away: the next render looks again
  }
  show(doc);
  if (doc.status === "queued" || doc.status === "processing") {
    watching.set(id, setTimeout(() => poll(id, onReady), POLL_MS));
  } else if (onReady) {
    onReady(doc);
  }
}

// Show the status of these documents (the list from GET /api/documents) and follow the
// unfinished ones until they are ready; ``onReady(doc)`` when one finishes.
export function watchDocuments(documents, ids, onReady) {
  for (const doc of documents) {
    if (!ids.includes(doc.id)) continue;
    show(doc);
    if ((doc.status === "queued" || doc.status === "processing") && !watching.has(doc.id)) {
      watching.set(doc.id, setTimeout(() => poll(doc.id, onReady), POLL_MS));
    }
  }
}
