// A small Markdown renderer for answers: headings, paragraphs, **bold**, *italic*, `code`,
// fenced code blocks, lists (nested, ordered and not; "-", "*", "+" or "•"), links, tables (GFM, with alignment),
// blockquotes and rules. Every piece of text is HTML-escaped first; links keep only http(s),
// mailto and relative targets. The output is safe to assign to innerHTML.

const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESC[c]);
}

// Characters a browser drops from a URL before it reads the scheme (C0 controls and spaces at the
// start, tab and newlines anywhere) and invisible ones (soft hyphen, zero-width, BOM, C1 controls):
// "\x01javascript:" or "java\tscript:" must be judged as the browser will see them.
const URL_INVISIBLE = /[\u0000-\u0020\u007f-\u009f\u00ad\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\uffa0]/g;

// A link target an answer may carry: http(s), mailto, or relative (/api/…, #…, page.html).
// Anything else — javascript:, data:, vbscript:, file: … in any case or disguise — is null.
export function safeUrl(raw) {
  const url = String(raw).replace(URL_INVISIBLE, "");
  const lower = url.toLowerCase();
  if (/^(https?:|mailto:)/.test(lower)) return url;
  const colon = lower.indexOf(":");
  if (colon >= 0 && !/[/?#]/.test(lower.slice(0, colon))) return null; // a scheme, and not an allowed one
  return url;
}

export function renderInline(src) {
  const codes = [];
  let text = String(src).replace(/`([^`\n]+)`/g, (m, code) => {
    codes.push(`<code>${escapeHtml(code)}</code>`);
    return `\u0000${codes.length - 1}\u0000`;
  });
  text = escapeHtml(text);
  // Links: [text](url) — the url was escaped with the rest (quotes cannot break the attribute).
  text = text.replace(/\[([^\]\n]+)\]\(([^)\s]+)\)/g, (m, label, url) => {
    const unescaped = url.replace(/&amp;/g, "&");
    const safe = safeUrl(unescaped);
    if (safe === null) return label;
    const external = /^https?:/i.test(safe);
    return `<a href="${escapeHtml(safe)}"${external ? ' target="_blank" rel="noopener noreferrer"' : ""}>${label}</a>`;
  });
  text = text.replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>");
  text = text.replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?=[^\w]|$)/g, "$1<strong>$2</strong>");
  text = text.replace(/(^|[^*\w])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?=[^*\w]|$)/g, "$1<em>$2</em>");
  text = text.replace(/(^|[^\w])_(?=[^\s_])([^_\n]*?[^\s_])_(?=[^\w]|$)/g, "$1<em>$2</em>");
  text = text.replace(/~~(?=\S)([^~\n]*?\S)~~/g, "<del>$1</del>");
  return text.replace(/\u0000(\d+)\u0000/g, (m, i) => codes[Number(i)]);
}

const RE = {
  fence: /^\s*(```|~~~)\s*([\w+-]*)\s*$/,
  heading: /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/,
  rule: /^\s{0,3}([-*_])(\s*\1){2,}\s*$/,
  list: /^(\s*)([-*+•]|\d{1,9}[.)])\s+(.*)$/, // "•" too: offline answers and models use it
  quote: /^\s{0,3}>\s?(.*)$/,
  tableSep: /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/,
  blank: /^\s*$/,
};

function splitRow(line) {
  let s = line.trim();
  if (s.startsWith("|")) s = s.slice(1);
  if (s.endsWith("|") && !s.endsWith("\\|")) s = s.slice(0, -1);
  const cells = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && s[i + 1] === "|") { cur += "|"; i++; continue; }
    if (s[i] === "|") { cells.push(cur.trim()); cur = ""; continue; }
    cur += s[i];
  }
  cells.push(cur.trim());
  return cells;
}

function renderTable(lines) {
  const head = splitRow(lines[0]);
  const aligns = splitRow(lines[1]).map((c) => {
    const left = c.startsWith(":"), right = c.endsWith(":");
    return left && right ? "center" : right ? "right" : left ? "left" : "";
  });
  const cell = (tag, text, i) => {
    // A class, not style="…": the page's Content-Security-Policy (style-src 'self') blocks inline styles.
    const a = aligns[i] ? ` class="align-${aligns[i]}"` : "";
    return `<${tag}${a}>${renderInline(text ?? "")}</${tag}>`;
  };
  let html = '<div class="md-table"><table><thead><tr>';
  html += head.map((c, i) => cell("th", c, i)).join("");
  html += "</tr></thead><tbody>";
  for (const line of lines.slice(2)) {
    const cells = splitRow(line);
    html += "<tr>" + head.map((_, i) => cell("td", cells[i], i)).join("") + "</tr>";
  }
  return html + "</tbody></table></div>";
}

function renderList(lines) {
  // Top-level items switching between "1." and "-" start a new list.
  const base = RE.list.exec(lines[0])[1].length;
  const groups = [];
  let kind = null;
  for (const line of lines) {
    const m = RE.list.exec(line);
    if (m && m[1].length <= base) {
      const ordered = /\d/.test(m[2]);
      if (ordered !== kind) { groups.push([]); kind = ordered; }
    }
    groups[groups.length - 1].push(line);
  }
  return groups.map(renderOneList).join("");
}

function renderOneList(lines) {
  // lines: raw list lines (with continuation lines). Builds nested lists by indentation.
  const root = { children: [], indent: -1, ordered: false };
  const stack = [root];
  let last = null;
  for (const line of lines) {
    const m = RE.list.exec(line);
    if (!m) {
      if (last) last.text += "\n" + line.trim();
      continue;
    }
    const indent = m[1].replace(/\t/g, "    ").length;
    const ordered = /\d/.test(m[2]);
    while (stack.length > 1 && indent <= stack[stack.length - 1].indent) stack.pop();
    let parent = stack[stack.length - 1];
    if (parent !== root || parent.children.length === 0) parent.ordered = parent.ordered || ordered;
    if (last && indent > last.indent && parent !== last) {
      last.children = last.children || [];
      last.ordered = ordered;
      stack.push(last);
      parent = last;
    }
    last = { text: m[3], indent, children: [], ordered: false, start: ordered ? parseInt(m[2], 10) : null };
    parent.children.push(last);
  }
  const build = (node) => {
    const tag = node.ordered ? "ol" : "ul";
    const first = node.children[0];
    const start = node.ordered && first && first.start && first.start !== 1 ? ` start="${first.start}"` : "";
    return `<${tag}${start}>` + node.children.map((c) =>
      "<li>" + renderInline(c.text).replace(/\n/g, "<br>") + (c.children.length ? build(c) : "") + "</li>"
    ).join("") + `</${tag}>`;
  };
  return build(root);
}

export function renderMarkdown(src) {
  const lines = String(src ?? "").replace(/\r\n?/g, "\n").split("\n");
  const out = [];
  let para = [];
  const flush = () => {
    if (para.length) out.push("<p>" + para.map(renderInline).join("<br>") + "</p>");
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m;
    if ((m = RE.fence.exec(line))) {
      flush();
      const fence = m[1];
      const body = [];
      i++;
      while (i < lines.length && lines[i].trim() !== fence) body.push(lines[i++]);
      const lang = m[2] ? ` class="lang-${escapeHtml(m[2])}"` : "";
      out.push(`<pre><code${lang}>${escapeHtml(body.join("\n"))}</code></pre>`);
      continue;
    }
    if (RE.blank.test(line)) { flush(); continue; }
    if ((m = RE.heading.exec(line))) {
      flush();
      const level = m[1].length;
      out.push(`<h${level}>${renderInline(m[2])}</h${level}>`);
      continue;
    }
    if (RE.rule.test(line) && !RE.list.test(line.replace(/^\s*[-*]\s*$/, ""))) {
      flush();
      out.push("<hr>");
      continue;
    }
    if (line.includes("|") && i + 1 < lines.length && RE.tableSep.test(lines[i + 1]) && lines[i + 1].includes("-")) {
      flush();
      const rows = [line, lines[i + 1]];
      i += 2;
      while (i < lines.length && lines[i].includes("|") && !RE.blank.test(lines[i])) rows.push(lines[i++]);
      i--;
      out.push(renderTable(rows));
      continue;
    }
    if ((m = RE.quote.exec(line))) {
      flush();
      const body = [m[1]];
      while (i + 1 < lines.length && (m = RE.quote.exec(lines[i + 1]))) { body.push(m[1]); i++; }
      out.push("<blockquote>" + renderMarkdown(body.join("\n")) + "</blockquote>");
      continue;
    }
    if (RE.list.test(line)) {
      flush();
      const items = [line];
      while (i + 1 < lines.length && !RE.blank.test(lines[i + 1]) &&
             (RE.list.test(lines[i + 1]) || /^\s{2,}\S/.test(lines[i + 1]))) items.push(lines[++i]);
      out.push(renderList(items));
      continue;
    }
    para.push(line);
  }
  flush();
  return out.join("\n");
}
