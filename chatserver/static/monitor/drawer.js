// The side panel for one chat: where it is now, what can be done with it, and why routing placed
// it where it did (every decision, with the agents considered, their state and load).
import { $, h, clear } from './dom.js';
import { state, locate } from './state.js';
import { call } from './connection.js';
import { categoryName, customerLabel, dateTime, LANGUAGES, REASONS, ruleText, STATUS_LABEL } from './format.js';
import { assignChat, moveChat, takeOver } from './dialogs.js';
import { renderQueue } from './queue.js';
import { since } from './ticker.js';

let lastPlace = null; // re-ask for the explanation when the chat moved

export function setupDrawer() {
  $('drawer-close').addEventListener('click', closeDrawer);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && state.drawer && !document.querySelector('dialog[open]')) closeDrawer();
  });
}

export function openDrawer(conversationId) {
  state.drawer = { conversationId, explanation: null, error: null };
  lastPlace = null;
  $('drawer').hidden = false;
  $('app').dataset.drawer = 'open';
  refreshDrawer();
  renderQueue();
  $('drawer').focus();
}

export function closeDrawer() {
  state.drawer = null;
  $('drawer').hidden = true;
  delete $('app').dataset.drawer;
  renderQueue();
}

function place(where) {
  if (!where) return 'closed';
  return where.status === 'queued' ? 'queued' : `active:${where.agent.id}`;
}

/** Re-render from the latest snapshot; fetch the routing log again when the chat changed place. */
export function refreshDrawer() {
  if (!state.drawer) return;
  const where = locate(state.drawer.conversationId);
  const now = place(where);
  if (now !== lastPlace) {
    lastPlace = now;
    explain(state.drawer.conversationId);
  }
  render(where);
}

async function explain(conversationId) {
  const ack = await call('routing:explain', { conversation_id: conversationId });
  if (!state.drawer || state.drawer.conversationId !== conversationId) return;
  state.drawer.explanation = ack.ok ? ack : null;
  state.drawer.error = ack.ok ? null : ack.error.message;
  render(locate(conversationId));
}

function render(where) {
  const drawer = state.drawer;
  const explanation = drawer.explanation;
  const conversation = explanation?.conversation;
  const name = where?.entry?.customer_name ?? where?.chat?.customer_name ?? conversation?.customer_name;
  $('drawer-title').textContent = customerLabel(name);
  const topic = where?.entry?.topic ?? where?.chat?.topic ?? conversation?.topic;
  const locale = where?.entry?.locale ?? where?.chat?.locale ?? conversation?.locale;
  const body = clear($('drawer-body'));

  const facts = h('dl', { class: 'drawer-facts' },
    h('div', {}, h('dt', {}, 'Topic'), h('dd', {}, categoryName(topic))),
    h('div', {}, h('dt', {}, 'Language'), h('dd', {}, LANGUAGES[locale] || locale || '—')));
  if (where?.status === 'queued') {
    facts.append(
      h('div', {}, h('dt', {}, 'Status'), h('dd', {}, `Waiting · position ${where.entry.position}`)),
      h('div', {}, h('dt', {}, 'Waiting for'), h('dd', {}, since(where.entry.queued_at, { wait: true, className: 'wait' }))));
  } else if (where?.status === 'active') {
    facts.append(
      h('div', {}, h('dt', {}, 'Status'), h('dd', {}, `With ${where.agent.name}`)),
      h('div', {}, h('dt', {}, 'For'), h('dd', {}, since(where.chat.assigned_at))));
  } else if (conversation) {
    facts.append(h('div', {}, h('dt', {}, 'Status'), h('dd', {}, conversation.status === 'closed' ? `Ended${conversation.outcome ? ` · ${conversation.outcome}` : ''}` : conversation.status)));
  }
  body.append(facts);

  if (where) {
    const mine = where.status === 'active' && where.agent.id === state.me.id;
    body.append(h('div', { class: 'drawer-actions' },
      where.status === 'queued'
        ? h('button', { type: 'button', class: 'btn btn-primary', onclick: () => assignChat(drawer.conversationId) }, 'Assign…')
        : h('button', { type: 'button', class: 'btn btn-primary', onclick: () => moveChat(drawer.conversationId) }, 'Move…'),
      mine ? h('a', { class: 'btn btn-quiet', href: '/console' }, 'Open in console')
        : h('button', { type: 'button', class: 'btn btn-quiet', onclick: () => takeOver(drawer.conversationId) }, 'Take over')));
  } else if (explanation) {
    body.append(h('p', { class: 'drawer-note' }, 'This chat is no longer open.'));
  }

  body.append(h('h3', { class: 'drawer-h' }, 'Routing'));
  if (drawer.error) {
    body.append(h('p', { class: 'form-error', role: 'alert' }, drawer.error));
    return;
  }
  if (!explanation) {
    body.append(h('p', { class: 'drawer-note' }, 'Loading…'));
    return;
  }
  if (!explanation.decisions.length) {
    body.append(h('p', { class: 'drawer-note' }, 'No routing decision yet.'));
    return;
  }
  body.append(h('ol', { class: 'decisions' }, ...explanation.decisions.slice().reverse().map((d) => decision(d, conversation))));
}

function decision(d, conversation) {
  const candidates = [...d.candidates].sort((a, b) => (b.reason === 'chosen') - (a.reason === 'chosen') || (b.eligible - a.eligible));
  return h('li', { class: `decision${d.chosen_agent ? '' : ' is-waiting'}` },
    h('div', { class: 'decision-head' },
      h('strong', {}, d.chosen_agent ? `→ ${d.chosen_agent.name}` : 'Waited in the queue'),
      h('time', { datetime: d.decided_at }, dateTime(d.decided_at))),
    h('p', { class: 'decision-rule' }, ruleText(d, conversation)),
    candidates.length ? h('table', { class: 'candidates' },
      h('caption', { class: 'sr-only' }, 'Agents considered'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Agent'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Load'), h('th', { scope: 'col' }, 'Why'))),
      h('tbody', {}, ...candidates.map((c) => h('tr', { class: c.reason === 'chosen' ? 'is-chosen' : (c.eligible ? '' : 'is-out') },
        h('td', {}, c.name || '—'),
        h('td', {}, c.status ? h('span', { class: 'cand-status' }, h('span', { class: `status-dot status-${c.status}`, 'aria-hidden': 'true' }), STATUS_LABEL[c.status] || REASONS[c.status] || c.status) : '—'),
        h('td', { class: 'num' }, c.active_chats === null || c.active_chats === undefined ? '—' : `${c.active_chats} / ${c.max_chats}`),
        h('td', {}, h('span', { class: `reason reason-${c.reason}` }, REASONS[c.reason] || c.reason)))))) : null);
}
