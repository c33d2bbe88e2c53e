// Officer-assisted admission: the form shows the confirmation each credential needs.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("assisted-form");
  const error = document.getElementById("assisted-error");
  const result = document.getElementById("assisted-result");
  const vneidRow = document.getElementById("vneid-row");
  const commitmentRow = document.getElementById("commitment-row");
  function credential() { return form.querySelector("input[name=credential]:checked").value; }
  function sync() {
    const vneid = credential() === "vneid_level2";
    vneidRow.hidden = !vneid;
    commitmentRow.hidden = vneid;
  }
  for (const radio of form.querySelectorAll("input[name=credential]")) radio.addEventListener("change", sync);
  sync();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = ""; result.textContent = "";
    const personalId = document.getElementById("personal_id").value.trim();
    if (!/^[0-9]{12}$/.test(personalId)) { error.textContent = EG.text("assisted.invalid_id"); return; }
    const body = {
      credential: credential(), personal_id: personalId,
      vneid_verified: document.getElementById("vneid_verified").checked,
      commitment_signed: document.getElementById("commitment_signed").checked,
      note: document.getElementById("note").value,
    };
    if (body.credential === "vneid_level2" && !body.vneid_verified) { error.textContent = EG.text("assisted.need_vneid"); return; }
    if (body.credential !== "vneid_level2" && !body.commitment_signed) {
      error.textContent = EG.text("assisted.need_commitment"); return;
    }
    const button = document.getElementById("assisted-submit");
    button.disabled = true;
    result.textContent = EG.text("assisted.running");
    const reply = await EG.call("POST", "/api/assisted", body);
    button.disabled = false;
    if (reply.status === 200) {
      const d = reply.data;
      result.textContent = `${EG.text("assisted.outcome")}: ${EG.text("outcome." + d.outcome)}`
        + ` · ${d.full_name || "—"} · ${(d.reasons || []).join(", ") || "—"}`;
    } else if (reply.status === 202) {
      result.textContent = EG.text("outcome.review");
    } else {
      result.textContent = "";
      error.textContent = (reply.data && reply.data.message) || String(reply.status);
    }
  });
});
