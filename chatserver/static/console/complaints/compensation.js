// Compensation: agents propose an amount with a reason; a supervisor or admin approves or rejects
// it, never their own proposal. The customer sees it once approved.
import { h, clear, isolate } from '../dom.js';
import { post, complaintPath } from './api.js';
import { cx } from './store.js';
import { draftStore } from '../drafts.js';
import { money, toMinor, when, currencyDigits } from './format.js';

const CURRENCIES = ['EUR', 'USD', 'GBP', 'PLN', 'CHF', 'SEK', 'NOK', 'DKK', 'CZK', 'RUB'];
const CURRENCY_KEY = 'chatserver.console.currency';
const STATE = { proposed: 'Awaiting decision', approved: 'Approved', rejected: 'Rejected' };
const drafts = draftStore('compensation-draft', cx.me.id); // a proposal being written, per complaint

function lastCurrency() {
  try {
    return localStorage.getItem(CURRENCY_KEY) || 'EUR';
  } catch {
    return 'EUR';
  }
}

export class CompensationPanel {
  constructor({ changed }) {
    this.changed = changed;
    this.list = h('ul', { class: 'cx-comp-list', id: 'cx-comp-list' });
    this.amount = h('input', { id: 'cx-comp-amount', inputmode: 'decimal', autocomplete: 'off', placeholder: '0.00' });
    this.currency = h('select', { id: 'cx-comp-currency', 'aria-label': 'Currency' }, ...CURRENCIES.map((c) => h('option', { value: c }, c)));
    this.currency.value = lastCurrency();
    this.reason = h('textarea', { id: 'cx-comp-reason', rows: 2, maxlength: 1000, placeholder: 'Why the customer should get this' });
    this.error = h('p', { class: 'cx-error', role: 'alert', hidden: true });
    this.submit = h('button', { type: 'submit', class: 'button-quiet' }, 'Propose');
    this.form = h('form', { class: 'cx-comp-form', id: 'cx-comp-form', novalidate: true },
      h('div', { class: 'cx-comp-amount' },
        h('label', { for: 'cx-comp-amount' }, 'Amount'),
        h('div', { class: 'cx-money-input' }, this.amount, this.currency)),
      h('label', { for: 'cx-comp-reason' }, 'Reason'),
      this.reason,
      this.error,
      h('div', { class: 'cx-comp-foot' }, h('small', { class: 'muted' }, 'A supervisor or admin decides.'), this.submit));
    this.form.addEventListener('submit', (event) => { event.preventDefault(); this.propose(); });
    this.currency.addEventListener('change', () => {
      this.placeholder();
      this.saveDraft();
    });
    this.amount.addEventListener('input', () => this.saveDraft());
    this.reason.addEventListener('input', () => this.saveDraft());
    this.reference = null;
    this.notes = new Map(); // compensation id -> decision note being typed
    this.count = h('span', { class: 'count' });
    this.empty = h('p', { class: 'muted cx-side-empty' });
    this.section = h('section', { class: 'cx-card-section', id: 'cx-compensation', 'aria-label': 'Compensation' },
      h('h3', {}, 'Compensation', this.count), this.list, this.empty, this.form);
  }

  render(complaint, can) {
    if (this.reference !== complaint.reference) {
      this.reference = complaint.reference;
      const draft = drafts.get(complaint.reference);
      this.amount.value = draft ? draft.amount : '';
      this.reason.value = draft ? draft.reason : '';
      this.currency.value = draft ? draft.currency : lastCurrency();
      this.placeholder();
      this.showError(null);
    }
    const items = complaint.compensations || [];
    clear(this.list);
    for (const item of items) this.list.append(this.item(item, complaint, can));
    this.list.hidden = !items.length;
    this.count.textContent = String(items.length);
    this.count.hidden = !items.length;
    this.empty.hidden = items.length > 0;
    this.empty.textContent = can.propose ? 'None proposed yet.' : 'None.';
    this.form.hidden = !can.propose;
  }

  item(item, complaint, can) {
    const mine = item.proposed_by && item.proposed_by.id === cx.me.id;
    const pending = item.status === 'proposed';
    let decision = null;
    if (pending && can.decide) {
      // kept across refreshes: a live update must not wipe a note being typed
      const note = h('input', {
        class: 'cx-comp-note', placeholder: 'Note for the record (optional)', maxlength: 1000, 'aria-label': 'Decision note',
        disabled: mine, value: this.notes.get(item.id) || '', oninput: (e) => this.notes.set(item.id, e.currentTarget.value),
      });
      const error = h('p', { class: 'cx-error', role: 'alert', hidden: true });
      const decide = (approve) => async (event) => {
        const buttons = event.currentTarget.parentElement.querySelectorAll('button');
        buttons.forEach((b) => { b.disabled = true; });
        try {
          const body = { approve };
          if (note.value.trim()) body.note = note.value.trim();
          const answer = await post(`/api/compensations/${encodeURIComponent(item.id)}/decision`, body);
          this.changed(answer.complaint);
        } catch (failure) {
          error.textContent = failure.message;
          error.hidden = false;
          buttons.forEach((b) => { b.disabled = false; });
        }
      };
      decision = h('div', { class: 'cx-comp-decide' },
        note,
        h('div', { class: 'cx-comp-buttons' },
          h('button', { type: 'button', class: 'button-small cx-approve', disabled: mine, onclick: decide(true) }, 'Approve'),
          h('button', { type: 'button', class: 'button-small cx-reject', disabled: mine, onclick: decide(false) }, 'Reject')),
        mine ? h('p', { class: 'cx-comp-why' }, 'You proposed this, so another supervisor or admin decides.') : null,
        error);
    } else if (pending) {
      decision = h('p', { class: 'cx-comp-why' }, 'Waiting for a supervisor or admin.');
    }
    return h('li', { class: `cx-comp cx-comp-${item.status}`, dataset: { id: item.id } },
      h('div', { class: 'cx-comp-top' },
        h('strong', { class: 'cx-comp-money' }, money(item.amount_minor, item.currency)),
        h('span', { class: `cx-comp-state cx-comp-state-${item.status}` }, STATE[item.status] || item.status)),
      h('p', { class: 'cx-comp-reason' }, item.reason),
      h('p', { class: 'cx-comp-meta' }, 'Proposed by ', isolate(mine ? 'you' : item.proposed_by?.name || 'staff'), ` · ${when(item.proposed_at)}`),
      item.decided_by ? h('p', { class: 'cx-comp-meta' },
        `${item.status === 'approved' ? 'Approved' : 'Rejected'} by `, isolate(item.decided_by.id === cx.me.id ? 'you' : item.decided_by.name), ` · ${when(item.decided_at)}`,
        item.decision_note ? h('span', { class: 'cx-comp-note-text' }, ` — ${item.decision_note}`) : null) : null,
      decision);
  }

  showError(text) {
    this.error.textContent = text || '';
    this.error.hidden = !text;
  }

  placeholder() {
    this.amount.placeholder = currencyDigits(this.currency.value) ? '0.00' : '0';
  }

  saveDraft() {
    if (!this.reference) return;
    const draft = { amount: this.amount.value, currency: this.currency.value, reason: this.reason.value };
    if (draft.amount || draft.reason) drafts.put(this.reference, draft);
    else drafts.remove(this.reference);
  }

  async propose() {
    const currency = this.currency.value;
    const amount = toMinor(this.amount.value, currency);
    const reason = this.reason.value.trim();
    if (amount === null) {
      this.amount.focus();
      this.showError(`Enter an amount above zero, like ${currencyDigits(currency) ? '25.00' : '2500'}.`);
      return;
    }
    if (!reason) {
      this.reason.focus();
      this.showError('Write the reason; the supervisor decides on it.');
      return;
    }
    const reference = this.reference;
    this.submit.disabled = true;
    try {
      const answer = await post(`${complaintPath(reference)}/compensations`, { amount_minor: amount, currency, reason });
      try {
        localStorage.setItem(CURRENCY_KEY, currency);
      } catch {
        // the next proposal starts from EUR again
      }
      // what was proposed leaves the form, wherever the agent is now; a form changed meanwhile stays
      const draft = drafts.get(reference);
      if (draft && toMinor(draft.amount, draft.currency) === amount && draft.currency === currency && draft.reason.trim() === reason) {
        drafts.remove(reference);
        if (this.reference === reference) {
          this.amount.value = '';
          this.reason.value = '';
        }
      }
      if (this.reference === reference) this.showError(null);
      this.changed(answer.complaint);
    } catch (failure) {
      if (this.reference === reference) this.showError(failure.message);
    } finally {
      this.submit.disabled = false;
    }
  }
}
