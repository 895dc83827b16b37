// The open chat's transcript, rendered incrementally and keyed by message id (pending ones by client_id).
import { $, h, icon, ICONS, initials, linkify } from './dom.js';
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
    for (const [key, el] of this.rendered) {
      if (key.startsWith('p:') && !chat.pending.has(key.slice(2))) {
        el.remove();
        this.rendered.delete(key);
      }
    }
    let previous = null;
    for (const message of ordered(chat)) {
      const key = `m:${message.id}`;
      let el = this.rendered.get(key);
      if (!el) {
        el = messageEl(message);
        this.rendered.set(key, el);
        if (previous) previous.after(el);
        else this.list.prepend(el);
      }
      previous = el;
    }
    for (const pending of chat.pending.values()) {
      const key = `p:${pending.client_id}`;
      const old = this.rendered.get(key);
      const el = messageEl({ ...pending, sender: 'agent', author: 'You' }, { pending: true, failed: pending.failed, reason: pending.reason });
      if (old) old.replaceWith(el);
      else this.list.append(el);
      this.rendered.set(key, el);
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
