// Signing in (server mode): who is signed in, the token form when the server answers 401, and
// signing out.

import { api } from "./api.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";

export async function ensureLogin() {
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

export async function logout() {
  await api("DELETE", "/api/auth/session");
  location.reload();
}
