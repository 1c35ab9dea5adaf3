// The online/offline badge in the sidebar: GET /api/status every few seconds, with the number of
// writes waiting to sync and the model in its title.

import { api } from "./api.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { setStatus } from "./state.js";

export async function refreshStatus() {
  const badge = $("#status-badge");
  try {
    const s = await api("GET", "/api/status");
    setStatus(s);
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
