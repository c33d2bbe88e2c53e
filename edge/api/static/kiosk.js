// Candidate screen: one large state, the name on pass; never scores. Results fall back to "tap your card".
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("kiosk");
  const text = document.getElementById("kiosk-text");
  const name = document.getElementById("kiosk-name");
  let timer = null;
  function show(message) {
    if (timer) { clearTimeout(timer); timer = null; }
    const state = message.state;
    box.className = `kiosk-state state-${state}`;
    box.dataset.state = state;
    text.textContent = EG.text("kiosk." + state);
    name.textContent = state === "pass" && message.name ? message.name : "";
    if (state === "pass" || state === "see_proctor") {
      timer = setTimeout(() => show({ state: "idle" }), (message.hold_s || 6) * 1000);
    }
  }
  if (EG.boot.boot_kiosk) show(EG.boot.boot_kiosk);
  const source = new EventSource("/kiosk/events");
  source.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "kiosk") show(message);
  };
});
