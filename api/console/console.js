// The operator console: plain JavaScript against the service's own HTTP
// API, no framework and nothing fetched from elsewhere. Every value from
// the server goes into the page as text (textContent), never as HTML:
// locations, SKUs and dead letters are whatever a client sent.
"use strict";

const MAX_ROWS = 500; // the board keeps the positions changed last

const $ = (id) => document.getElementById(id);

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text === undefined || text === null ? "" : String(text);
  if (cls) td.className = cls;
  return td;
}

function show(id, text) { $(id).textContent = text || ""; }

// getJSON answers {status, body}; body is null when the answer is not JSON.
async function getJSON(url) {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  return { status: res.status, body };
}

function errorText(r, what, route) {
  const msg = r.body && r.body.error ? r.body.error : "HTTP " + r.status;
  if (r.status === 404) {
    // A route this server does not have also answers 404, with Echo's
    // plain "Not Found" or, under a longer path, the position's own 404.
    return what + ": " + msg + " (" + route + " answered 404; a server without this route answers the same).";
  }
  return what + ": " + msg;
}

const enc = encodeURIComponent;

// --- Live board -------------------------------------------------------

const board = { source: null, rows: new Map() };

function boardRow(ch) {
  const key = JSON.stringify([ch.locationId, ch.sku]);
  const tbody = $("board").tBodies[0];
  let tr = board.rows.get(key);
  if (tr) {
    tr.remove();
  } else {
    tr = document.createElement("tr");
    tr.dataset.location = ch.locationId;
    tr.dataset.sku = ch.sku;
    tr.addEventListener("click", () => {
      $("history-location").value = tr.dataset.location;
      $("history-sku").value = tr.dataset.sku;
      loadHistory();
    });
    board.rows.set(key, tr);
  }
  tr.replaceChildren();
  cell(tr, ch.locationId);
  cell(tr, ch.sku);
  const sellable = ch.sellable !== undefined ? ch.sellable : ch.count;
  cell(tr, sellable, "num count" + (sellable < 0 ? " negative" : ""));
  cell(tr, ch.onHand !== undefined ? ch.onHand : ch.adjusted, "num");
  cell(tr, ch.reserved, "num");
  cell(tr, ch.seq, "num");
  cell(tr, ch.updatedAt);
  tr.classList.remove("flash");
  void tr.offsetWidth; // restart the highlight
  tr.classList.add("flash");
  tbody.prepend(tr);
  while (tbody.rows.length > MAX_ROWS) {
    const last = tbody.rows[tbody.rows.length - 1];
    board.rows.delete(JSON.stringify([last.dataset.location, last.dataset.sku]));
    last.remove();
  }
}

function setStatus(text, cls) {
  const s = $("feed-status");
  s.textContent = text;
  s.className = "status " + (cls || "");
}

function watch() {
  if (board.source) board.source.close();
  board.rows.clear();
  $("board").tBodies[0].replaceChildren();
  show("board-note", "");
  const q = new URLSearchParams({ lastEventId: "0" });
  const loc = $("board-location").value.trim();
  const sku = $("board-sku").value.trim();
  if (loc) q.set("location", loc);
  if (sku) q.set("sku", sku);
  // lastEventId=0: every position's newest value first. On a reconnect
  // the browser sends Last-Event-ID itself, which the server prefers, so
  // the board resumes where it was.
  const es = new EventSource("/inventory/changes?" + q.toString());
  board.source = es;
  setStatus("connecting");
  es.onopen = () => setStatus("live", "live");
  es.onerror = () => setStatus("reconnecting", "down");
  es.addEventListener("change", (ev) => boardRow(JSON.parse(ev.data)));
  for (const name of ["dropped", "closed"]) {
    es.addEventListener(name, (ev) => {
      const end = JSON.parse(ev.data);
      show("board-note", "The server ended the feed (" + end.reason + "); reconnecting after change " + end.lastEventId + ".");
    });
  }
}

// --- History ----------------------------------------------------------

async function loadHistory() {
  const loc = $("history-location").value.trim();
  const sku = $("history-sku").value.trim();
  const table = $("history");
  table.hidden = true;
  if (!loc || !sku) return;
  const route = "/inventory/locations/" + enc(loc) + "/skus/" + enc(sku) + "/history";
  show("history-message", "Loading…");
  let r;
  try { r = await getJSON(route + "?limit=50"); } catch (e) { show("history-message", "History: " + e); return; }
  if (r.status !== 200) { show("history-message", errorText(r, "History", "GET " + route)); return; }
  const items = (r.body && (r.body.items || r.body.events)) || [];
  show("history-message", items.length ? "" : "No events for this position.");
  const tbody = table.tBodies[0];
  tbody.replaceChildren();
  for (const ev of items) {
    const tr = tbody.insertRow();
    cell(tr, ev.seq !== undefined ? ev.seq : ev.sequence, "num");
    cell(tr, ev.time || ev.storedAt || ev.at);
    cell(tr, ev.kind || ev.type);
    cell(tr, ev.count, "num");
    cell(tr, ev.reason);
    cell(tr, ev.reference, "wrap");
    cell(tr, ev.source);
  }
  table.hidden = items.length === 0;
}

// --- Reservation ------------------------------------------------------

async function loadReservation() {
  const id = $("reservation-id").value.trim();
  const pre = $("reservation");
  pre.hidden = true;
  if (!id) return;
  const route = "/inventory/reservations/" + enc(id);
  let r;
  try { r = await getJSON(route); } catch (e) { show("reservation-message", "Reservation: " + e); return; }
  if (r.status !== 200) { show("reservation-message", errorText(r, "Reservation lookup", "GET " + route)); return; }
  show("reservation-message", "");
  pre.textContent = JSON.stringify(r.body, null, 2);
  pre.hidden = false;
}

// --- Dead letters -----------------------------------------------------

async function loadDeadLetters() {
  const table = $("deadletters");
  let r;
  try { r = await getJSON("/inventory/deadletters?limit=50"); } catch (e) { show("deadletters-message", "Dead letters: " + e); return; }
  if (r.status !== 200) { table.hidden = true; show("deadletters-message", errorText(r, "Dead letters", "GET /inventory/deadletters")); return; }
  const items = r.body.items || [];
  show("deadletters-message", items.length ? "" : "No dead letters: every message was applied.");
  const tbody = table.tBodies[0];
  tbody.replaceChildren();
  for (const d of items) {
    const tr = tbody.insertRow();
    cell(tr, d.seq, "num");
    cell(tr, d.storedAt);
    cell(tr, d.partition, "num");
    cell(tr, d.reason, "wrap");
    cell(tr, d.subject, "wrap");
    cell(tr, d.originalSeq, "num");
    cell(tr, d.body !== undefined ? d.body : "(" + d.bodyBytes + " bytes, not text)", "wrap");
  }
  table.hidden = items.length === 0;
}

// --- Partitions -------------------------------------------------------

async function loadPartitions() {
  const table = $("partitions");
  let r;
  try { r = await getJSON("/calculator/status"); } catch (e) { show("partitions-message", "Partitions: " + e); return; }
  if (r.status !== 200) {
    table.hidden = true;
    show("partitions-message", errorText(r, "Partition status", "GET /calculator/status") + " Query services without a calculator have none.");
    return;
  }
  const st = r.body;
  show("partitions-message", "");
  show("partitions-instance", "instance " + st.instance + ", owns " + (st.owned || []).length + " of " + st.partitions);
  const owned = new Set(st.owned || []);
  const tbody = table.tBodies[0];
  tbody.replaceChildren();
  for (let p = 0; p < st.partitions; p++) {
    const s = (st.stats && st.stats[p]) || {};
    const tr = tbody.insertRow();
    cell(tr, p, "num");
    cell(tr, owned.has(p) ? "this instance" : "another instance");
    cell(tr, s.applied, "num");
    cell(tr, s.lastSeq, "num");
    cell(tr, s.lag, "num" + (s.lag > 0 ? " negative" : ""));
    cell(tr, s.deadLettered, "num");
    cell(tr, s.stalled ? "stalled: " + (s.stalledReason || "") : (owned.has(p) ? "running" : ""), s.stalled ? "negative wrap" : "");
  }
  table.hidden = false;
}

// --- Wiring -----------------------------------------------------------

function onSubmit(id, fn) {
  $(id).addEventListener("submit", (ev) => { ev.preventDefault(); fn(); });
}

onSubmit("board-filter", watch);
onSubmit("history-form", loadHistory);
onSubmit("reservation-form", loadReservation);
$("deadletters-refresh").addEventListener("click", loadDeadLetters);
watch();
loadDeadLetters();
loadPartitions();
setInterval(loadPartitions, 5000);
