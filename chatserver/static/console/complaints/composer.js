// Writing on a complaint: a public reply, a question (it then waits for the customer), an internal
// note, or the resolution. One form that stays put while the thread refreshes, with a draft per complaint
// that outlives a reload until it is stored.
import { h } from '../dom.js';
import { uuid } from '../state.js';
import { post, complaintPath } from './api.js';
import { draftStore } from '../drafts.js';
import { cx } from './store.js';

const drafts = draftStore('complaint-draft', cx.me.id);

const MODES = {
  reply: { label: 'Reply', send: 'Send reply', allowed: 'reply', hint: 'The customer sees this and gets it by e-mail.', placeholder: 'Write to the customer…' },
  question: { label: 'Ask the customer', send: 'Ask the customer', allowed: 'ask', hint: 'The customer sees this; the complaint then waits for their answer.', placeholder: 'What do you need to know from the customer?' },
  note: { label: 'Internal note', send: 'Add internal note', allowed: 'note', hint: 'Only staff see internal notes. The customer never does.', placeholder: 'A note for your team…' },
  resolution: { label: 'Resolve with this answer', send: 'Resolve', allowed: 'resolve', hint: 'The customer sees this answer and can accept it or ask for more.', placeholder: 'The answer that resolves the complaint…' },
};

export class Composer {
  /** `changed(detail)` gets the view after a write; `stale()` reads the complaint again (a refusal
   *  because it changed meanwhile: the customer wrote, it was resolved). */
  constructor({ changed, stale }) {
    this.changed = changed;
    this.stale = stale;
    this.reference = null;
    this.mode = 'reply';
    this.can = {};
    this.buttons = Object.entries(MODES).map(([mode, m]) =>
      h('button', { type: 'button', role: 'radio', 'aria-checked': 'false', dataset: { mode }, onclick: () => this.setMode(mode, true) }, m.label));
    this.input = h('textarea', { id: 'cx-body', rows: 4, maxlength: 10000, 'aria-describedby': 'cx-composer-hint' });
    this.hint = h('span', { class: 'cx-composer-hint', id: 'cx-composer-hint' });
    this.error = h('p', { class: 'cx-error', role: 'alert', hidden: true });
    this.submit = h('button', { type: 'submit', class: 'button-primary', id: 'cx-send' }, 'Send reply');
    this.modes = h('div', { class: 'cx-modes', role: 'radiogroup', 'aria-label': 'What to write' }, ...this.buttons);
    this.form = h('form', { class: 'cx-composer', id: 'cx-composer', novalidate: true },
      this.modes,
      h('label', { class: 'sr-only', for: 'cx-body' }, 'Message'),
      this.input,
      this.error,
      h('div', { class: 'cx-composer-foot' }, this.hint, h('span', { class: 'cx-keys' }, h('kbd', {}, 'Ctrl'), '+', h('kbd', {}, 'Enter')), this.submit));
    this.form.addEventListener('submit', (event) => { event.preventDefault(); this.send(); });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.send();
      }
    });
    this.input.addEventListener('input', () => this.saveDraft());
    this.modes.addEventListener('keydown', (event) => this.arrows(event));
  }

  /** Show it for a complaint: its draft when switching, the modes its state allows. */
  show(complaint, can) {
    if (this.reference !== complaint.reference) {
      // the draft left is kept already (each change is); a redraw writes nothing, so a second console
      // on this complaint never puts its stale box over what was typed or sent in the first
      this.reference = complaint.reference;
      const draft = drafts.get(complaint.reference);
      this.input.value = draft ? draft.body : '';
      this.mode = draft ? draft.mode : 'reply';
      this.showError(null);
    }
    this.can = can;
    // the thread as shown: an answer is refused if the customer wrote after it
    this.seenSeq = Math.max(0, ...(complaint.entries || []).map((entry) => entry.seq));
    for (const button of this.buttons) {
      const allowed = Boolean(can[MODES[button.dataset.mode].allowed]);
      button.disabled = !allowed;
      button.hidden = !allowed;
    }
    if (!can[MODES[this.mode].allowed]) this.mode = Object.keys(MODES).find((m) => can[MODES[m].allowed]) || 'note';
    this.showMode();
    this.form.hidden = !can.note;
    return this.form;
  }

  /** The agent picks what to write. */
  setMode(mode, focus) {
    this.mode = mode;
    this.showMode();
    this.saveDraft();
    if (focus) this.input.focus();
  }

  showMode() {
    const mode = this.mode;
    this.form.dataset.mode = mode;
    for (const button of this.buttons) {
      const on = button.dataset.mode === mode;
      button.setAttribute('aria-checked', String(on));
      button.tabIndex = on ? 0 : -1;
    }
    this.hint.textContent = MODES[mode].hint;
    this.input.placeholder = MODES[mode].placeholder;
    this.submit.textContent = MODES[mode].send;
  }

  /** Arrow keys move between the modes, as in any radio group. */
  arrows(event) {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    const usable = this.buttons.filter((b) => !b.disabled && !b.hidden);
    const index = usable.findIndex((b) => b.dataset.mode === this.mode);
    const next = usable[(index + step + usable.length) % usable.length];
    this.setMode(next.dataset.mode, false);
    next.focus();
  }

  resolve() {
    this.setMode('resolution', true);
    this.form.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }

  /** `sent`: the id the text last tried got, kept while that text is unchanged (see `send`). */
  saveDraft(sent = drafts.get(this.reference)?.sent) {
    if (!this.reference) return;
    if (this.input.value || this.mode !== 'reply') drafts.put(this.reference, { body: this.input.value, mode: this.mode, sent });
    else drafts.remove(this.reference);
  }

  /** `typed` is stored: it leaves the draft, here or on the complaint the agent moved to meanwhile;
   * words added while it was on its way stay. */
  stored(reference, typed) {
    const here = this.reference === reference;
    const draft = drafts.get(reference);
    const now = here ? this.input.value : draft?.body || '';
    const rest = now.startsWith(typed) ? now.slice(typed.length).trimStart() : now;
    const mode = (here ? this.mode : draft?.mode) === 'note' ? 'note' : 'reply';
    drafts.remove(reference);
    if (here) {
      this.input.value = rest;
      this.mode = mode;
      this.showError(null);
      this.saveDraft();
    } else if (rest || mode !== 'reply') {
      drafts.put(reference, { body: rest, mode });
    }
  }

  showError(text) {
    this.error.textContent = text || '';
    this.error.hidden = !text;
  }

  async send() {
    const body = this.input.value.trim();
    if (!body) {
      this.showError(this.mode === 'note' ? 'Write the note first.' : 'Write the text the customer will read first.');
      this.input.focus();
      return;
    }
    if (this.submit.disabled) return;
    const reference = this.reference;
    const typed = this.input.value;
    // the same text tried again keeps its id, so a retry after an answer lost on the way back finds
    // what was stored instead of writing it twice; edited text is a new entry
    const tried = drafts.get(reference)?.sent;
    const sent = tried && tried.body === body && tried.kind === this.mode ? tried : { client_id: uuid(), body, kind: this.mode };
    this.saveDraft(sent);
    this.submit.disabled = true;
    try {
      const payload = { body, kind: sent.kind, client_id: sent.client_id };
      if (sent.kind !== 'note') payload.seen_entry_seq = this.seenSeq;
      const answer = await post(`${complaintPath(reference)}/replies`, payload);
      this.stored(reference, typed);
      this.changed(answer.complaint);
    } catch (error) {
      if (this.reference === reference) this.showError(error.message);
      if (error.status === 409) this.stale();  // the draft stays, to be sent once the new message is read
    } finally {
      this.submit.disabled = false;
    }
  }
}

