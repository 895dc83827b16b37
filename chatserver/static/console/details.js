// The right pane: who the customer is, their earlier conversations and complaints.
import { $, h, clear, icon, ICONS, initials, isolate } from './dom.js';
import { customerName, categoryName } from './state.js';

const dateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
const LANGUAGES = { en: 'English', ru: 'Russian', pl: 'Polish' };
const OUTCOMES = { resolved: 'Resolved', complaint: 'Complaint', abandoned: 'Left the queue' };
const STATUSES = { new: 'New', in_progress: 'In progress', awaiting_customer: 'Awaiting customer', resolved: 'Resolved', closed: 'Closed', reopened: 'Reopened' };

function when(iso) {
  return iso ? dateFormat.format(new Date(iso)) : '';
}

function row(label, value) {
  return [h('dt', {}, label), h('dd', {}, value || h('span', { class: 'muted' }, 'not given'))];
}

export function renderDetails(chat) {
  const body = clear($('details-body'));
  if (!chat) {
    body.append(h('p', { class: 'list-empty' }, 'Customer details appear here.'));
    return;
  }
  const customer = chat.customer || {};
  body.append(
    h('section', { class: 'profile' },
      h('span', { class: 'avatar avatar-large', 'aria-hidden': 'true' }, initials(customerName(chat))),
      h('h2', { class: 'profile-name' }, customerName(chat)),
      // the site signs only its user id: the name and e-mail its page passes along are not checked
      customer.verified
        ? h('span', { class: 'badge badge-verified' }, icon(ICONS.verified), 'Site account verified')
        : h('span', { class: 'badge badge-unverified' }, 'Not verified — typed details')),
    h('dl', { class: 'facts' },
      customer.verified ? row('Site user id', customer.external_id) : [],
      ...row('E-mail', customer.email),
      ...row('Language', LANGUAGES[customer.locale] || customer.locale),
      ...row('Topic', categoryName(chat.conversation.topic))),
    ...(customer.verified
      ? [h('p', { class: 'muted facts-note' }, 'The site vouches for the user id. Name and e-mail are as its page gave them.')]
      : []),
  );

  const history = chat.history;
  const conversations = history ? history.conversations : null;
  const complaints = history ? history.complaints : null;
  body.append(h('section', { class: 'detail-section' },
    h('h3', {}, 'Earlier conversations', conversations ? h('span', { class: 'count' }, String(conversations.length)) : null),
    !conversations ? h('p', { class: 'muted' }, 'Loading…')
      : !conversations.length ? h('p', { class: 'muted' }, 'This is their first conversation.')
        : h('ul', { class: 'history' }, ...conversations.map((c) => h('li', {},
          h('span', { class: 'history-top' }, h('strong', {}, categoryName(c.topic) || 'General question'),
            c.outcome ? h('span', { class: `tag tag-${c.outcome}` }, OUTCOMES[c.outcome] || c.outcome) : h('span', { class: 'tag' }, c.status)),
          h('span', { class: 'history-meta' }, [when(c.created_at), c.agent && c.agent.name ? ['with ', isolate(c.agent.name)] : null, c.complaint_reference]
            .filter(Boolean).flatMap((part, i) => (i ? [' · ', part] : [part]))))))));
  body.append(h('section', { class: 'detail-section' },
    h('h3', {}, 'Complaints', complaints ? h('span', { class: 'count' }, String(complaints.length)) : null),
    !complaints ? h('p', { class: 'muted' }, 'Loading…')
      : !complaints.length ? h('p', { class: 'muted' }, 'No complaints.')
        : h('ul', { class: 'history' }, ...complaints.map((c) => h('li', {},
          h('span', { class: 'history-top' }, h('code', {}, c.reference), h('span', { class: `tag tag-status-${c.status}` }, STATUSES[c.status] || c.status)),
          h('span', { class: 'history-subject' }, c.subject),
          h('span', { class: 'history-meta' }, [categoryName(c.category), when(c.created_at), c.level > 1 ? `level ${c.level}` : null].filter(Boolean).join(' · ')))))));
}
