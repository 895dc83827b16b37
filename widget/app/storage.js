// The iframe's own localStorage (this server's origin): the customer token and unsent messages.
// The host page cannot read it; storage may be unavailable (privacy modes), so every access is guarded.

const PREFIX = 'chatserver.';

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

export const storage = {
  get token() { return read('token', null); },
  set token(value) { write('token', value); },
  /** true when the token belongs to a customer the host page identified (dropped when it no longer does) */
  get identified() { return read('identified', false); },
  set identified(value) { write('identified', value || null); },

  /** Unsent messages, oldest first: [{client_id, conversation_id, body, created_at}]. */
  pending() { return read('pending', []); },
  addPending(message) { write('pending', [...this.pending().filter((m) => m.client_id !== message.client_id), message]); },
  removePending(clientId) { write('pending', this.pending().filter((m) => m.client_id !== clientId)); },
  keepPendingFor(conversationId) { write('pending', this.pending().filter((m) => m.conversation_id === conversationId)); },

  forgetCustomer() {
    write('token', null);
    write('identified', null);
    write('pending', null);
  },
};

export { uuid } from './ids.js';
