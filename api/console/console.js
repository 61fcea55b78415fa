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

// --- Token ------------------------------------------------------------
//
// On a deployment with API keys or JWTs every call but the page itself
// needs "Authorization: Bearer <token>". The token is typed into the
// header's field and kept in sessionStorage (this tab only, gone when it
// closes); it is sent only in that header, never put in a URL, the page
// or the log. EventSource cannot send a header, so the board reads the
// feed with fetch (below).

const TOKEN_KEY = "inventory.console.token";

function token() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
}

function setToken(t) {
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
  } catch (e) { /* storage disabled: the token lasts until the next reload */ }
  tokenState(t);
}

function tokenState(t) {
  show("token-state", (t || token()) ? "token set for this tab" : "no token");
}

function headers(extra) {
  const h = Object.assign({}, extra);
  const t = token();
  if (t) h.Authorization = "Bearer " + t;
  return h;
}

// authText explains a 401 or 403, the server's words included.
function authText(status, body, what) {
  const msg = body && body.error ? ": " + body.error : "";
  if (status === 401) {
    return what + ": 401 Unauthorized" + msg + ". This server needs a token: enter an API key or JWT above.";
  }
  return what + ": 403 Forbidden" + msg + ". The token lacks the scope this needs.";
}

// authProblem shows (or, with null, clears) the page-wide 401/403 banner
// for one source of calls; the banner shows every source's problem.
const authProblems = new Map();
function authProblem(source, text) {
  if (text) authProblems.set(source, text); else authProblems.delete(source);
  show("auth-message", Array.from(authProblems.values()).join(" "));
}

// getJSON answers {status, body}; body is null when the answer is not
// JSON. A 401 also goes to the banner (every panel needs the token; a
// 403 concerns one panel, which says so itself), until what answered it
// answers otherwise.
async function getJSON(url, what) {
  const res = await fetch(url, { headers: headers({ Accept: "application/json" }), cache: "no-store" });
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  authProblem(what, res.status === 401 ? authText(401, body, what) : null);
  return { status: res.status, body };
}

function errorText(r, what, route) {
  if (r.status === 401 || r.status === 403) return authText(r.status, r.body, what);
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

// --- Server-Sent Events over fetch ------------------------------------
//
// sseParser is the event stream format of the HTML standard: fed text as
// it arrives, in chunks cut anywhere (inside a line, between \r and \n),
// it calls onEvent({type, data, id}) for each event ended by a blank
// line. Lines starting with ":" are comments (the server's heartbeats);
// "id" sets the id that a reconnect resumes after (and stays set for the
// events after it); "retry" sets the reconnection delay; a field without
// a colon has an empty value; one space after the colon is dropped; a
// block without data dispatches nothing.
function sseParser(onEvent, onRetry, onComment) {
  let buf = "", data = [], type = "", lastId = "", sawData = false, first = true, skipLF = false;
  function line(l) {
    if (l === "") {
      if (sawData) onEvent({ type: type || "message", data: data.join("\n"), id: lastId });
      data = []; type = ""; sawData = false;
      return;
    }
    if (l[0] === ":") { if (onComment) onComment(l.slice(1).trim()); return; }
    const i = l.indexOf(":");
    const field = i < 0 ? l : l.slice(0, i);
    let value = i < 0 ? "" : l.slice(i + 1);
    if (value[0] === " ") value = value.slice(1);
    switch (field) {
      case "event": type = value; break;
      case "data": data.push(value); sawData = true; break;
      case "id": if (value.indexOf("\0") < 0) lastId = value; break;
      case "retry": if (/^\d+$/.test(value) && onRetry) onRetry(Number(value)); break;
      default: break; // unknown fields are ignored
    }
  }
  return {
    push(text) {
      if (first && text.length) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      if (skipLF && text[0] === "\n") text = text.slice(1);
      skipLF = false;
      buf += text;
      let start = 0;
      for (let i = 0; i < buf.length; i++) {
        const c = buf[i];
        if (c !== "\n" && c !== "\r") continue;
        line(buf.slice(start, i));
        if (c === "\r") {
          if (i + 1 < buf.length) { if (buf[i + 1] === "\n") i++; } else skipLF = true;
        }
        start = i + 1;
      }
      buf = buf.slice(start);
    },
    lastEventId() { return lastId; },
  };
}

// openFeed reads url as an event stream with fetch, so that it can carry
// the bearer token, and reconnects as EventSource would: after the
// server's retry delay (1 s until it sends one, doubling to 30 s while
// connecting fails), sending the last id seen as the Last-Event-ID
// header. A 401 or 403 is not retried: a new token starts a new feed.
// h: {onOpen, onEvent, onError(status, body), onDown(why)}. Answers
// {close()}.
function openFeed(url, h) {
  let closed = false, ctl = null, lastId = "", retry = 1000, failures = 0, timer = null;
  async function connect() {
    if (closed) return;
    ctl = new AbortController();
    const hdrs = headers({ Accept: "text/event-stream" });
    if (lastId) hdrs["Last-Event-ID"] = lastId; // the server prefers it to ?lastEventId
    let res;
    try {
      res = await fetch(url, { headers: hdrs, cache: "no-store", signal: ctl.signal });
    } catch (e) {
      return again("cannot connect: " + e.message);
    }
    if (closed) { // closed (a new token, a new filter) while the answer came
      if (res.body) res.body.cancel().catch(() => {});
      return;
    }
    if (res.status === 401 || res.status === 403) {
      let body = null;
      try { body = await res.json(); } catch (e) { body = null; }
      closed = true;
      h.onError(res.status, body);
      return;
    }
    if (!res.ok || !res.body) {
      let body = null;
      try { body = await res.json(); } catch (e) { body = null; }
      return again("HTTP " + res.status + (body && body.error ? ": " + body.error : ""));
    }
    failures = 0;
    h.onOpen();
    const parser = sseParser(
      (ev) => { if (ev.id) lastId = ev.id; h.onEvent(ev); },
      (ms) => { retry = ms; });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
      }
    } catch (e) {
      if (closed) return;
      return again("connection lost: " + e.message);
    }
    again("the server ended the feed");
  }
  function again(why) {
    if (closed) return;
    failures++;
    h.onDown(why);
    const wait = failures > 1 ? Math.min(30000, retry * 2 ** (failures - 1)) : retry;
    timer = setTimeout(connect, wait);
  }
  connect();
  return {
    close() { closed = true; clearTimeout(timer); if (ctl) ctl.abort(); },
    lastEventId() { return lastId; },
  };
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
  // lastEventId=0: every position's newest value first. A reconnect
  // sends Last-Event-ID, which the server prefers, so the board resumes
  // where it was.
  setStatus("connecting");
  const status = $("feed-status");
  board.source = openFeed("/inventory/changes?" + q.toString(), {
    onOpen() { setStatus("live", "live"); authProblem("feed", null); },
    onEvent(ev) {
      status.dataset.lastEventId = ev.id;
      if (ev.type === "change") {
        boardRow(JSON.parse(ev.data));
      } else if (ev.type === "dropped" || ev.type === "closed") {
        const end = JSON.parse(ev.data);
        show("board-note", "The server ended the feed (" + end.reason + "); reconnecting after change " + end.lastEventId + ".");
      }
    },
    onError(st, body) {
      setStatus(st === 401 ? "401 unauthorized" : "403 forbidden", "down");
      authProblem("feed", authText(st, body, "Live board"));
    },
    onDown(why) { setStatus("reconnecting", "down"); show("board-note", "Feed interrupted (" + why + "); reconnecting."); },
  });
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
  try { r = await getJSON(route + "?limit=50", "History"); } catch (e) { show("history-message", "History: " + e); return; }
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
  try { r = await getJSON(route, "Reservation lookup"); } catch (e) { show("reservation-message", "Reservation: " + e); return; }
  if (r.status !== 200) { show("reservation-message", errorText(r, "Reservation lookup", "GET " + route)); return; }
  show("reservation-message", "");
  pre.textContent = JSON.stringify(r.body, null, 2);
  pre.hidden = false;
}

// --- Dead letters -----------------------------------------------------

async function loadDeadLetters() {
  const table = $("deadletters");
  let r;
  try { r = await getJSON("/inventory/deadletters?limit=50", "Dead letters"); } catch (e) { show("deadletters-message", "Dead letters: " + e); return; }
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
  try { r = await getJSON("/calculator/status", "Partition status"); } catch (e) { show("partitions-message", "Partitions: " + e); return; }
  if (r.status !== 200) {
    table.hidden = true;
    show("partitions-message", errorText(r, "Partition status", "GET /calculator/status") +
      (r.status === 404 ? " Query services without a calculator have none." : ""));
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

// useToken takes the field's token (or none) and reloads what needs it;
// the field is emptied so the token is not left on screen.
function useToken(t) {
  setToken(t);
  $("token").value = "";
  authProblems.clear();
  show("auth-message", "");
  watch();
  loadDeadLetters();
  loadPartitions();
}

function onSubmit(id, fn) {
  $(id).addEventListener("submit", (ev) => { ev.preventDefault(); fn(); });
}

$("token-use").addEventListener("click", () => useToken($("token").value.trim()));
$("token").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter") { ev.preventDefault(); useToken($("token").value.trim()); }
});
$("token-forget").addEventListener("click", () => useToken(""));
tokenState();
onSubmit("board-filter", watch);
onSubmit("history-form", loadHistory);
onSubmit("reservation-form", loadReservation);
$("deadletters-refresh").addEventListener("click", loadDeadLetters);
watch();
loadDeadLetters();
loadPartitions();
setInterval(loadPartitions, 5000);
