// Proctor console: the queue of reviews and the recent decisions, kept live by server-sent events.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const queue = document.getElementById("queue");
  const empty = document.getElementById("queue-empty");
  const decisions = document.getElementById("decisions");
  const banner = document.getElementById("gate-banner");
  const template = document.getElementById("review-template");
  const canDecide = EG.boot.role === "proctor";
  const cards = new Map();

  function fmt(value) { return value === null || value === undefined ? "—" : String(value); }
  function score(value) { return typeof value === "number" ? value.toFixed(3) : "—"; }

  function refreshEmpty() { empty.hidden = cards.size > 0; }

  // A review PAD asked for: each reason explained (Vietnamese first), the score against its thresholds, the signals.
  function showPad(section, item) {
    section.hidden = false;
    const reasons = section.querySelector(".pad-reasons");
    for (const code of item.pad.reasons) {
      const li = document.createElement("li");
      li.dataset.reason = code;
      li.textContent = `${EG.text("pad." + code)} (${code})`;
      reasons.appendChild(li);
    }
    const body = section.querySelector(".pad-signals tbody");
    const signals = Object.entries(item.pad_signals || {});
    if (!signals.length) {
      const row = body.insertRow();
      row.insertCell().textContent = EG.text("console.pad_no_signals");
    }
    for (const [name, value] of signals) {
      const row = body.insertRow();
      row.dataset.signal = name;
      row.insertCell().textContent = EG.boot.t["pad.signal." + name] || name;
      row.insertCell().textContent = typeof value === "number" ? value.toFixed(3) : fmt(value);
    }
  }

  function addReview(item) {
    if (cards.has(item.attempt_id)) return;
    const node = template.content.firstElementChild.cloneNode(true);
    node.dataset.attempt = item.attempt_id;
    const fields = {
      full_name: fmt(item.full_name), candidate_id: fmt(item.candidate_id), id_masked: fmt(item.id_masked),
      birth_date: fmt(item.birth_date), face_score: score(item.face_score), pad_score: score(item.pad_score), face_attempts: fmt(item.face_attempts),
      thresholds: item.match_threshold === undefined ? "—"
        : `${score(item.match_threshold)} / ${score(item.review_threshold)} (${item.thresholds_version})`,
      reasons: (item.reasons || []).join(", ") || "—",
    };
    if (item.pad) fields.pad_thresholds = `${score(item.pad.threshold)} / ${score(item.pad.attack_threshold)}`;
    for (const [name, value] of Object.entries(fields)) {
      for (const cell of node.querySelectorAll(`[data-field="${name}"]`)) cell.textContent = value;
    }
    if (item.pad) showPad(node.querySelector("section.pad"), item);
    for (const img of node.querySelectorAll("img[data-kind]")) {
      if (!canDecide) { img.replaceWith(document.createTextNode(EG.text("console.noimage"))); continue; }
      img.src = `/api/reviews/${encodeURIComponent(item.attempt_id)}/images/${img.dataset.kind}`;
      img.addEventListener("error", () => { img.alt = EG.text("console.noimage"); img.classList.add("missing"); });
    }
    const form = node.querySelector("form.decide");
    if (!canDecide) form.remove();
    else {
      const error = form.querySelector(".error");
      const send = async (approved) => {
        const reason = form.querySelector(".reason").value.trim();
        if (reason.length < 3) { error.textContent = EG.text("console.reason_required"); return; }
        for (const b of form.querySelectorAll("button")) b.disabled = true;
        const result = await EG.call("POST", `/api/reviews/${encodeURIComponent(item.attempt_id)}`, { approved, reason });
        if (result.status === 200) { node.classList.add("answered"); error.textContent = ""; return; }
        error.textContent = result.status === 409 ? EG.text("console.conflict")
          : ((result.data && result.data.message) || String(result.status));
        for (const b of form.querySelectorAll("button")) b.disabled = result.status === 409;
      };
      form.querySelector(".approve").addEventListener("click", () => send(true));
      form.querySelector(".deny").addEventListener("click", () => send(false));
    }
    cards.set(item.attempt_id, node);
    queue.appendChild(node);
    refreshEmpty();
  }

  function removeReview(attemptId) {
    const node = cards.get(attemptId);
    if (node) { node.remove(); cards.delete(attemptId); refreshEmpty(); }
  }

  function addDecision(d) {
    const li = document.createElement("li");
    li.className = `outcome-${d.outcome}`;
    li.dataset.attempt = d.attempt_id;
    const who = d.reviewed_by ? ` · ${d.reviewed_by}` : "";
    li.textContent = `${(d.at || "").slice(11, 19)} ${EG.text("outcome." + d.outcome)} · ${fmt(d.full_name)}`
      + ` · ${fmt(d.id_masked)} · ${(d.reasons || []).join(", ") || "—"}${who}`;
    decisions.prepend(li);
    while (decisions.children.length > 50) decisions.lastChild.remove();
  }

  async function load() {
    const result = await EG.call("GET", "/api/reviews");
    if (result.status !== 200) return;
    for (const item of result.data.items) addReview(item);
    for (const stale of result.data.stale) {  // recorded as pending, but no lane is waiting (restart): not answerable
      const li = document.createElement("li");
      li.className = "stale";
      li.textContent = `${EG.text("console.stale")} ${stale.attempt_id} · ${(stale.reasons || []).join(", ")}`;
      decisions.appendChild(li);
    }
    for (const d of result.data.recent) addDecision(d);
  }

  function listen() {
    const source = new EventSource("/api/events");
    source.onmessage = async (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "review") {
        const fresh = await EG.call("GET", "/api/reviews");
        const full = fresh.status === 200 && fresh.data.items.find((i) => i.attempt_id === message.item.attempt_id);
        addReview(full || message.item);
      } else if (message.type === "decision") {
        removeReview(message.attempt_id);
        addDecision(message);
      } else if (message.type === "gate_opened") {
        banner.hidden = false;
        banner.dataset.attempt = message.attempt_id || "";
        banner.textContent = `${EG.text("console.gate_opened")} ${(message.at || "").slice(11, 19)}`;
      }
    };
  }
  load().then(listen);
});
