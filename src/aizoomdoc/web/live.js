// Live progress of a question over EventSource: a bubble per question being answered with its
// stages, the answer as it streams and its images; when the answer (or an error) arrives the
// bubble goes and the caller reloads the history from the server.

import { $, el, toast } from "./dom.js";
import { t } from "./i18n.js";
import { renderMarkdown } from "./markdown.js";
import { scrollDown, thumb } from "./messages.js";
import { state } from "./state.js";

const EVENT_TYPES = ["question", "stage", "hits", "token", "tool", "image", "answer", "error"];

// onDone(): called after an answer or an error ended a question (the bubble is gone by then).
export function openStream(chatId, after, onDone) {
  closeStream();
  const es = new EventSource(`/api/chats/${encodeURIComponent(chatId)}/events?after=${after || 0}`);
  state.source = es;
  for (const type of EVENT_TYPES) {
    es.addEventListener(type, (ev) => {
      if (state.source !== es) return;
      let data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      state.lastEventId = Math.max(state.lastEventId, data.event_id || 0);
      onEvent(data, onDone);
    });
  }
  es.onerror = () => { /* EventSource reconnects by itself with Last-Event-ID */ };
}

export function closeStream() {
  if (state.source) state.source.close();
  state.source = null;
}

export function liveBubble(qid, question) {
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

async function onEvent(ev, onDone) {
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
      await onDone();
      return;
    default:
      break;
  }
  scrollDown();
}
