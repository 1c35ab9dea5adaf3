// The AIZoomDoc web UI, entry module: wires the views (chat list, one chat with live progress,
// documents, page viewer, library, stats, compare) to the page, routes on the address (#/chat/…,
// #/stats) and boots. History always comes from the server (the store), never from memory.

import { ApiError } from "./api.js";
import { ensureLogin, logout } from "./auth.js";
import { archiveChat, ask, deleteChat, openChat, reloadChat, renameChat } from "./chat.js";
import { loadChats, newChat, renderChatList, setFilter, setTab } from "./chats.js";
import { initCompare } from "./compare.js";
import { loadDocuments, onFiles, setDocuments } from "./documents.js";
import { $, applyI18n, toast } from "./dom.js";
import { initLibrary } from "./library.js";
import { closeStream } from "./live.js";
import { initPageView } from "./pageview.js";
import { setChatId, state } from "./state.js";
import { hideStats, showStats } from "./stats.js";
import { refreshStatus } from "./statusbadge.js";

function route() {
  if (location.hash.startsWith("#/stats")) {
    closeStream();
    setChatId(null);
    renderChatList();
    showStats().catch((e) => toast(e.message));
    return;
  }
  hideStats();
  const m = /^#\/chat\/([\w-]+)/.exec(location.hash);
  openChat(m ? m[1] : null).catch((e) => toast(e.message));
}

function guard(fn) {
  return (...args) => Promise.resolve(fn(...args)).catch((e) => {
    toast(e instanceof ApiError ? e.message : String(e));
    if (e instanceof ApiError && e.status === 0) refreshStatus();
  });
}

// Documents changed (an upload, the library): the list again, and the open chat with it.
async function refreshDocuments() {
  await loadDocuments();
  if (state.chatId) await reloadChat();
}

async function main() {
  applyI18n();
  refreshStatus();
  setInterval(refreshStatus, 10000);
  window.addEventListener("online", refreshStatus);
  window.addEventListener("offline", refreshStatus);
  await ensureLogin();
  $("#new-chat").addEventListener("click", guard(newChat));
  $("#welcome-new-chat").addEventListener("click", guard(newChat));
  let filterTimer = null;
  $("#chat-filter").addEventListener("input", (e) => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(guard(async () => { setFilter(e.target.value.trim()); await loadChats(); }), 200);
  });
  document.querySelectorAll(".tabs button").forEach((b) =>
    b.addEventListener("click", guard(async () => { setTab(b.dataset.tab); await loadChats(); })));
  $("#chat-rename").addEventListener("click", guard(renameChat));
  $("#chat-archive").addEventListener("click", guard(archiveChat));
  $("#chat-delete").addEventListener("click", guard(deleteChat));
  $("#composer").addEventListener("submit", guard(ask));
  $("#question").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("#composer").requestSubmit(); }
  });
  $("#doc-input").addEventListener("change", guard((e) => onFiles(e, refreshDocuments)));
  $("#doc-pick").addEventListener("change", guard(async (e) => {
    if (e.target.value) await setDocuments([...(state.chat.document_ids || []), e.target.value]);
  }));
  initPageView();
  $("#back-to-list").addEventListener("click", (e) => { e.preventDefault(); location.hash = ""; });
  $("#logout").addEventListener("click", guard(logout));
  initCompare({ getChat: () => state.chat, getDocuments: () => state.documents });
  window.addEventListener("hashchange", route);
  await Promise.all([loadChats(), loadDocuments()]);
  await initLibrary({ chatId: () => state.chatId, toast, refresh: refreshDocuments });
  route();
  document.body.dataset.ready = "1";
}

main().catch((e) => toast(e.message || String(e)));
