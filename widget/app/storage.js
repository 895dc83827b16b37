// The iframe's own localStorage (this server's origin): the customer token, unsent messages and the
// last chat.
// The host page cannot read it; storage may be unavailable (privacy modes), so every access is guarded.

import { keyedEntries, onChangeElsewhere, read, write } from './local.js';

const LAST_CHAT_KEPT_MS = 24 * 3600 * 1000;

const unsent = keyedEntries('pending.');

// unsent messages a widget from before kept in one list
const legacy = read('pending', null);
if (Array.isArray(legacy)) {
  for (const message of legacy) unsent.put(message.client_id, message);
  write('pending', null);
}

export const storage = {
  get token() { return read('token', null); },
  set token(value) { write('token', value); },
  /** true when the token belongs to a customer the host page identified (dropped when it no longer does) */
  get identified() { return read('identified', false); },
  set identified(value) { write('identified', value || null); },

  /** Unsent messages, oldest first: [{client_id, conversation_id, body, created_at}]. */
  pending() { return unsent.all(); },
  addPending(message) { unsent.put(message.client_id, message); },
  removePending(clientId) { unsent.remove(clientId); },
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
  /** `callback` when another tab of the customer remembers how far it took the last chat. */
  onLastChatElsewhere(callback) { onChangeElsewhere('last', callback); },

  forgetCustomer() {
    write('token', null);
    write('identified', null);
    unsent.clear();
    write('last', null);
  },
};

export { uuid } from './ids.js';
