// One chat: opening it (history from the server, then its live events), the welcome when no chat
// is open, asking a question, and the chat's own actions (rename, archive, delete).

import { api } from "./api.js";
import { loadChats, renderChatList } from "./chats.js";
import { renderDocBar } from "./documents.js";
import { $, toast } from "./dom.js";
import { t } from "./i18n.js";
import { closeStream, liveBubble, openStream } from "./live.js";
import { renderMessages, scrollDown, scrollToLastQuestion, userBubble } from "./messages.js";
import { setChat, setChatData, setChatId, state } from "./state.js";

export async function openChat(chatId) {
  closeStream();
  state.live.clear();
  // Finished upload lines belong to the chat they were made in.
  document.querySelectorAll("#upload-progress .upload-line.done, #upload-progress .upload-line.failed").forEach((n) => n.remove());
  setChatId(chatId);
  renderChatList();
  if (!chatId) {
    showEmpty();
    return;
  }
  let data;
  try {
    data = await api("GET", `/api/chats/${encodeURIComponent(chatId)}`);
  } catch (e) {
    showEmpty(e.status === 404 ? t("chat.not_found") : e.message);
    return;
  }
  if (state.chatId !== chatId) return;
  $("#chat-empty").hidden = true;
  $("#chat-view").hidden = false;
  document.body.classList.add("chat-open");
  applyChat(data);
  openStream(chatId, data.active_after ?? data.last_event_id, afterAnswer);
}

// A question ended (answer or error): the history again, its beginning in view, the chat list
// (the chat moved up).
async function afterAnswer() {
  await reloadChat();
  scrollToLastQuestion();
  loadChats();
}

// No chat open: the welcome (what the app does, three steps, a "new chat" button); above it a
// note — "pick a chat" when there are chats, or why the chat from the address did not open.
function showEmpty(note) {
  $("#chat-view").hidden = true;
  $("#chat-empty").hidden = false;
  document.body.classList.remove("chat-open");
  const text = note || (state.chats.length ? t("chat.none") : "");
  $("#chat-empty-note").textContent = text;
  $("#chat-empty-note").hidden = !text;
}

function applyChat(data) {
  setChatData(data);
  renderHeader();
  renderDocBar();
  renderMessages();
}

export async function reloadChat() {
  if (!state.chatId) return;
  const data = await api("GET", `/api/chats/${encodeURIComponent(state.chatId)}`);
  if (data.chat.id !== state.chatId) return;
  applyChat(data);
  for (const live of state.live.values()) $("#messages").append(live.node);
  scrollDown();
}

function renderHeader() {
  const c = state.chat;
  $("#chat-title").textContent = c.title;
  $("#chat-archive").textContent = c.is_archived ? t("chat.unarchive") : t("chat.archive");
}

export async function ask(e) {
  e.preventDefault();
  const input = $("#question");
  const content = input.value.trim();
  if (!content || !state.chatId) return;
  if (!(state.chat.document_ids || []).length) {
    toast(t("composer.need_documents"));
    return;
  }
  const button = $("#send");
  button.disabled = true;
  try {
    const res = await api("POST", `/api/chats/${encodeURIComponent(state.chatId)}/messages`, { content });
    input.value = "";
    const bubble = userBubble(content, null);
    bubble.classList.add("pending");
    bubble.dataset.question = res.question_id;
    const placeholder = $("#messages .placeholder");
    if (placeholder) placeholder.remove();
    // The stream may have announced the question before this response came: then the live
    // bubble is already there and the question goes above it (and the bubble's quote goes).
    const live = state.live.get(res.question_id);
    if (live) {
      live.node.before(bubble);
      if (live.quote) live.quote.remove();
    } else {
      $("#messages").append(bubble);
      liveBubble(res.question_id, null);
    }
    scrollDown();
  } catch (err) {
    toast(err.message);
  } finally {
    button.disabled = !(state.chat.document_ids || []).length;
  }
}

export async function renameChat() {
  const title = prompt(t("chat.rename_prompt"), state.chat.title);
  if (!title || !title.trim()) return;
  setChat(await api("PATCH", `/api/chats/${encodeURIComponent(state.chatId)}`, { title: title.trim() }));
  renderHeader();
  await loadChats();
}

export async function archiveChat() {
  setChat(await api("PATCH", `/api/chats/${encodeURIComponent(state.chatId)}`, { is_archived: !state.chat.is_archived }));
  renderHeader();
  await loadChats();
}

export async function deleteChat() {
  if (!confirm(t("chat.delete_confirm", { title: state.chat.title }))) return;
  await api("DELETE", `/api/chats/${encodeURIComponent(state.chatId)}`);
  location.hash = "";
  await loadChats();
}
