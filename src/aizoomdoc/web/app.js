// The AIZoomDoc web UI: chat list, a chat with Markdown answers, zoom images and citations that
// open the page view, document upload with progress, live progress over EventSource, and the
// online/offline badge. History always comes from the server (the store), never from memory.

import { api, ApiError, uploadDocument } from "./api.js";
import { renderDocHealth } from "./doc_health.js";
import { initCompare, updateCompareButton } from "./compare.js";
import { watchDocuments } from "./docstatus.js";
import { t } from "./i18n.js";
import { initLibrary } from "./library.js";
import { escapeHtml, renderMarkdown } from "./markdown.js";
import { hideStats, showStats } from "./stats.js";
import { thumb as readableThumb } from "./thumbs.js";

const $ = (sel) => document.querySelector(sel);

const state = {
  status: null,
  tab: "false",
  filter: "",
  chats: [],
  chatId: null,
  chat: null,
  messages: [],
  documents: [],
  source: null,
  lastEventId: 0,
  live: new Map(), // question_id -> live bubble
  loading: 0,
};

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
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

function applyI18n(root = document) {
  root.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((n) => { n.placeholder = t(n.dataset.i18nPlaceholder); });
  root.querySelectorAll("[data-i18n-title]").forEach((n) => { n.title = t(n.dataset.i18nTitle); });
  document.title = t("app.title");
}

function toast(message, kind = "error") {
  const box = el("div", { class: `toast ${kind}`, role: "alert", text: message, onclick: () => box.remove() });
  document.body.append(box);
  setTimeout(() => box.remove(), 6000);
}

// A notice that goes away: after a while, or at once with its ×.
function transient(node, ms = 15000) {
  node.append(el("button", { type: "button", class: "link dismiss", title: t("viewer.close"), text: "×",
                             onclick: () => node.remove() }));
  setTimeout(() => node.remove(), ms);
  return node;
}

function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString("ru-RU", { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" });
}

function docTitle(id) {
  const d = state.documents.find((x) => x.id === id);
  return d ? (d.title || d.filename) : id.slice(0, 8);
}

// ------------------------------------------------------------------------------------------
// Status badge
// ------------------------------------------------------------------------------------------
async function refreshStatus() {
  const badge = $("#status-badge");
  try {
    const s = await api("GET", "/api/status");
    state.status = s;
    badge.className = "badge " + (s.online ? "online" : "offline");
    let text = s.online ? t("status.online") : t("status.offline");
    const pending = (s.pending && (s.pending.pending || 0) + (s.pending.pending_files || 0)) || 0;
    if (pending) text += " · " + t("status.pending", { count: pending });
    badge.textContent = text;
    badge.title = s.llm && s.llm.offline ? t("status.llm_offline") : (s.llm && s.llm.model) || "";
    badge.dataset.online = s.online ? "1" : "0";
  } catch (e) {
    badge.className = "badge offline";
    badge.textContent = t("status.offline");
    badge.dataset.online = "0";
  }
}

// ------------------------------------------------------------------------------------------
// Chat list
// ------------------------------------------------------------------------------------------
async function loadChats() {
  const params = new URLSearchParams({ archived: state.tab });
  if (state.filter) params.set("q", state.filter);
  const data = await api("GET", "/api/chats?" + params);
  state.chats = data.chats;
  renderChatList();
}

function renderChatList() {
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

async function newChat() {
  const chat = await api("POST", "/api/chats", {});
  state.tab = "false";
  setTab("false");
  location.hash = `#/chat/${chat.id}`;
  await loadChats();
}

function setTab(tab) {
  state.tab = tab;
  document.querySelectorAll(".tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === tab));
}

// ------------------------------------------------------------------------------------------
// One chat
// ------------------------------------------------------------------------------------------
async function openChat(chatId) {
  closeStream();
  state.live.clear();
  // Finished upload lines belong to the chat they were made in.
  document.querySelectorAll("#upload-progress .upload-line.done, #upload-progress .upload-line.failed").forEach((n) => n.remove());
  state.chatId = chatId;
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
  openStream(chatId, data.active_after ?? data.last_event_id);
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
  state.chat = data.chat;
  state.messages = data.messages;
  state.lastEventId = data.last_event_id;
  renderHeader();
  renderDocBar();
  renderMessages();
}

async function reloadChat() {
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

function renderDocBar() {
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

async function setDocuments(ids) {
  const chat = await api("PATCH", `/api/chats/${encodeURIComponent(state.chatId)}`, { document_ids: ids });
  state.chat = chat;
  renderDocBar();
}

async function loadDocuments() {
  const data = await api("GET", "/api/documents");
  state.documents = data.documents;
}

// --- messages -------------------------------------------------------------------------------
function renderMessages() {
  const box = $("#messages");
  box.replaceChildren();
  if (!state.messages.length) box.append(emptyChat());
  let lastUser = null;
  for (const m of state.messages) {
    if (m.role === "user") {
      lastUser = m;
      box.append(userBubble(m.content, m.id));
    } else if (m.role === "assistant") {
      box.append(assistantBubble(m, lastUser));
    }
  }
  scrollDown();
}

// A chat without messages: what to do next, and with documents attached, example questions
// (a click puts one into the input; Enter sends it).
function emptyChat() {
  const hasDocs = (state.chat.document_ids || []).length > 0;
  const box = el("div", { class: "placeholder" },
    el("p", { text: hasDocs ? t("chat.empty") : t("chat.empty_no_documents") }));
  if (hasDocs) {
    const row = el("div", { class: "examples" }, el("span", { class: "note", text: t("chat.examples") }));
    box.append(row);
    exampleQuestions(state.chat.document_ids).then((questions) => {
      for (const q of questions) {
        row.append(el("button", { type: "button", class: "example", text: q, onclick: () => {
          $("#question").value = q;
          $("#question").focus();
        } }));
      }
    });
  }
  return box;
}

// Example questions drawn from the attached document's own blocks (its codes, its sheets).
async function exampleQuestions(ids) {
  try {
    const data = await api("GET", `/api/documents/${encodeURIComponent(ids[0])}/examples`);
    if (data.questions && data.questions.length) return data.questions;
  } catch (e) { /* the generic examples below */ }
  return [t("chat.example1"), t("chat.example2")];
}

// After an answer: show its beginning (the question above it), not its end — a long list
// answer would otherwise open at its last lines.
function scrollToLastQuestion() {
  const box = $("#messages");
  const users = box.querySelectorAll(".msg.user");
  const last = users[users.length - 1];
  if (last) box.scrollTop = Math.max(0, last.offsetTop - 12);
}

function scrollDown() {
  const box = $("#messages");
  box.scrollTop = box.scrollHeight;
}

function userBubble(text, id) {
  return el("div", { class: "msg user", "data-id": id },
    el("div", { class: "who", text: t("msg.you") }),
    el("div", { class: "text", text }));
}

function assistantBubble(m, userMsg) {
  const isError = m.message_type === "error";
  const meta = m.metadata || {};
  const node = el("div", { class: "msg assistant" + (isError ? " error" : ""), "data-id": m.id });
  const who = isError ? t("msg.error") : t("msg.assistant") + (meta.offline ? " · " + t("msg.offline_model") : (m.model ? " · " + m.model : ""));
  node.append(el("div", { class: "who", text: who }));
  node.append(el("div", { class: "answer markdown", html: renderMarkdown(m.content) }));
  const citations = meta.citations || [];
  if (citations.length) {
    const row = el("div", { class: "citations" }, el("span", { class: "label", text: t("msg.citations") }));
    for (const c of citations) {
      row.append(el("button", {
        type: "button", class: "citation", "data-document": c.document_id, "data-page": c.page_number,
        "data-block": c.block_id, text: t("msg.citation", { page: c.page_number, block: c.block_id }),
        title: c.document_title || undefined,
        onclick: () => openPage(c, userMsg ? userMsg.id : null),
      }));
    }
    node.append(row);
  }
  const images = [...((userMsg && userMsg.images) || []), ...(m.images || [])];
  if (images.length) node.append(imageGrid(images));
  return node;
}

function imageGrid(images) {
  const grid = el("div", { class: "images" });
  for (const im of images) grid.append(thumb(im));
  return grid;
}

function thumb(im) {
  return readableThumb(im, openImage);
}

// --- viewer ---------------------------------------------------------------------------------
// The enlarged image: fitted to the window, or at its own resolution ("Крупно"). A page opened
// from a citation starts at its own resolution scrolled to the cited block (focus: coords_norm),
// so the highlighted text is readable at once; the button or a click on the image switches.
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

function toggleZoom(e) {
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

function openImage(im) {
  showViewer(im.description || im.image_type, im.url);
  $("#viewer-legend").textContent = t("viewer.legend_image");
}

function openPage(c, userMessageId) {
  const params = new URLSearchParams();
  if (c.coords_norm) params.append("box", c.coords_norm.map((v) => Number(v).toFixed(5)).join(","));
  params.set("chat_id", state.chatId);
  if (userMessageId) params.set("message_id", userMessageId);
  const src = `/api/documents/${encodeURIComponent(c.document_id)}/pages/${c.page_number}.png?${params}`;
  showViewer(t("page.title", { page: c.page_number, document: docTitle(c.document_id) }), src, c.coords_norm || null);
  $("#viewer").dataset.kind = "page";
  $("#viewer-legend").textContent = t("viewer.legend_page");
}

function closeViewer() {
  $("#viewer").hidden = true;
  $("#viewer-img").removeAttribute("src");
  delete $("#viewer").dataset.kind;
}

// ------------------------------------------------------------------------------------------
// Live progress (EventSource)
// ------------------------------------------------------------------------------------------
const EVENT_TYPES = ["question", "stage", "hits", "token", "tool", "image", "answer", "error"];

function openStream(chatId, after) {
  closeStream();
  const es = new EventSource(`/api/chats/${encodeURIComponent(chatId)}/events?after=${after || 0}`);
  state.source = es;
  for (const type of EVENT_TYPES) {
    es.addEventListener(type, (ev) => {
      if (state.source !== es) return;
      let data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      state.lastEventId = Math.max(state.lastEventId, data.event_id || 0);
      onEvent(data);
    });
  }
  es.onerror = () => { /* EventSource reconnects by itself with Last-Event-ID */ };
}

function closeStream() {
  if (state.source) state.source.close();
  state.source = null;
}

function liveBubble(qid, question) {
  let live = state.live.get(qid);
  if (live) return live;
  const steps = el("ul", { class: "steps" });
  const answer = el("div", { class: "answer markdown live-text" });
  const images = el("div", { class: "images" });
  const head = el("div", { class: "who" }, el("span", { class: "spinner" }), " " + t("msg.working"));
  const quote = question ? el("div", { class: "note", text: "«" + question + "»" }) : null;
  const node = el("div", { class: "msg assistant working", "data-question": qid }, head, quote, steps, answer, images);
  live = { node, quote, steps, answer, images, text: "", stages: new Map() };
  state.live.set(qid, live);
  const placeholder = $("#messages .placeholder");
  if (placeholder) placeholder.remove();
  $("#messages").append(node);
  scrollDown();
  return live;
}

function step(live, key, text, done) {
  let li = live.stages.get(key);
  if (!li) {
    li = el("li", {});
    live.stages.set(key, li);
    live.steps.append(li);
  }
  li.textContent = (done ? "✓ " : "… ") + text;
  li.className = done ? "done" : "active";
}

// What the model did, in words (tool names are English identifiers).
function toolLabel(ev) {
  const args = ev.arguments || {};
  if (ev.name === "zoom") return t("tool.zoom", { image: [args.image_id, args.cell].filter(Boolean).join(", ") });
  if (ev.name === "request_images") return t("tool.request_images");
  if (ev.name === "search" && args.query) return t("tool.search", { query: args.query });
  return t("msg.tool");
}

async function onEvent(ev) {
  const qid = ev.question_id;
  if (!qid) return;
  if (ev.type === "question") {
    // The question is quoted in the progress bubble only when it is not on screen already: sent
    // from this page (pending bubble) or read back with the history (after a reload mid-answer).
    const mine = document.querySelector(`.msg.user.pending[data-question="${qid}"]`);
    const last = state.messages[state.messages.length - 1];
    const stored = last && last.role === "user" && last.content === ev.content;
    const live = liveBubble(qid, mine || stored ? null : ev.content);
    step(live, "question", t("stage.question"), true);
    return;
  }
  const live = liveBubble(qid, null);
  switch (ev.type) {
    case "stage":
      step(live, ev.stage, ev.message || t("stage." + ev.stage), ev.status === "done");
      break;
    case "hits":
      step(live, "hits", t("msg.hits", { count: ev.hits.length }), true);
      break;
    case "tool":
      step(live, "tool-" + ev.event_id, toolLabel(ev), true);
      break;
    case "token":
      live.text += ev.text;
      live.answer.innerHTML = renderMarkdown(live.text);
      break;
    case "image":
      live.images.append(thumb(ev.image));
      break;
    case "answer":
    case "error":
      state.live.delete(qid);
      live.node.remove();
      document.querySelectorAll(`.msg.user.pending[data-question="${qid}"]`).forEach((n) => n.remove());
      if (ev.type === "error" && !ev.message_id) toast(ev.message);
      await reloadChat();
      scrollToLastQuestion();
      loadChats();
      return;
    default:
      break;
  }
  scrollDown();
}

// ------------------------------------------------------------------------------------------
// Asking and uploading
// ------------------------------------------------------------------------------------------
async function ask(e) {
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

async function onFiles(e) {
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
  await loadDocuments();
  if (state.chatId) await reloadChat();
}

// ------------------------------------------------------------------------------------------
// Chat actions
// ------------------------------------------------------------------------------------------
async function renameChat() {
  const title = prompt(t("chat.rename_prompt"), state.chat.title);
  if (!title || !title.trim()) return;
  state.chat = await api("PATCH", `/api/chats/${encodeURIComponent(state.chatId)}`, { title: title.trim() });
  renderHeader();
  await loadChats();
}

async function archiveChat() {
  state.chat = await api("PATCH", `/api/chats/${encodeURIComponent(state.chatId)}`, { is_archived: !state.chat.is_archived });
  renderHeader();
  await loadChats();
}

async function deleteChat() {
  if (!confirm(t("chat.delete_confirm", { title: state.chat.title }))) return;
  await api("DELETE", `/api/chats/${encodeURIComponent(state.chatId)}`);
  location.hash = "";
  await loadChats();
}

// ------------------------------------------------------------------------------------------
// Auth (server mode)
// ------------------------------------------------------------------------------------------
async function ensureLogin() {
  try {
    const me = await api("GET", "/api/auth/me");
    if (me.auth_mode === "server") {
      $("#user-box").hidden = false;
      $("#user-name").textContent = t("login.user", { user: me.user_id });
    }
    return true;
  } catch (e) {
    if (e.status !== 401) throw e;
  }
  $("#login").hidden = false;
  $("#login-token").focus();
  return new Promise((resolve) => {
    $("#login-form").onsubmit = async (ev) => {
      ev.preventDefault();
      try {
        await api("POST", "/api/auth/session", { token: $("#login-token").value });
        $("#login").hidden = true;
        resolve(ensureLogin());
      } catch (err) {
        $("#login-error").textContent = err.message;
      }
    };
  });
}

async function logout() {
  await api("DELETE", "/api/auth/session");
  location.reload();
}

// ------------------------------------------------------------------------------------------
// Boot
// ------------------------------------------------------------------------------------------
function route() {
  if (location.hash.startsWith("#/stats")) {
    closeStream();
    state.chatId = null;
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
    filterTimer = setTimeout(guard(async () => { state.filter = e.target.value.trim(); await loadChats(); }), 200);
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
  $("#doc-input").addEventListener("change", guard(onFiles));
  $("#doc-pick").addEventListener("change", guard(async (e) => {
    if (e.target.value) await setDocuments([...(state.chat.document_ids || []), e.target.value]);
  }));
  $("#viewer-close").addEventListener("click", closeViewer);
  $("#viewer-fit").addEventListener("click", () => toggleZoom(null));
  $("#viewer-img").addEventListener("click", toggleZoom);
  $("#viewer").addEventListener("click", (e) => { if (e.target.id === "viewer") closeViewer(); });
  $("#back-to-list").addEventListener("click", (e) => { e.preventDefault(); location.hash = ""; });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeViewer(); });
  $("#logout").addEventListener("click", guard(logout));
  initCompare({ getChat: () => state.chat, getDocuments: () => state.documents });
  window.addEventListener("hashchange", route);
  await Promise.all([loadChats(), loadDocuments()]);
  await initLibrary({ chatId: () => state.chatId, toast,
                      refresh: async () => { await loadDocuments(); if (state.chatId) await reloadChat(); } });
  route();
  document.body.dataset.ready = "1";
}

main().catch((e) => toast(e.message || String(e)));
