// Talking to the AIZoomDoc API: JSON requests with Russian error messages, uploads with
// progress (XMLHttpRequest: upload bytes, then ingest stages as NDJSON lines).

import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// Sent with every request: marks it as coming from this UI (the server requires it for
// cookie-authenticated writes, which other sites cannot forge).
const HEADERS = { "X-AIZoomDoc": "1" };

export async function api(method, path, body) {
  const opts = { method, headers: { ...HEADERS }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, opts);
  } catch (e) {
    throw new ApiError(t("error.network"), 0);
  }
  if (resp.status === 204) return null;
  let data = null;
  try {
    data = await resp.json();
  } catch (e) {
    data = null;
  }
  if (!resp.ok) {
    const message = (data && data.error) || t("error.generic", { message: resp.status });
    throw new ApiError(message, resp.status);
  }
  return data;
}

// Upload one file: onProgress({phase: "upload", percent}) while bytes go up, then
// onProgress({phase: "ingest", stage, message}) per ingest stage. Resolves with the documents.
export function uploadDocument(file, { chatId, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const url = "/api/documents" + (chatId ? `?chat_id=${encodeURIComponent(chatId)}` : "");
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/x-ndjson");
    xhr.setRequestHeader("X-AIZoomDoc", "1");
    xhr.withCredentials = true;
    let seen = 0;
    const docs = [];
    let failure = null;
    const consume = () => {
      const text = xhr.responseText || "";
      let nl;
      while ((nl = text.indexOf("\n", seen)) >= 0) {
        const line = text.slice(seen, nl).trim();
        seen = nl + 1;
        if (!line) continue;
        let msg;
        try { msg = JSON.parse(line); } catch (e) { continue; }
        if (msg.type === "progress" && onProgress) onProgress({ phase: "ingest", stage: msg.stage, message: msg.message });
        else if (msg.type === "document") docs.push(msg.document);
        else if (msg.type === "error") failure = new ApiError(msg.error, msg.status || 500);
      }
    };
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && onProgress) {
        onProgress({ phase: "upload", percent: Math.round((e.loaded / e.total) * 100) });
      }
    };
    xhr.onprogress = () => { if (xhr.status < 300) consume(); };
    xhr.onerror = () => reject(new ApiError(t("error.network"), 0));
    xhr.onload = () => {
      if (xhr.status >= 300) {
        let message = t("error.generic", { message: xhr.status });
        try { message = JSON.parse(xhr.responseText).error || message; } catch (e) { /* not JSON */ }
        reject(new ApiError(message, xhr.status));
        return;
      }
      consume();
      if (failure) reject(failure);
      else resolve(docs);
    };
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}
