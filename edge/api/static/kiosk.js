// Candidate screen: one large state, the name on pass, the challenge prompt with its countdown; never scores.
// Results fall back to "tap your card".
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("kiosk");
  const text = document.getElementById("kiosk-text");
  const name = document.getElementById("kiosk-name");
  const countdown = document.getElementById("kiosk-countdown");
  let timer = null;
  let ticker = null;
  function tick(deadline) {
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    countdown.textContent = EG.text("kiosk.countdown").replace("{s}", String(left));
    countdown.dataset.left = String(left);
    if (left === 0 && ticker) { clearInterval(ticker); ticker = null; }
  }
  function show(message) {
    if (timer) { clearTimeout(timer); timer = null; }
    if (ticker) { clearInterval(ticker); ticker = null; }
    const state = message.state;
    box.className = `kiosk-state state-${state}`;
    box.dataset.state = state;
    text.textContent = state === "challenge" && message.prompt ? message.prompt : EG.text("kiosk." + state);
    name.textContent = state === "pass" && message.name ? message.name : "";
    countdown.textContent = "";
    delete countdown.dataset.left;
    if (state === "challenge") {
      const deadline = Date.now() + (message.timeout_s || 0) * 1000;
      tick(deadline);
      ticker = setInterval(() => tick(deadline), 200);
    }
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
