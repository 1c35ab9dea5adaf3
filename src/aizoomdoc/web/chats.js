// The chat list in the sidebar: the active / archived / all tabs, the filter, a new chat.

import { api } from "./api.js";
import { $, el, fmtTime } from "./dom.js";
import { t } from "./i18n.js";
import { setChats, state } from "./state.js";

export async function loadChats() {
  const params = new URLSearchParams({ archived: state.tab });
  if (state.filter) params.set("q", state.filter);
  const data = await api("GET", "/api/chats?" + params);
  setChats(data.chats);
  renderChatList();
}

export function renderChatList() {
  const list = $("#chat-list");
  list.replaceChildren();
  if (!state.chats.length) {
    list.append(el("li", { class: "empty", text: state.filter ? t("chats.empty_filter") : t("chats.empty") }));
    return;
  }
  for (const c of state.chats) {
    const item = el("li", { class: "chat-item" + (c.id === state.chatId ? " active" : ""), "data-id": c.id },
      el("a", { href: `#/chat/${c.id}` },
        el("span", { class: "title", text: c.title }),
        el("span", { class: "meta", text: fmtTime(c.updated_at) + (c.is_archived ? " · " + t("chats.archived_mark") : "") })));
    list.append(item);
  }
}

export async function newChat() {
  const chat = await api("POST", "/api/chats", {});
  state.tab = "false";
  setTab("false");
  location.hash = `#/chat/${chat.id}`;
  await loadChats();
}

export function setTab(tab) {
  state.tab = tab;
  document.querySelectorAll(".tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === tab));
}

export function setFilter(filter) {
  state.filter = filter;
}
