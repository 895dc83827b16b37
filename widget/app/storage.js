// The iframe's own localStorage (this server's origin): the customer token, unsent messages and the
// last chat.
// The host page cannot read it; storage may be unavailable (privacy modes), so every access is guarded.

const PREFIX = 'chatserver.';
const LAST_CHAT_KEPT_MS = 24 * 3600 * 1000;

function read(key, fallback) {
  try {
    const raw = localStorage.getItem(PREFIX + key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

function write(key, value) {
  try {
    if (value === null || value === undefined) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // storage full or blocked: the chat still works, it just forgets across reloads
  }
}

/** Our keys that begin with `start`, without the prefix. */
function keysFrom(start) {
  const keys = [];
  try {
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i);
      if (key && key.startsWith(PREFIX + start)) keys.push(key.slice(PREFIX.length));
    }
  } catch {
    // blocked: nothing kept
  }
  return keys;
}

// One key per unsent message: the customer's other tabs share this storage, and a shared list
// rewritten by two tabs at once keeps only one tab's message (another tab's copy may lag by a moment).
const PENDING = 'pending.';

// unsent messages a widget from before kept in one list
const legacy = read('pending', null);
if (Array.isArray(legacy)) {
  for (const message of legacy) write(PENDING + message.client_id, message);
  write('pending', null);
}

export const storage = {
  get token() { return read('token', null); },
  set token(value) { write('token', value); },
  /** true when the token belongs to a customer the host page identified (dropped when it no longer does) */
  get identified() { return read('identified', false); },
  set identified(value) { write('identified', value || null); },

  /** Unsent messages, oldest first: [{client_id, conversation_id, body, created_at}]. */
  pending() {
    return keysFrom(PENDING).map((key) => read(key, null)).filter(Boolean)
      .sort((a, b) => (a.created_at > b.created_at) - (a.created_at < b.created_at));
  },
  addPending(message) { write(PENDING + message.client_id, message); },
  removePending(clientId) { write(PENDING + clientId, null); },
  keepPendingFor(conversationId) {
    for (const message of this.pending()) if (message.conversation_id !== conversationId) this.removePending(message.client_id);
  },

  /** The customer's last chat, so that it outlives a reload once closed: {token, id, step, at}, kept
   *  for this customer's token only, and for a day after it was last touched (the window in which
   *  "not solved" still counts): a visitor back next week gets the start form, not last week's card.
   *  `step` is how far the customer took its ending (rate, thanks, ended), which the server does not say. */
  lastChat() {
    const last = read('last', null);
    return last && last.token === this.token && Date.now() - (last.at || 0) < LAST_CHAT_KEPT_MS ? last : null;
  },
  rememberChat(id, step = null) { write('last', id ? { token: this.token, id, step, at: Date.now() } : null); },

  forgetCustomer() {
    write('token', null);
    write('identified', null);
    for (const key of keysFrom(PENDING)) write(key, null);
    write('last', null);
  },
};

export { uuid } from './ids.js';
