// The audit trail: who did what and when, from which state to which, and whether the customer saw it.
import { h, clear } from '../dom.js';
import { cx, categoryName, userName } from './store.js';
import { STATUS, SOURCE, CHANNEL, when, whenFull, money } from './format.js';

const ACTION = {
  created: 'Created', start: 'Started work', reply: 'Replied', ask_customer: 'Asked the customer', note: 'Internal note',
  resolve: 'Resolved', customer_reply: 'Customer replied', accept: 'Customer accepted', clarify: 'Customer asked for more',
  auto_close: 'Closed automatically', escalate: 'Escalated', sla_breach: 'SLA breach', sla_warning: 'SLA warning',
  assign: 'Assignment', set_category: 'Category', propose_compensation: 'Compensation proposed',
  decide_compensation: 'Compensation decided', rate: 'Customer rated',
};

function actor(event) {
  if (event.actor === 'system') return 'System';
  if (event.actor === cx.me.id) return 'You';
  return event.actor_name || userName(event.actor) || 'Customer';
}

/** The "from → to" of an event, in the words that changed. */
function change(event) {
  const d = event.details || {};
  const name = (id) => (id ? userName(id) || 'someone' : 'nobody');
  if (d.from_level !== undefined && d.to_level !== undefined && d.from_level !== d.to_level) return [`level ${d.from_level}`, `level ${d.to_level}`];
  if ('from_assignee' in d || 'to_assignee' in d) return [name(d.from_assignee), name(d.to_assignee)];
  if (d.from_category) return [categoryName(d.from_category), categoryName(d.to_category)];
  if (d.from && d.to && d.from !== d.to) return [STATUS[d.from] || d.from, STATUS[d.to] || d.to];
  return null;
}

function extra(event) {
  const d = event.details || {};
  const action = event.action.replace(/^complaint\./, '');
  if (action === 'decide_compensation') return `${d.decision === 'approved' ? 'Approved' : 'Rejected'} ${money(d.amount_minor, d.currency)}${d.note ? ` — ${d.note}` : ''}`;
  if (action === 'propose_compensation') return `${money(d.amount_minor, d.currency)} — ${d.reason}`;
  if (action === 'escalate' && d.reason) return d.reason;
  if (action === 'sla_breach' || action === 'sla_warning') return `${d.target === 'resolution' ? 'Resolution' : 'Answer'} due ${when(d.due_at)}`;
  if (action === 'rate') return `${d.score} of 5${d.comment ? ` — ${d.comment}` : ''}`;
  if (action === 'created') return [SOURCE[d.source] || d.source, CHANNEL[d.channel]?.label].filter(Boolean).join(' · ');
  return null;
}

export function renderAudit(container, complaint) {
  const events = complaint.audit || [];
  const list = h('ol', { class: 'cx-audit', id: 'cx-audit' });
  for (const event of [...events].reverse()) {
    const action = event.action.replace(/^complaint\./, '');
    const moved = change(event);
    const note = extra(event);
    const visible = event.details && event.details.public;
    list.append(h('li', { class: 'cx-audit-item' },
      h('div', { class: 'cx-audit-top' },
        h('strong', {}, ACTION[action] || action.replaceAll('_', ' ')),
        h('time', { datetime: event.at, title: whenFull(event.at) }, when(event.at))),
      h('p', { class: 'cx-audit-who' }, actor(event),
        moved ? h('span', { class: 'cx-audit-move' }, ' · ', moved[0], h('span', { class: 'cx-arrow', 'aria-label': 'to' }, ' → '), moved[1]) : null,
        visible === false && action !== 'created' ? h('span', { class: 'cx-audit-flag' }, 'staff only') : null),
      note ? h('p', { class: 'cx-audit-note' }, note) : null));
  }
  clear(container).append(
    h('h3', {}, 'Audit trail', h('span', { class: 'count' }, String(events.length))),
    events.length ? list : h('p', { class: 'muted cx-side-empty' }, 'Nothing recorded yet.'));
}
