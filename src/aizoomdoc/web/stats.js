// The «Статистика» page: usage figures of the caller (everyone's for an admin) and charts per day
// (questions, tokens, answer time), drawn as inline SVG — no library, no build step.

import { api } from "./api.js";
import { $, el } from "./dom.js";
import { STRINGS, t } from "./i18n.js";

Object.assign(STRINGS, {
  "stats.open": "Статистика",
  "stats.title": "Статистика использования",
  "stats.scope.own": "Ваши вопросы",
  "stats.scope.all": "Все пользователи",
  "stats.period.7": "7 дней",
  "stats.period.30": "30 дней",
  "stats.period.90": "90 дней",
  "stats.period.all": "Всё время",
  "stats.loading": "Загрузка статистики…",
  "stats.empty": "За этот период вопросов не было.",
  "stats.card.questions": "Вопросы",
  "stats.card.answers": "Ответы",
  "stats.card.errors": "Ошибки",
  "stats.card.llm_calls": "Вызовы модели",
  "stats.card.tokens": "Токены: вход / выход",
  "stats.card.cost": "Оценка стоимости",
  "stats.card.cost_none": "цены не заданы",
  "stats.card.images": "Изображения",
  "stats.card.cache": "из кэша: {rate}",
  "stats.card.documents": "Документы загружено",
  "stats.card.pages": "страниц: {pages}",
  "stats.card.users": "Пользователи",
  "stats.card.time": "Время ответа: медиана / 95%",
  "stats.chart.questions": "Вопросы по дням",
  "stats.chart.tokens": "Токены по дням",
  "stats.chart.time": "Время ответа по дням, с",
  "stats.legend.answers": "ответы",
  "stats.legend.errors": "ошибки",
  "stats.legend.in": "вход",
  "stats.legend.out": "выход",
  "stats.legend.p50": "медиана",
  "stats.legend.p95": "95%",
  "stats.tip.questions": "{day}: вопросов {questions} (ответов {answers}, ошибок {errors})",
  "stats.tip.tokens": "{day}: вход {in}, выход {out}",
  "stats.tip.time": "{day}: медиана {p50} с, 95% {p95} с",
  "stats.by_user": "По пользователям",
  "stats.col.user": "Пользователь",
  "stats.col.questions": "Вопросы",
  "stats.col.errors": "Ошибки",
  "stats.col.tokens": "Токены: вход / выход",
  "stats.seconds": "{value} с",
});

const SVG = "http://www.w3.org/2000/svg";
let period = "30";


function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const num = (v) => (v === null || v === undefined ? "—" : Number(v).toLocaleString("ru-RU"));
const shortDay = (iso) => `${iso.slice(8, 10)}.${iso.slice(5, 7)}`;

// A round axis maximum and its ticks: 0, step, 2·step … ≥ max.
function ticks(max) {
  if (!(max > 0)) return [0, 1];
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = 0; v < max + step * 0.999; v += step) out.push(Number(v.toPrecision(6)));
  return out;
}

// One chart: stacked bars ("bars": [{key, label, cls}]) or lines ("lines": […]) over the days.
function chart({ id, title, days, series, kind, tip, format = num }) {
  const W = 720, H = 230, L = 56, R = 12, T = 14, B = 36;
  const plotW = W - L - R, plotH = H - T - B;
  const values = days.map((d) => (kind === "bars"
    ? series.reduce((s, x) => s + (d[x.key] || 0), 0)
    : Math.max(0, ...series.map((x) => d[x.key] || 0))));
  const axis = ticks(Math.max(0, ...values));
  const top = axis[axis.length - 1] || 1;
  const y = (v) => T + plotH - (v / top) * plotH;
  const slot = plotW / Math.max(1, days.length);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: `chart chart-${kind}`, role: "img",
                            "aria-label": title, "data-chart": id });
  for (const v of axis) {
    root.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
    root.append(svg("text", { x: L - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" }, format(v)));
  }
  const every = Math.max(1, Math.ceil(days.length / 10));
  days.forEach((d, i) => {
    if (i % every === 0 || i === days.length - 1) {
      root.append(svg("text", { x: L + slot * (i + 0.5), y: H - B + 16, class: "tick", "text-anchor": "middle" },
        shortDay(d.day)));
    }
  });
  if (kind === "bars") {
    const w = Math.max(2, Math.min(36, slot * 0.7));
    days.forEach((d, i) => {
      let base = 0;
      const g = svg("g", { class: "bar", "data-day": d.day });
      for (const s of series) {
        const v = d[s.key] || 0;
        if (v > 0) {
          g.append(svg("rect", { x: L + slot * (i + 0.5) - w / 2, y: y(base + v), width: w,
                                 height: Math.max(1, y(base) - y(base + v)), class: s.cls }));
        }
        base += v;
      }
      g.append(svg("title", {}, tip(d)));
      // An invisible full-height target so the tooltip shows over short bars too.
      g.append(svg("rect", { x: L + slot * i, y: T, width: slot, height: plotH, class: "hit" }));
      root.append(g);
    });
  } else {
    for (const s of series) {
      const pts = days.map((d, i) => [L + slot * (i + 0.5), d[s.key]]).filter((p) => p[1] !== null && p[1] !== undefined);
      if (pts.length > 1) {
        root.append(svg("polyline", { points: pts.map(([px, v]) => `${px},${y(v)}`).join(" "), class: `line ${s.cls}` }));
      }
      for (const [px, v] of pts) root.append(svg("circle", { cx: px, cy: y(v), r: 3.5, class: `dot ${s.cls}` }));
    }
    days.forEach((d, i) => {
      const g = svg("g", { class: "bar", "data-day": d.day });
      g.append(svg("title", {}, tip(d)));
      g.append(svg("rect", { x: L + slot * i, y: T, width: slot, height: plotH, class: "hit" }));
      root.append(g);
    });
  }
  root.append(svg("line", { x1: L, x2: W - R, y1: y(0), y2: y(0), class: "axis" }));
  const legend = el("div", { class: "legend" },
    ...series.map((s) => el("span", { class: `key ${s.cls}` }, el("i"), s.label)));
  return el("figure", { class: "stats-chart", id }, el("figcaption", { text: title }), legend, root);
}

function card(label, value, note) {
  return el("div", { class: "stats-card" }, el("div", { class: "label", text: label }),
    el("div", { class: "value", text: value }), note ? el("div", { class: "note", text: note }) : null);
}

function since(days) {
  if (days === "all") return null;
  const d = new Date(Date.now() - (Number(days) - 1) * 86400000);
  return d.toISOString().slice(0, 10);
}

function render(box, s) {
  box.replaceChildren();
  const head = el("header", { class: "stats-head" },
    el("h2", { text: t("stats.title") }),
    el("span", { class: "scope note", text: t(s.scope === "all" ? "stats.scope.all" : "stats.scope.own") }));
  const periods = el("div", { class: "tabs stats-periods", role: "tablist" });
  for (const p of ["7", "30", "90", "all"]) {
    periods.append(el("button", { type: "button", class: p === period ? "active" : "", "data-period": p,
                                  text: t(`stats.period.${p}`), onclick: () => { period = p; showStats(); } }));
  }
  head.append(periods);
  box.append(head);
  const rate = s.render_cache_hit_rate;
  const cost = s.cost_estimate === null ? "—" : num(Math.round(s.cost_estimate * 100) / 100);
  box.append(el("div", { class: "stats-cards" },
    card(t("stats.card.questions"), num(s.questions)),
    card(t("stats.card.answers"), num(s.answers)),
    card(t("stats.card.errors"), num(s.errors)),
    card(t("stats.card.llm_calls"), num(s.llm_calls)),
    card(t("stats.card.tokens"), `${num(s.tokens_in)} / ${num(s.tokens_out)}`),
    card(t("stats.card.cost"), cost, s.cost_estimate === null ? t("stats.card.cost_none") : null),
    card(t("stats.card.images"), num(s.images),
      rate === null ? null : t("stats.card.cache", { rate: `${Math.round(rate * 100)} %` })),
    card(t("stats.card.documents"), num(s.documents), t("stats.card.pages", { pages: num(s.pages) })),
    card(t("stats.card.users"), num(s.users)),
    card(t("stats.card.time"),
      `${t("stats.seconds", { value: num(s.answer_seconds_p50) })} / ${t("stats.seconds", { value: num(s.answer_seconds_p95) })}`),
  ));
  if (!s.questions) {
    box.append(el("p", { class: "placeholder", text: t("stats.empty") }));
    return;
  }
  const days = s.by_day;
  box.append(chart({
    id: "chart-questions", title: t("stats.chart.questions"), days, kind: "bars",
    series: [{ key: "answers", label: t("stats.legend.answers"), cls: "s-answers" },
             { key: "errors", label: t("stats.legend.errors"), cls: "s-errors" }],
    tip: (d) => t("stats.tip.questions", { day: shortDay(d.day), questions: d.questions, answers: d.answers, errors: d.errors }),
  }));
  box.append(chart({
    id: "chart-tokens", title: t("stats.chart.tokens"), days, kind: "bars",
    series: [{ key: "tokens_in", label: t("stats.legend.in"), cls: "s-in" },
             { key: "tokens_out", label: t("stats.legend.out"), cls: "s-out" }],
    tip: (d) => t("stats.tip.tokens", { day: shortDay(d.day), in: num(d.tokens_in), out: num(d.tokens_out) }),
  }));
  box.append(chart({
    id: "chart-time", title: t("stats.chart.time"), days, kind: "lines",
    series: [{ key: "answer_seconds_p50", label: t("stats.legend.p50"), cls: "s-p50" },
             { key: "answer_seconds_p95", label: t("stats.legend.p95"), cls: "s-p95" }],
    tip: (d) => t("stats.tip.time", { day: shortDay(d.day), p50: num(d.answer_seconds_p50), p95: num(d.answer_seconds_p95) }),
    format: (v) => num(v),
  }));
  if (s.scope === "all" && s.by_user.length) {
    const table = el("table", { class: "stats-users" },
      el("thead", {}, el("tr", {}, ...["user", "questions", "errors", "tokens"].map((k) => el("th", { text: t(`stats.col.${k}`) })))));
    const body = el("tbody");
    for (const u of s.by_user) {
      body.append(el("tr", {}, el("td", { text: u.user_id }), el("td", { text: num(u.questions) }),
        el("td", { text: num(u.errors) }), el("td", { text: `${num(u.tokens_in)} / ${num(u.tokens_out)}` })));
    }
    table.append(body);
    box.append(el("h3", { text: t("stats.by_user") }), table);
  }
}

// Show the page (route #/stats): the other views are hidden, the figures fetched afresh.
export async function showStats() {
  const box = $("#stats-view");
  $("#chat-empty").hidden = true;
  $("#chat-view").hidden = true;
  box.hidden = false;
  document.body.classList.add("chat-open");
  document.querySelectorAll(".chat-item.active").forEach((n) => n.classList.remove("active"));
  $("#open-stats").classList.add("active");
  if (!box.childElementCount) box.append(el("p", { class: "note", text: t("stats.loading") }));
  const params = new URLSearchParams();
  const from = since(period);
  if (from) params.set("since", from);
  const s = await api("GET", "/api/stats?" + params);
  if (box.hidden) return;
  render(box, s);
  box.dataset.ready = "1";
}

export function hideStats() {
  const box = $("#stats-view");
  box.hidden = true;
  delete box.dataset.ready;
  $("#open-stats").classList.remove("active");
}
