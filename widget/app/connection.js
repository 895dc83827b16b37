// One Socket.IO connection to /customer, with the official socket.io-client build (global `io`).
// Acks become promises; a lost connection resolves them as errors instead of leaving them hanging.
import { storage } from './storage.js';

const ACK_TIMEOUT_MS = 10000;
const PASSING = ['rate_limited', 'unavailable', 'internal'];
// spread out, so that many widgets behind one address do not come back all at once
const retryDelay = () => 2000 + Math.random() * 3000;

export class Connection {
  constructor({ locale, onStatus }) {
    this.locale = locale;
    this.identity = null;
    this.socket = null;
    this.handlers = {};
    this.onStatus = onStatus;
    this.everConnected = false;
  }

  get connected() {
    return Boolean(this.socket && this.socket.connected);
  }

  on(event, handler) {
    this.handlers[event] = handler;
    if (this.socket) this.socket.on(event, handler);
  }

  /** Connect once; later calls are no-ops. */
  start() {
    if (this.socket) return;
    this.socket = io('/customer', {
      // evaluated on every (re)connect, so a rotated token or a new locale is always sent
      auth: (cb) => cb(this.auth()),
      transports: ['websocket', 'polling'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
    });
    for (const [event, handler] of Object.entries(this.handlers)) this.socket.on(event, handler);
    this.socket.on('connect', () => {
      this.everConnected = true;
      this.onStatus('online');
    });
    this.socket.on('disconnect', (reason) => {
      if (reason !== 'io client disconnect') this.onStatus('reconnecting');
      // a server-side disconnect is not retried by the client on its own
      if (reason === 'io server disconnect') setTimeout(() => this.socket.connect(), 1000);
    });
    this.socket.on('connect_error', (err) => this.refused(err));
  }

  auth() {
    const auth = { locale: this.locale };
    if (this.identity) {
      auth.identity = this.identity;
    } else {
      const token = storage.identified ? null : storage.token;
      if (token) auth.token = token;
    }
    return auth;
  }

  refused(err) {
    const code = err && err.data && err.data.code;
    if (code === 'unauthorized' || code === 'invalid') {
      // our token or identity is no longer accepted: carry on as a new anonymous customer
      if (this.identity) this.identity = null;
      else storage.forgetCustomer();
      setTimeout(() => this.socket.connect(), 300);
      return;
    }
    // socket.io-client never retries a refusal by itself; these pass within seconds (too many
    // connects from this address, a shared NAT; storage busy)
    if (PASSING.includes(code)) setTimeout(() => this.socket.connect(), retryDelay());
    this.onStatus(this.everConnected ? 'reconnecting' : 'connecting');
  }

  /** Reconnect with new auth (identity or locale changed); the server sends a fresh session. */
  restart() {
    if (!this.socket) return this.start();
    this.socket.disconnect();
    this.socket.connect();
  }

  call(event, payload) {
    return new Promise((resolve) => {
      if (!this.connected) {
        resolve({ ok: false, error: { code: 'offline' } });
        return;
      }
      this.socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (err, ack) => {
        resolve(err ? { ok: false, error: { code: 'timeout' } } : ack || { ok: false, error: { code: 'internal' } });
      });
    });
  }

  /** Fire and forget (typing). Dropped while offline: stale typing is worse than none. */
  send(event, payload) {
    if (this.connected) this.socket.emit(event, payload);
  }
}
