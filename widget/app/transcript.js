// The chat log: messages keyed by id and ordered by seq, so a message seen twice (ack, live event,
// history after a reconnect) is shown once. Unsent messages sit at the end, keyed by client_id.
import { h, icon, ICONS, initials, linkify, patch } from './dom.js';
import { t, has, formatTime } from './i18n.js';

/** System messages carry a key such as `requeued:agent_disconnected`, never text to show as is. */
export function systemText(body) {
  const [kind, reason] = String(body || '').split(':', 2);
  const specific = `system.${kind}.${reason}`;
  if (reason && has(specific)) return t(specific);
  if (has(`system.${kind}`)) return t(`system.${kind}`);
  return t('system.generic');
}

export class Transcript {
  constructor(list) {
    this.list = list;
    this.byId = new Map();
    this.pendingEls = new Map();
    this.maxSeq = 0;
    this.note = null;
  }

  reset() {
    this.byId.clear();
    this.pendingEls.clear();
    this.maxSeq = 0;
    this.note = null;
    this.list.replaceChildren();
  }

  /** A line of ours after every message (who closed the chat), or none without content. Having no
   *  seq, it stays last as history fills in the messages before it. */
  setNote(...content) {
    const fresh = content.length ? h('li', { class: 'msg msg--system', id: 'closed-line' }, h('span', { class: 'system-text' }, ...content)) : null;
    if (this.note && fresh) {
      // the same line drawn again (history after chat:closed, another language): changed in place, not added again
      patch(this.note, fresh);
      return;
    }
    if (this.note) this.note.remove();
    this.note = fresh;
    if (this.note) this.list.append(this.note);
  }

  /** Add or confirm a stored message. `gapAfter` is set when seq jumped past what we had:
   * the caller then asks `history` for everything after it. */
  add(message) {
    const pendingEl = message.client_id ? this.pendingEls.get(message.client_id) : null;
    if (pendingEl) this.pendingEls.delete(message.client_id);
    const before = this.maxSeq;
    if (this.byId.has(message.id)) {
      if (pendingEl) pendingEl.remove();
      return { known: true, gapAfter: null };
    }
    // our own message, confirmed: the line shown while sending becomes it, so it is not announced again
    const el = pendingEl ? patch(pendingEl, this.render(message)) : this.render(message);
    this.byId.set(message.id, { message, el });
    this.insert(el, message.seq);
    this.maxSeq = Math.max(this.maxSeq, message.seq);
    this.relayout();
    return { known: false, gapAfter: message.seq > before + 1 ? before : null };
  }

  /** The highest seq up to which nothing is missing: history is asked from there, since a resent
   *  message can arrive (with its later seq) before the ones it followed. */
  contiguousSeq() {
    const seqs = new Set([...this.byId.values()].map((entry) => entry.message.seq));
    let seq = 0;
    while (seqs.has(seq + 1)) seq += 1;
    return seq;
  }

  addPending(pending) {
    if (this.pendingEls.has(pending.client_id)) return;
    const el = this.render({ sender: 'customer', body: pending.body, created_at: pending.created_at, pending: true });
    this.pendingEls.set(pending.client_id, el);
    this.list.append(el);
    this.relayout();
  }

  /** Messages still waiting for a chat that takes no more: shown as not sent. */
  failPending() {
    for (const el of this.pendingEls.values()) el.classList.add('is-failed');
  }

  /** Before the first row with a later seq (unsent ones have none); a row already there stays put. */
  insert(el, seq) {
    let next = null;
    for (const child of this.list.children) {
      if (child === el) continue;
      const childSeq = child.dataset.seq ? Number(child.dataset.seq) : Infinity;
      if (childSeq > seq) {
        next = child;
        break;
      }
    }
    if (el.parentNode === this.list && el.nextElementSibling === next) return;
    this.list.insertBefore(el, next);
  }

  render(message) {
    if (message.sender === 'system') {
      return h('li', { class: 'msg msg--system', dataset: { seq: message.seq, body: message.body } },
        h('span', { class: 'system-text' }, systemText(message.body)));
    }
    const mine = message.sender === 'customer';
    const state = mine
      ? h('span', { class: 'msg-state' }, message.pending ? icon(ICONS.clock) : icon(ICONS.check),
        h('span', { class: 'msg-state-text' }, message.pending ? t('chat.sending') : t('chat.sent')))
      : null;
    // an unsent message has no seq yet: it sorts after every stored one
    const dataset = message.pending ? { at: message.created_at || '' } : { seq: message.seq, at: message.created_at || '' };
    return h('li', { class: `msg msg--${mine ? 'customer' : 'agent'}${message.pending ? ' is-pending' : ''}`, dataset },
      mine ? null : h('span', { class: 'msg-avatar', 'aria-hidden': 'true' }, initials(message.author)),
      h('div', { class: 'msg-body' },
        mine ? null : h('span', { class: 'msg-author' }, message.author || t('agent.fallback')),
        h('p', { class: 'bubble' }, linkify(message.body)),
        h('span', { class: 'msg-meta' }, h('time', { datetime: message.created_at || '' }, formatTime(message.created_at)), state)));
  }

  /** Group runs from one author, and show the delivery state on the last own message only. */
  relayout() {
    let previous = null;
    let lastOwn = null;
    for (const el of this.list.children) {
      const author = el.classList.contains('msg--system') ? null : (el.querySelector('.msg-author')?.textContent ?? 'me');
      el.classList.toggle('is-followup', author !== null && previous === author);
      if (el.classList.contains('msg--customer')) lastOwn = el;
      el.classList.remove('is-last-own');
      previous = author;
    }
    if (lastOwn) lastOwn.classList.add('is-last-own');
  }

  /** Re-render every row in the current language. */
  retranslate() {
    // in place: the rows are already in the log, a new language is no reason to announce them again
    for (const { message, el } of this.byId.values()) patch(el, this.render(message));
    for (const el of this.list.querySelectorAll('.is-pending .msg-state-text')) {
      if (el.firstChild && el.firstChild.nodeType === Node.TEXT_NODE) el.firstChild.data = t('chat.sending');
      else el.textContent = t('chat.sending');
    }
    this.relayout();
  }

  lastAgentName() {
    const agents = [...this.byId.values()].filter((e) => e.message.sender === 'agent');
    return agents.length ? agents[agents.length - 1].message.author : null;
  }
}
