// Load generator for `make bench`: N customers + M agents over socket.io-client (WebSocket only).
//
// Started by bench/run.py with the path of a JSON config; talks JSON lines on stdout and reads commands
// ("go", "quit") on stdin. Phases: connect agents -> connect customers (+ chat:start, wait for
// chat:assigned) -> "ready" -> on "go": send message:send at the target aggregate rate for the
// given seconds, open loop (the schedule does not wait for answers), then wait for every ack and
// delivery (bounded) -> "result"; another "go" measures another window. Everything it does is bounded in count and time; a hard timer
// ends the process whatever happens.
//
// Latencies are measured in this one process with performance.now() (monotonic): ack = send ->
// ack callback; end-to-end = send -> message:new at the other side of the conversation. The send
// time is also in the message body, so a capture shows it.

import { io } from "socket.io-client";
import { performance } from "node:perf_hooks";
import readline from "node:readline";
import { readFileSync } from "node:fs";

const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const {
  url, agentTokens, customerTokens = [], customers: customerCount, rate, seconds,
  agentShare = 0.5, bodyBytes = 100, connectConcurrency = 50, connectTimeoutMs = 30000,
  ackTimeoutMs = 10000, drainMs = 10000, hardTimeoutMs = 600000, idleOnly = false, tickMs = 2,
} = cfg;

const hardTimer = setTimeout(() => { emit({ phase: "error", error: "hard timeout" }); process.exit(3); }, hardTimeoutMs);
hardTimer.unref();

function emit(obj) { process.stdout.write(JSON.stringify(obj) + "\n"); }
const now = () => performance.now();

function pct(values) {
  if (values.length === 0) return null;
  const v = Float64Array.from(values).sort();
  const at = (q) => v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))];
  let sum = 0;
  for (const x of v) sum += x;
  const r = (x) => Math.round(x * 100) / 100;
  return { n: v.length, mean: r(sum / v.length), p50: r(at(0.5)), p95: r(at(0.95)), p99: r(at(0.99)), max: r(v[v.length - 1]) };
}

function waitFor(socket, event, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.off(event, on); reject(new Error(`no ${event} within ${timeoutMs} ms`)); }, timeoutMs);
    const on = (data) => { clearTimeout(timer); resolve(data); };
    socket.once(event, on);
  });
}

function connect(namespace, auth) {
  return io(url + namespace, {
    transports: ["websocket"], forceNew: true, reconnection: false, timeout: connectTimeoutMs, auth,
  });
}

async function pool(count, concurrency, work) {
  let next = 0;
  const errors = [];
  async function worker() {
    while (next < count) {
      const i = next++;
      try { await work(i); } catch (err) { errors.push(String(err && err.message || err)); }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return errors;
}

// -- state --------------------------------------------------------------------------------
const pending = new Map(); // client_id -> {t0, from: "customer"|"agent", acked, delivered, echoed}
const ackLat = [];
const e2eLat = [];
const connectAgent = [];
const connectCustomer = [];
const sessionCustomer = [];
const assignCustomer = [];
const counters = { sent: 0, acked: 0, ackErrors: 0, ackTimeouts: 0, delivered: 0, duplicates: 0, unexpected: 0, outOfOrder: 0, lateSends: 0 };
const ackErrorCodes = {};
const lastSeq = new Map(); // `${side}:${conversation_id}` -> last seq seen by that side
const agents = [];    // {socket, chats: [conversation_id]}
const customers = []; // {socket, conversationId}
let measuring = false;
let lastDeliveryAt = 0;

function onMessageNew(side, msg) {
  if (!msg || typeof msg.client_id !== "string") return;
  const key = side + ":" + msg.conversation_id;
  const prev = lastSeq.get(key) || 0;
  if (msg.seq <= prev) counters.outOfOrder++;
  else lastSeq.set(key, msg.seq);
  const p = pending.get(msg.client_id);
  if (p === undefined) { if (measuring) counters.unexpected++; return; }
  if (p.from === side) { p.echoed++; return; } // the sender's side (its other tabs get a copy)
  p.delivered++;
  if (p.delivered === 1) { counters.delivered++; lastDeliveryAt = now(); e2eLat.push(lastDeliveryAt - p.t0); }
  else counters.duplicates++;
}

async function connectAgents() {
  const errors = await pool(agentTokens.length, connectConcurrency, async (i) => {
    const t0 = now();
    const socket = connect("/agent", { token: agentTokens[i] });
    const agent = { socket, chats: [], next: 0 };
    agents.push(agent);
    socket.on("chat:assigned", (d) => { if (d && d.conversation) agent.chats.push(d.conversation.id); });
    // a warm start: chats assigned before the server started come in the session
    socket.once("session", (d) => { for (const c of (d && d.conversations) || []) if (c.status === "active") agent.chats.push(c.id); });
    socket.on("message:new", (m) => onMessageNew("agent", m));
    const session = waitFor(socket, "session", connectTimeoutMs);
    await Promise.race([waitFor(socket, "connect", connectTimeoutMs), waitFor(socket, "connect_error", connectTimeoutMs).then((e) => { throw e; })]);
    connectAgent.push(now() - t0);
    await session;
    const ack = await socket.timeout(ackTimeoutMs).emitWithAck("presence:set", { status: "online" });
    if (!ack || !ack.ok) throw new Error("presence:set refused: " + JSON.stringify(ack));
  });
  return errors;
}

async function connectCustomers() {
  const errors = await pool(customerCount, connectConcurrency, async (i) => {
    const t0 = now();
    const warm = i < customerTokens.length;
    const socket = connect("/customer", warm ? { token: customerTokens[i] } : undefined);
    const customer = { socket, conversationId: null };
    customers.push(customer);
    socket.on("message:new", (m) => onMessageNew("customer", m));
    const session = waitFor(socket, "session", connectTimeoutMs);
    await Promise.race([waitFor(socket, "connect", connectTimeoutMs), waitFor(socket, "connect_error", connectTimeoutMs).then((e) => { throw e; })]);
    connectCustomer.push(now() - t0);
    const started = await session;
    sessionCustomer.push(now() - t0);
    if (warm) {
      if (!started || !started.conversation) throw new Error("warm customer without an open conversation");
      customer.conversationId = started.conversation.id;
      return;
    }
    if (idleOnly) return;
    const t1 = now();
    const assigned = waitFor(socket, "chat:assigned", connectTimeoutMs);
    assigned.catch(() => {});
    const ack = await socket.timeout(ackTimeoutMs).emitWithAck("chat:start", {});
    if (!ack || !ack.ok) throw new Error("chat:start refused: " + JSON.stringify(ack && ack.error));
    customer.conversationId = ack.conversation.id;
    await assigned;
    assignCustomer.push(now() - t1);
  });
  return errors;
}

// -- the measured load --------------------------------------------------------------------
let seq = 0;
const pad = "x".repeat(Math.max(0, bodyBytes));

function send(from, socket, conversationId) {
  const clientId = `b${process.pid}-${++seq}`;
  const t0 = now();
  const head = `t=${(performance.timeOrigin + t0).toFixed(3)} ${clientId} `;
  const body = head + pad.slice(0, Math.max(1, bodyBytes - head.length));
  const p = { t0, from, answered: false, acked: false, delivered: 0, echoed: 0 };
  pending.set(clientId, p);
  counters.sent++;
  socket.timeout(ackTimeoutMs).emit("message:send", { conversation_id: conversationId, client_id: clientId, body }, (err, ack) => {
    p.answered = true;
    if (err) { counters.ackTimeouts++; return; }
    if (ack && ack.ok) { p.acked = true; counters.acked++; ackLat.push(now() - t0); }
    else {
      counters.ackErrors++;
      const code = (ack && ack.error && ack.error.code) || "unknown";
      ackErrorCodes[code] = (ackErrorCodes[code] || 0) + 1;
    }
  });
}

function runLoad() {
  return new Promise((resolve) => {
    const talkers = customers.filter((c) => c.conversationId);
    const agentList = agents.filter((a) => a.chats.length > 0);
    const total = Math.round(rate * seconds);
    let ci = 0, ai = 0, agentSends = 0;
    const start = now();
    const cpu0 = process.cpuUsage();
    let maxBehind = 0;
    const timer = setInterval(() => {
      const elapsed = (now() - start) / 1000;
      const due = Math.min(total, Math.floor(elapsed * rate));
      const behind = due - counters.sent;
      if (behind > maxBehind) maxBehind = behind;
      if (behind > 1) counters.lateSends += behind - 1;
      while (counters.sent < due) {
        // keep the agent share exact: send from an agent whenever agents are behind their share
        const fromAgent = agentList.length > 0 && (talkers.length === 0 || agentSends < Math.round((counters.sent + 1) * agentShare));
        if (fromAgent) {
          const a = agentList[ai++ % agentList.length];
          const conv = a.chats[a.next++ % a.chats.length];
          agentSends++;
          send("agent", a.socket, conv);
        } else {
          const c = talkers[ci++ % talkers.length];
          send("customer", c.socket, c.conversationId);
        }
      }
      if (counters.sent >= total || elapsed > seconds + 5) {
        clearInterval(timer);
        const sendSeconds = (now() - start) / 1000;
        resolve({ start, sendSeconds, cpu0, maxBehind, agentSends });
      }
    }, tickMs);
  });
}

// Wait (bounded) until every send is answered and every acked message has reached the other side.
async function drain(limitMs) {
  const deadline = now() + limitMs;
  while (now() < deadline) {
    let open = 0;
    for (const p of pending.values()) if (!p.answered || (p.acked && p.delivered === 0)) open++;
    if (open === 0) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

function resetMeasures() {
  pending.clear();
  ackLat.length = 0;
  e2eLat.length = 0;
  for (const key of Object.keys(counters)) counters[key] = 0;
  for (const key of Object.keys(ackErrorCodes)) delete ackErrorCodes[key];
  lastDeliveryAt = 0;
}

// -- main ---------------------------------------------------------------------------------
async function main() {
  const cpuStart = process.cpuUsage();
  // agents first: live chats need them online, and a warm start then looks like a restart
  // during a shift (consoles reconnect, then the widgets)
  let t = now();
  const agentErrors = await connectAgents();
  const agentsSeconds = (now() - t) / 1000;
  t = now();
  const customerErrors = await connectCustomers();
  const customersSeconds = (now() - t) / 1000;
  const seats = agents.reduce((n, a) => n + a.chats.length, 0);
  emit({
    phase: "ready",
    agents: { connected: connectAgent.length, errors: agentErrors.length, firstError: agentErrors[0] || null, seconds: agentsSeconds, connect_ms: pct(connectAgent) },
    customers: {
      connected: connectCustomer.length, errors: customerErrors.length, firstError: customerErrors[0] || null, seconds: customersSeconds,
      connect_ms: pct(connectCustomer), session_ms: pct(sessionCustomer), assign_ms: pct(assignCustomer),
      in_chat: customers.filter((c) => c.conversationId).length,
    },
    assigned_seats: seats,
    setup_cpu_ms: (() => { const u = process.cpuUsage(cpuStart); return (u.user + u.system) / 1000; })(),
  });

  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const command = line.trim();
    if (command === "quit") break;
    if (command !== "go") continue;
    resetMeasures(); // each "go" is a window of its own
    measuring = true;
    const load = await runLoad();
    const drained = await drain(drainMs);
    const end = now();
    measuring = false;
    const cpu = process.cpuUsage(load.cpu0);
    let lost = 0, unacked = 0, ackedNotDelivered = 0;
    for (const p of pending.values()) {
      if (!p.acked) unacked++;
      if (p.acked && p.delivered === 0) ackedNotDelivered++;
      if (p.delivered === 0) lost++;
    }
    const windowSeconds = (end - load.start) / 1000;
    const deliverySeconds = lastDeliveryAt > load.start ? (lastDeliveryAt - load.start) / 1000 : load.sendSeconds;
    emit({
      phase: "result",
      sent: counters.sent, agent_sends: load.agentSends, acked: counters.acked, ack_errors: counters.ackErrors, ack_error_codes: ackErrorCodes,
      ack_timeouts: counters.ackTimeouts, delivered: counters.delivered, duplicates: counters.duplicates,
      unexpected: counters.unexpected, out_of_order: counters.outOfOrder,
      lost_acked: ackedNotDelivered, undelivered: lost, unacked,
      send_seconds: load.sendSeconds, window_seconds: windowSeconds,
      offered_rate: counters.sent / load.sendSeconds,
      achieved_rate: counters.delivered / Math.max(load.sendSeconds, deliverySeconds), delivery_seconds: deliverySeconds, drained,
      max_behind: load.maxBehind, late_sends: counters.lateSends,
      ack_ms: pct(ackLat), e2e_ms: pct(e2eLat),
      loadgen_cpu_ms: (cpu.user + cpu.system) / 1000,
      loadgen_cpu_pct: Math.round(((cpu.user + cpu.system) / 1000) / (windowSeconds * 1000) * 1000) / 10,
    });
  }
  rl.close();
  for (const s of [...customers, ...agents]) s.socket.disconnect();
  emit({ phase: "bye" });
  setTimeout(() => process.exit(0), 200).unref();
}

main().catch((err) => { emit({ phase: "error", error: String(err && err.stack || err) }); process.exit(2); });
