// The messages of the open chat as read from the server: the question bubbles, the answers
// (Markdown, citations that open the cited page, zoom images), the placeholder of an empty chat
// with example questions, and scrolling.

import { api } from "./api.js";
import { $, el } from "./dom.js";
import { t } from "./i18n.js";
import { renderMarkdown } from "./markdown.js";
import { openImage, openPage } from "./pageview.js";
import { state } from "./state.js";
import { thumb as readableThumb } from "./thumbs.js";

export function renderMessages() {
  const box = $("#messages");
  box.replaceChildren();
  $("#question").placeholder = t("composer.placeholder");
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
      // The input's hint names a question about this document, not a fixed one about roofs.
      if (questions.length) $("#question").placeholder = t("composer.placeholder_example", { question: questions[0] });
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
export function scrollToLastQuestion() {
  const box = $("#messages");
  const users = box.querySelectorAll(".msg.user");
  const last = users[users.length - 1];
  if (last) box.scrollTop = Math.max(0, last.offsetTop - 12);
}

export function scrollDown() {
  const box = $("#messages");
  box.scrollTop = box.scrollHeight;
}

export function userBubble(text, id) {
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

// A zoom image of an answer: a readable window onto it; a click opens it in the viewer.
export function thumb(im) {
  return readableThumb(im, openImage);
}
