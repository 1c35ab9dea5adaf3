// The documents of the open chat: the document bar (chips with their processing status, detach,
// the picker of other documents, the compare button, what could not be read) and uploads with
// a progress line per file. The list of documents comes from GET /api/documents.

import { api, uploadDocument } from "./api.js";
import { updateCompareButton } from "./compare.js";
import { renderDocHealth } from "./doc_health.js";
import { watchDocuments } from "./docstatus.js";
import { $, el, transient } from "./dom.js";
import { t } from "./i18n.js";
import { docTitle, setChat, setDocumentList, state } from "./state.js";

export async function loadDocuments() {
  const data = await api("GET", "/api/documents");
  setDocumentList(data.documents);
}

export function renderDocBar() {
  const list = $("#doc-list");
  list.replaceChildren();
  const ids = state.chat.document_ids || [];
  if (!ids.length) list.append(el("span", { class: "note", text: t("chat.no_documents") }));
  for (const id of ids) {
    list.append(el("span", { class: "doc-chip", "data-id": id }, docTitle(id),
      el("button", { type: "button", class: "link", title: t("chat.detach"), text: "×",
                     onclick: () => setDocuments(ids.filter((x) => x !== id)) })));
  }
  const pick = $("#doc-pick");
  const others = state.documents.filter((d) => !ids.includes(d.id));
  pick.replaceChildren(el("option", { value: "", text: t("chat.pick_document") }),
    ...others.map((d) => el("option", { value: d.id, text: d.title || d.filename })));
  pick.hidden = others.length === 0;
  updateCompareButton(ids);
  $("#composer-note").textContent = ids.length ? "" : t("composer.need_documents");
  // Nothing to ask about without a document: the button waits for one.
  $("#send").disabled = !ids.length;
  $("#send").title = ids.length ? "" : t("composer.need_documents");
  renderDocHealth($("#doc-health"), state.documents, ids);
  watchDocuments(state.documents, ids, () => loadDocuments());
}

// Attach / detach: the chat's document list as a whole.
export async function setDocuments(ids) {
  const chat = await api("PATCH", `/api/chats/${encodeURIComponent(state.chatId)}`, { document_ids: ids });
  setChat(chat);
  renderDocBar();
}

// The files picked in the document bar, one after the other, then refresh() (documents, chat).
export async function onFiles(e, refresh) {
  const files = [...e.target.files];
  e.target.value = "";
  const progress = $("#upload-progress");
  progress.querySelectorAll(".upload-line.failed").forEach((n) => n.remove()); // a new try replaces old failures
  const limit = state.status ? state.status.max_file_size_mb : null;
  for (const file of files) {
    if (limit && file.size > limit * 1024 * 1024) {
      progress.append(transient(el("div", { class: "upload-line failed" }, el("span", { text: t("upload.too_large", { name: file.name, limit }) }))));
      continue;
    }
    const line = el("div", { class: "upload-line" }, el("progress", { max: 100, value: 0 }), el("span", {}));
    progress.append(line);
    const [bar, label] = line.children;
    label.textContent = t("upload.uploading", { name: file.name, percent: 0 });
    try {
      const docs = await uploadDocument(file, {
        chatId: state.chatId,
        onProgress: (p) => {
          if (p.phase === "upload") {
            bar.value = p.percent;
            label.textContent = t("upload.uploading", { name: file.name, percent: p.percent });
          } else {
            bar.removeAttribute("value");
            label.textContent = t("upload.processing", { name: file.name, stage: p.message });
          }
        },
      });
      bar.value = 100;
      for (const d of docs) {
        label.textContent = t("upload.done", { title: d.title || d.filename, pages: d.page_count, blocks: d.block_count })
          + (d.notes && d.notes.length ? ` ${d.notes.join(" ")}` : "");
        if (d.status === "error") throw new Error(d.error || d.status_text);
      }
      line.classList.add("done");
      setTimeout(() => line.remove(), 8000);
    } catch (err) {
      line.classList.add("failed");
      label.textContent = t("upload.failed", { name: file.name, error: err.message });
      transient(line);
    }
  }
  await refresh();
}

