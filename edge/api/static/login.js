"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const result = await EG.call("POST", "/api/login", {
      username: document.getElementById("username").value,
      password: document.getElementById("password").value,
    });
    if (result.status === 200) {
      const next = new URLSearchParams(window.location.search).get("next");
      window.location.assign(next && /^\/[^/\\]/.test(next) ? next : "/console");
    } else if (result.status === 429) {
      error.textContent = EG.text("login.locked") + " " + ((result.data && result.data.remedy) || "");
    } else {
      error.textContent = EG.text("login.failed");
    }
  });
});
