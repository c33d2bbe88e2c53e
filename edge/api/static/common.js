// Shared by every screen: the page's boot data, JSON calls with the CSRF header, logout.
"use strict";
const EG = (() => {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  async function call(method, url, body) {
    const headers = { "X-CSRF-Token": boot.csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (_e) { data = null; }
    return { status: response.status, data };
  }
  function text(key) { return boot.t[key] || key; }
  document.addEventListener("DOMContentLoaded", () => {
    const logout = document.getElementById("logout");
    if (logout) logout.addEventListener("click", async () => {
      await call("POST", "/api/logout", {});
      window.location.assign("/login");
    });
  });
  return { boot, call, text };
})();
