// What could not be read in the documents of a chat: a small line per document and kind of
// problem under the document bar — pages without a text layer (or with an unreadable one) and the
// warnings of a file read in part. The server composes the Russian lines (document "notes").

export function pageRanges(pages) {
  const nums = [...new Set(pages)].sort((a, b) => a - b);
  const out = [];
  for (let k = 0; k < nums.length; ) {
    let j = k;
    while (j + 1 < nums.length && nums[j + 1] === nums[j] + 1) j += 1;
    out.push(j === k ? String(nums[k]) : `${nums[k]}–${nums[j]}`);
    k = j + 1;
  }
  return out.join(", ");
}

// Lines for one document: "«title»: стр. 3, 5–7 — нет текстового слоя …".
export function healthLines(doc) {
  const title = doc.title || doc.filename || doc.id;
  return (doc.notes || []).map((note) => `«${title}»: ${note}`);
}

export function renderDocHealth(box, documents, ids) {
  box.replaceChildren();
  for (const id of ids) {
    const doc = documents.find((d) => d.id === id);
    if (!doc) continue;
    for (const line of healthLines(doc)) {
      const row = document.createElement("div");
      row.className = "doc-health note";
      row.textContent = line;
      box.append(row);
    }
  }
  box.hidden = box.childElementCount === 0;
}
