// The open complaint: header with its facts, the legal actions, the thread with the composer,
// compensation and the audit trail. Refreshes in place; drafts and typed forms survive.
import { $, h, clear, icon, ICONS } from '../dom.js';
import { get, complaintPath } from './api.js';
import { cx, categoryName } from './store.js';
import { STATUS, LEVEL, SOURCE, CHANNEL, dueFact, mailto, when, whenFull } from './format.js';
import { ActionBar, legal } from './actions.js';
import { Thread } from './thread.js';
import { Composer } from './composer.js';
import { CompensationPanel } from './compensation.js';
import { renderAudit } from './audit.js';

/** The list's part of a detail view (the row), without thread, compensation and audit. */
export function staffView(detail) {
  const { entries, compensations, audit, conversation, ...row } = detail;
  return row;
}

export class ComplaintDetail {
  /** `changed(row)` gets the list row of every fresh view; `back()` returns to the list on a phone. */
  constructor({ changed, back }) {
    this.onChanged = changed;
    this.back = back;
    this.seq = 0;
    const accept = (detail) => this.accept(detail);
    this.actions = new ActionBar({ changed: accept, resolve: () => this.composer.resolve(), report: (text) => this.showError(text), stale: () => this.refresh() });
    this.thread = new Thread();
    this.composer = new Composer({ changed: accept, stale: () => this.refresh() });
    this.compensation = new CompensationPanel({ changed: accept });
  }

  /** Open a complaint (null: none). */
  async open(reference) {
    cx.selected = reference;
    if (!reference) {
      cx.detail = null;
      $('cx-none').hidden = false;
      $('cx-detail').hidden = true;
      return;
    }
    if (!cx.detail || cx.detail.reference !== reference) {
      cx.detail = null;
      this.built = null;
      this.skeleton(reference);
    }
    await this.refresh();
  }

  async refresh() {
    const reference = cx.selected;
    if (!reference) return;
    const seq = ++this.seq;
    try {
      const answer = await get(complaintPath(reference));
      if (seq === this.seq && cx.selected === reference) this.accept(answer.complaint, { quiet: true });
    } catch (error) {
      if (seq !== this.seq || cx.selected !== reference) return;
      if (cx.detail) this.showError(`Could not refresh: ${error.message}`);
      else this.failed(reference, error.message);
    }
  }

  /** A detail view from the server: show it and tell the list. */
  accept(detail, { quiet = false } = {}) {
    if (detail.reference !== cx.selected) return;
    cx.detail = detail;
    this.render();
    if (!quiet) this.showError(null);
    this.onChanged(staffView(detail));
  }

  /** True when a live staff view says something this detail does not show yet. */
  isStale(complaint) {
    if (!cx.detail || cx.detail.reference !== complaint.reference) return false;
    return Object.keys(complaint).some((key) => JSON.stringify(complaint[key]) !== JSON.stringify(cx.detail[key]));
  }

  skeleton(reference) {
    $('cx-none').hidden = true;
    const pane = $('cx-detail');
    pane.hidden = false;
    clear(pane).append(
      this.head(),
      h('div', { class: 'cx-loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), `Loading ${reference}…`));
  }

  failed(reference, message) {
    clear($('cx-detail')).append(
      this.head(),
      h('div', { class: 'cx-failed', role: 'alert' },
        h('p', {}, `${reference} could not be opened. ${message}`),
        h('button', { type: 'button', class: 'button-quiet', onclick: () => this.refresh() }, 'Try again')));
  }

  head() {
    return h('div', { class: 'cx-head-nav' },
      h('button', { type: 'button', class: 'icon-button cx-back', id: 'cx-back', 'aria-label': 'Back to complaints', onclick: () => this.back() }, icon(ICONS.back)),
      h('span', { class: 'cx-head-crumb' }, 'Complaints'));
  }

  showError(text) {
    const el = this.parts && this.built === cx.selected ? this.parts.error : null;
    if (!el) return;
    el.replaceChildren(text ? h('span', {}, text) : '', text ? h('button', { type: 'button', class: 'cx-link', onclick: () => this.showError(null) }, 'Dismiss') : '');
    el.hidden = !text;
  }

  /** Build the page for a complaint once; later renders fill its parts, so the composer and the
   * compensation form keep their focus and text while the thread refreshes. */
  build(reference) {
    this.built = reference;
    this.parts = {
      head: h('header', { class: 'cx-head' }),
      readOnly: h('p', { class: 'cx-readonly', hidden: true }),
      error: h('p', { class: 'cx-error cx-detail-error', id: 'cx-detail-error', role: 'alert', hidden: true }),
      thread: h('ol', { class: 'cx-thread', id: 'cx-thread', 'aria-label': 'Thread' }),
      audit: h('section', { class: 'cx-card-section', id: 'cx-audit-section', 'aria-label': 'Audit trail' }),
    };
    const p = this.parts;
    clear($('cx-detail')).append(
      this.head(),
      p.head,
      p.readOnly,
      p.error,
      h('div', { class: 'cx-columns' },
        h('div', { class: 'cx-main' }, h('h3', { class: 'cx-section-title' }, 'Conversation'), p.thread, this.composer.form),
        h('aside', { class: 'cx-side', 'aria-label': 'Compensation and audit' }, this.compensation.section, p.audit)));
  }

  render() {
    const c = cx.detail;
    const can = legal(c);
    const pane = $('cx-detail');
    const focused = document.activeElement && pane.contains(document.activeElement) ? document.activeElement.id : null;
    if (this.built !== c.reference || !pane.contains(this.composer.form)) this.build(c.reference);
    $('cx-none').hidden = true;
    pane.hidden = false;
    const p = this.parts;
    const actions = h('div', { class: 'cx-actions', id: 'cx-actions', role: 'toolbar', 'aria-label': 'Actions' });
    this.actions.render(actions, c);
    clear(p.head).append(
      h('div', { class: 'cx-head-top' },
        h('code', { class: 'cx-head-ref', id: 'cx-ref' }, c.reference),
        h('span', { class: `cx-status cx-status-${c.status}`, id: 'cx-status' }, STATUS[c.status] || c.status),
        h('span', { class: `cx-level cx-level-${c.level}`, id: 'cx-level' }, `Level ${c.level} · ${LEVEL[c.level]}`)),
      h('h2', { class: 'cx-head-subject', id: 'cx-subject', tabindex: '-1' }, c.subject || '(no subject)'),
      facts(c),
      actions);
    p.readOnly.replaceChildren(icon(ICONS.lock), can.readOnly || '');
    p.readOnly.hidden = !can.readOnly;
    this.thread.render(p.thread, c);
    this.composer.show(c, can);
    this.compensation.render(c, can);
    renderAudit(p.audit, c);
    if (focused && !pane.contains(document.activeElement)) document.getElementById(focused)?.focus({ preventScroll: true });
  }

  /** Due times are relative: keep them true without redrawing the thread under the agent's cursor. */
  tick() {
    const shown = $('cx-facts');
    if (shown && cx.detail) shown.replaceWith(facts(cx.detail));
  }

  focusHeading() {
    $('cx-subject')?.focus();
  }
}

function fact(label, value, { id, tone, wide } = {}) {
  return h('div', { class: `cx-fact${tone ? ` is-${tone}` : ''}${wide ? ' is-wide' : ''}`, id },
    h('dt', {}, label), h('dd', {}, value || h('span', { class: 'muted' }, '—')));
}

function facts(c) {
  const answer = dueFact(c.response_due);
  const waiting = c.status === 'awaiting_customer'; // the clocks stand still until the customer answers
  const resolution = c.status === 'resolved' || c.status === 'closed' || waiting ? null : dueFact(c.resolution_due);
  const channel = CHANNEL[c.channel] || CHANNEL.chat;
  const owner = c.assignee ? (c.assignee.id === cx.me.id ? `${c.assignee.name} (you)` : c.assignee.name) : null;
  const customer = c.customer_name || c.email
    ? h('span', { class: 'cx-customer' }, c.customer_name || 'Customer', c.email ? h('a', { href: mailto(c.email), class: 'cx-email' }, c.email) : null)
    : null;
  let answerText = answer ? answer.text : 'answered';
  if (!answer && c.status === 'awaiting_customer') answerText = 'waiting for the customer';
  if (!answer && (c.status === 'resolved' || c.status === 'closed')) answerText = 'nothing owed';
  return h('dl', { class: 'cx-facts', id: 'cx-facts' },
    fact('Category', categoryName(c.category)),
    fact('Owner', owner || h('span', { class: 'cx-free' }, `Unassigned · ${c.owner_group || 'team'}`), { id: 'cx-owner' }),
    fact('Customer', customer, { wide: true }),
    fact('Answer due', answerText, { tone: answer && answer.overdue ? 'overdue' : null, id: 'cx-answer-due' }),
    fact('Resolution due', resolution ? resolution.text : (waiting ? 'paused until the customer answers' : (c.resolved_at ? `resolved ${when(c.resolved_at)}` : '—')),
      { tone: resolution && resolution.overdue ? 'overdue' : null, id: 'cx-resolution-due' }),
    fact('Source', h('span', { class: 'cx-source' }, icon(channel.icon), `${channel.label} · ${SOURCE[c.source] || c.source}`)),
    fact('Opened', h('time', { datetime: c.created_at, title: whenFull(c.created_at) }, when(c.created_at))),
    c.rating ? fact('Rating', `${'★'.repeat(c.rating.score)}${'☆'.repeat(5 - c.rating.score)}${c.rating.comment ? ` — ${c.rating.comment}` : ''}`) : null);
}
