// The open chat's transcript, rendered incrementally and keyed by message id (pending ones by client_id).
import { $, h, icon, ICONS, initials, linkify, patch } from './dom.js';
import { ordered } from './state.js';

const SYSTEM_TEXT = {
  'requeued:agent_disconnected': 'Returned to the queue: the agent disconnected',
  'requeued:agent_offline': 'Returned to the queue: the agent went offline',
  'requeued:transferred_to_queue': 'Transferred back to the queue',
};

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export function systemText(body) {
  if (SYSTEM_TEXT[body]) return SYSTEM_TEXT[body];
  if (String(body).startsWith('requeued:')) return 'Returned to the queue';
  return 'Conversation updated';
}

function messageEl(message, { pending = false, failed = false, reason = null } = {}) {
  if (message.sender === 'system') {
    return h('li', { class: 'line line-system' }, h('span', {}, systemText(message.body)));
  }
  const mine = message.sender === 'agent';
  const kind = message.internal ? 'note' : mine ? 'agent' : 'customer';
  const time = message.created_at ? timeFormat.format(new Date(message.created_at)) : '';
  return h('li', { class: `line line-${kind}${pending ? ' is-pending' : ''}${failed ? ' is-failed' : ''}` },
    mine ? null : h('span', { class: 'avatar avatar-small', 'aria-hidden': 'true' }, initials(message.author)),
    h('div', { class: 'line-body' },
      h('span', { class: 'line-author' },
        message.internal ? icon(ICONS.lock) : null,
        message.internal ? `Internal note · ${message.author}` : message.author),
      h('p', { class: 'bubble' }, linkify(message.body)),
      h('span', { class: 'line-meta' }, pending ? (failed ? `Not sent${reason ? `: ${reason}` : ''}` : 'Sending…') : time)));
}

export class TranscriptView {
  constructor() {
    this.list = $('transcript');
    this.chatId = null;
    this.rendered = new Map();
    // a reader at the end stays at the end when the transcript gets shorter under it: the typing line, the
    // composer or a closed chat's note appearing after the chat is drawn, a phone keyboard
    this.pinned = true;
    this.list.addEventListener('scroll', () => { this.pinned = this.nearBottom(); }, { passive: true });
    new ResizeObserver(() => { if (this.pinned) this.list.scrollTop = this.list.scrollHeight; }).observe(this.list);
  }

  nearBottom() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 120;
  }

  show(chat) {
    const switched = this.chatId !== chat.id;
    const stick = switched || this.nearBottom();
    if (switched) {
      this.chatId = chat.id;
      this.rendered.clear();
      this.list.replaceChildren();
    }
    let previous = null;
    for (const message of ordered(chat)) {
      const key = `m:${message.id}`;
      let el = this.rendered.get(key);
      if (!el) {
        // our own answer, now stored: the line shown while it was sending becomes it, so it is not announced again
        const sending = message.client_id && !chat.pending.has(message.client_id) ? this.rendered.get(`p:${message.client_id}`) : null;
        if (sending) this.rendered.delete(`p:${message.client_id}`);
        el = sending ? patch(sending, messageEl(message)) : messageEl(message);
        this.rendered.set(key, el);
        if (previous) {
          if (previous.nextElementSibling !== el) previous.after(el);
        } else if (this.list.firstElementChild !== el) {
          this.list.prepend(el);
        }
      }
      previous = el;
    }
    for (const [key, el] of this.rendered) {
      if (key.startsWith('p:') && !chat.pending.has(key.slice(2))) {
        el.remove();
        this.rendered.delete(key);
      }
    }
    for (const pending of chat.pending.values()) {
      const key = `p:${pending.client_id}`;
      const old = this.rendered.get(key);
      const el = messageEl({ ...pending, sender: 'agent', author: 'You' }, { pending: true, failed: pending.failed, reason: pending.reason });
      // drawn again (any change to the console redraws the open chat): updated in place, not announced again
      if (old) patch(old, el);
      else {
        this.list.append(el);
        this.rendered.set(key, el);
      }
    }
    this.group();
    if (stick) {
      this.list.scrollTop = this.list.scrollHeight;
      this.pinned = true;
    }
  }

  /** Consecutive lines from one author read as one block. */
  group() {
    let previous = null;
    for (const el of this.list.children) {
      const author = el.classList.contains('line-system') ? null : `${el.className.match(/line-(customer|agent|note)/)?.[1]}:${el.querySelector('.line-author')?.textContent}`;
      el.classList.toggle('is-followup', author !== null && author === previous);
      previous = author;
    }
  }
}
