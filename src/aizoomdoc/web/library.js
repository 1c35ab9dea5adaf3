// The document library in the sidebar: a folder tree (project → section → …) next to the chat
// list. A folder opens to its files; a document is attached to the open chat with one click,
// files are uploaded straight into a folder, and documents already uploaded are filed with a
// picker. Everything is read from the server (/api/library/…), never kept only here.

import { api, ApiError } from "./api.js";
import { el } from "./dom.js";
import { STRINGS, t } from "./i18n.js";

Object.assign(STRINGS, {
  "library.title": "Библиотека",
  "library.new_folder": "+ Папка",
  "library.new_folder_title": "Новая папка в корне библиотеки",
  "library.new_subfolder": "Новая подпапка",
  "library.folder_prompt": "Имя новой папки:",
  "library.rename_prompt": "Новое имя папки:",
  "library.rename": "Переименовать папку",
  "library.delete": "Удалить папку",
  "library.delete_confirm": "Удалить папку «{name}» со всеми подпапками? Файлы, которые лежат в других папках или прикреплены к чатам, останутся.",
  "library.deleted": "Папка удалена. Файлов удалено: {deleted}, оставлено (нужны другим папкам или чатам): {kept}.",
  "library.upload": "Загрузить в папку",
  "library.uploading": "Загрузка «{name}»…",
  "library.uploaded": "«{name}» в папке.",
  "library.upload_failed": "Не удалось загрузить «{name}»: {error}",
  "library.empty": "Папок пока нет — нажмите «+ Папка».",
  "library.empty_folder": "пусто",
  "library.pick_document": "Положить документ…",
  "library.to_chat": "В чат",
  "library.to_chat_title": "Прикрепить документ к открытому чату",
  "library.attached": "«{name}» прикреплён к чату.",
  "library.open_chat_first": "Сначала откройте чат, к которому прикрепить документ.",
  "library.not_document": "Это не документ: к чату прикрепляются PDF, изображения листов и разметка OCR.",
  "library.remove": "Убрать из папки",
  "library.files_count": "файлов: {count}",
  "library.kind.document": "документ",
  "library.kind.file": "файл",
  "library.kind.link": "ссылка",
  "library.kind.generated": "изображение",
});

const lib = {
  folders: [],
  expanded: new Set(),
  files: new Map(), // folder id -> files
  documents: [],
  opts: null,
  busy: new Map(), // folder id -> upload status line
};


function guard(fn) {
  return (...args) => Promise.resolve(fn(...args)).catch((e) => {
    lib.opts.toast(e instanceof ApiError ? e.message : String(e));
  });
}

// --- loading ---------------------------------------------------------------------------------
export async function loadLibrary() {
  const data = await api("GET", "/api/library/folders");
  lib.folders = data.folders;
  const known = new Set(lib.folders.map((f) => f.id));
  for (const id of [...lib.expanded]) if (!known.has(id)) lib.expanded.delete(id);
  await Promise.all([...lib.expanded].map(loadFiles));
  if (lib.expanded.size) await loadDocumentsList();
  render();
}

async function loadFiles(folderId) {
  const data = await api("GET", `/api/library/folders/${encodeURIComponent(folderId)}/files`);
  lib.files.set(folderId, data.files);
}

async function loadDocumentsList() {
  lib.documents = (await api("GET", "/api/documents")).documents;
}

// --- rendering -------------------------------------------------------------------------------
function render() {
  const tree = document.querySelector("#folder-tree");
  tree.replaceChildren();
  if (!lib.folders.length) {
    tree.append(el("li", { class: "empty", text: t("library.empty") }));
    return;
  }
  const children = new Map();
  for (const f of lib.folders) {
    const parent = f.parent_id && lib.folders.some((x) => x.id === f.parent_id) ? f.parent_id : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(f);
  }
  for (const f of children.get(null) || []) tree.append(folderNode(f, children));
}

function folderNode(folder, children) {
  const open = lib.expanded.has(folder.id);
  const input = el("input", { type: "file", multiple: true, onchange: guard((e) => uploadInto(folder, e)) });
  const row = el("div", { class: "folder-row" },
    el("button", { type: "button", class: "link toggle", "aria-expanded": open ? "true" : "false",
                   onclick: guard(() => toggle(folder.id)) },
      el("span", { class: "caret", text: open ? "▾" : "▸" }),
      el("span", { class: "folder-name", text: folder.name }),
      el("span", { class: "count", text: folder.file_count ? String(folder.file_count) : "",
                   title: t("library.files_count", { count: folder.file_count }) })),
    el("span", { class: "folder-actions" },
      el("button", { type: "button", class: "link", title: t("library.new_subfolder"), "aria-label": t("library.new_subfolder"),
                     text: "+", onclick: guard(() => newFolder(folder.id)) }),
      el("label", { class: "link upload", title: t("library.upload"), "aria-label": t("library.upload") }, "⤒", input),
      el("button", { type: "button", class: "link", title: t("library.rename"), "aria-label": t("library.rename"),
                     text: "✎", onclick: guard(() => renameFolder(folder)) }),
      el("button", { type: "button", class: "link danger", title: t("library.delete"), "aria-label": t("library.delete"),
                     text: "×", onclick: guard(() => deleteFolder(folder)) })));
  const node = el("li", { class: "folder" + (open ? " open" : ""), "data-id": folder.id, "data-name": folder.name }, row);
  const status = lib.busy.get(folder.id);
  if (status) node.append(el("div", { class: "folder-status note", text: status }));
  if (open) {
    const list = el("ul", { class: "folder-files" });
    const files = lib.files.get(folder.id) || [];
    for (const f of files) list.append(fileNode(folder, f));
    if (!files.length && !(children.get(folder.id) || []).length) {
      list.append(el("li", { class: "empty", text: t("library.empty_folder") }));
    }
    node.append(list);
    node.append(documentPicker(folder, files));
  }
  const subs = children.get(folder.id) || [];
  if (subs.length && open) {
    const ul = el("ul", { class: "subfolders" });
    for (const s of subs) ul.append(folderNode(s, children));
    node.append(ul);
  }
  return node;
}

function fileNode(folder, f) {
  const name = f.title || f.filename;
  const kind = t("library.kind." + (f.kind || "file"));
  return el("li", { class: "lib-file", "data-id": f.id, "data-document": f.document_id || "" },
    el("a", { href: f.download_url, target: "_blank", rel: "noopener", class: "file-name", title: `${name} · ${kind}`, text: name }),
    f.document_id
      ? el("button", { type: "button", class: "to-chat", title: t("library.to_chat_title"), text: t("library.to_chat"),
                       onclick: guard(() => attachToChat(f)) })
      : null,
    el("button", { type: "button", class: "link", title: t("library.remove"), "aria-label": t("library.remove"), text: "×",
                   onclick: guard(() => removeFile(folder, f)) }));
}

function documentPicker(folder, files) {
  const inFolder = new Set(files.map((f) => f.document_id).filter(Boolean));
  const others = lib.documents.filter((d) => !inFolder.has(d.id));
  const select = el("select", { class: "file-document", hidden: others.length === 0,
                                onchange: guard(async (e) => {
                                  const id = e.target.value;
                                  if (!id) return;
                                  await api("POST", `/api/library/folders/${encodeURIComponent(folder.id)}/items`, { document_id: id });
                                  await loadLibrary();
                                }) },
    el("option", { value: "", text: t("library.pick_document") }),
    ...others.map((d) => el("option", { value: d.id, text: d.title || d.filename })));
  return select;
}

// --- actions ---------------------------------------------------------------------------------
async function toggle(folderId) {
  if (lib.expanded.has(folderId)) lib.expanded.delete(folderId);
  else {
    lib.expanded.add(folderId);
    await Promise.all([loadFiles(folderId), loadDocumentsList()]);
  }
  render();
}

async function newFolder(parentId) {
  const name = prompt(t("library.folder_prompt"));
  if (!name || !name.trim()) return;
  const folder = await api("POST", "/api/library/folders", { name: name.trim(), parent_id: parentId });
  if (parentId) lib.expanded.add(parentId);
  lib.expanded.add(folder.id);
  await loadLibrary();
}

async function renameFolder(folder) {
  const name = prompt(t("library.rename_prompt"), folder.name);
  if (!name || !name.trim() || name.trim() === folder.name) return;
  await api("PATCH", `/api/library/folders/${encodeURIComponent(folder.id)}`, { name: name.trim() });
  await loadLibrary();
}

async function deleteFolder(folder) {
  if (!confirm(t("library.delete_confirm", { name: folder.name }))) return;
  const report = await api("DELETE", `/api/library/folders/${encodeURIComponent(folder.id)}`);
  lib.opts.toast(t("library.deleted", { deleted: report.deleted_files.length, kept: report.kept_files }), "info");
  await loadLibrary();
  await lib.opts.refresh();
}

async function removeFile(folder, f) {
  await api("DELETE", `/api/library/folders/${encodeURIComponent(folder.id)}/items/${encodeURIComponent(f.id)}`);
  await loadLibrary();
  await lib.opts.refresh();
}

async function attachToChat(f) {
  const chatId = lib.opts.chatId();
  if (!chatId) {
    lib.opts.toast(t("library.open_chat_first"));
    return;
  }
  await api("POST", `/api/library/files/${encodeURIComponent(f.id)}/chats`, { chat_id: chatId });
  lib.opts.toast(t("library.attached", { name: f.title || f.filename }), "info");
  await lib.opts.refresh();
}

async function uploadInto(folder, e) {
  const files = [...e.target.files];
  e.target.value = "";
  lib.expanded.add(folder.id);
  for (const file of files) {
    lib.busy.set(folder.id, t("library.uploading", { name: file.name }));
    render();
    try {
      const form = new FormData();
      form.append("file", file, file.name);
      const resp = await fetch(`/api/library/folders/${encodeURIComponent(folder.id)}/files`, {
        method: "POST", body: form, credentials: "same-origin", headers: { "X-AIZoomDoc": "1" },
      });
      let data = null;
      try { data = await resp.json(); } catch (err) { data = null; }
      if (!resp.ok) throw new ApiError((data && data.error) || t("error.generic", { message: resp.status }), resp.status);
      lib.busy.set(folder.id, t("library.uploaded", { name: file.name }));
      const done = lib.busy.get(folder.id);
      setTimeout(() => { if (lib.busy.get(folder.id) === done) { lib.busy.delete(folder.id); render(); } }, 8000);
    } catch (err) {
      lib.busy.set(folder.id, t("library.upload_failed", { name: file.name, error: err.message }));
    }
  }
  await loadLibrary();
  await lib.opts.refresh();
}

// --- boot ------------------------------------------------------------------------------------
// opts: { chatId: () => id | null, refresh: async () => {}, toast: (message, kind) => {} }
export async function initLibrary(opts) {
  lib.opts = opts;
  const box = document.querySelector("#library");
  box.replaceChildren(
    el("header", { class: "library-head" },
      el("span", { class: "label", text: t("library.title") }),
      el("button", { id: "library-new", type: "button", class: "link", title: t("library.new_folder_title"),
                     text: t("library.new_folder"), onclick: guard(() => newFolder(null)) })),
    el("ul", { id: "folder-tree" }));
  await loadLibrary();
}
