// The waiting chats, oldest and most urgent first, with the supervisor's actions on each.
import { $, h, clear } from './dom.js';
import { state } from './state.js';
import { categoryName, customerLabel, LANGUAGES } from './format.js';
import { openDrawer } from './drawer.js';
import { assignChat, takeOver } from './dialogs.js';
import { since } from './ticker.js';

export function renderQueue() {
  const queue = state.live?.queue || [];
  const queued = state.live?.stats.queued ?? queue.length; // the snapshot lists the front of the queue
  const body = clear($('queue-rows'));
  $('queue-count').textContent = queued;
  $('queue-rest').hidden = queued <= queue.length;
  $('queue-rest').textContent = queued > queue.length ? `Showing the first ${queue.length} of ${queued} waiting chats.` : '';
  $('queue-empty').hidden = queue.length > 0;
  $('queue-table').hidden = queue.length === 0;
  for (const entry of queue) {
    const open = () => openDrawer(entry.conversation_id);
    const row = h('tr', {
      class: `queue-row${state.drawer?.conversationId === entry.conversation_id ? ' is-selected' : ''}`,
      dataset: { conversationId: entry.conversation_id },
      onclick: (event) => { if (!event.target.closest('button')) open(); },
    },
      h('td', { class: 'q-pos' }, h('span', { class: `pos${entry.priority > 0 ? ' pos-returned' : ''}`, title: entry.priority > 0 ? 'Back in the queue: goes first' : null }, entry.position)),
      h('td', { class: 'q-customer' },
        h('button', { type: 'button', class: 'link-button', onclick: open }, customerLabel(entry.customer_name)),
        entry.priority > 0 ? h('span', { class: 'tag tag-warn' }, 'Returned') : null,
        entry.customer_away_since
          ? h('span', { class: 'tag tag-muted', title: 'The customer has no chat window open: routing passes this chat over, keeping its place, until they come back' }, 'Left')
          : null),
      h('td', { class: 'q-topic' }, categoryName(entry.topic)),
      h('td', { class: 'q-lang' }, h('span', { class: 'locale', title: LANGUAGES[entry.locale] || entry.locale }, (entry.locale || '').toUpperCase())),
      h('td', { class: 'q-wait' }, since(entry.queued_at, { wait: true, className: 'wait' })),
      h('td', { class: 'q-actions' },
        h('button', { type: 'button', class: 'btn btn-primary btn-small', onclick: () => assignChat(entry.conversation_id) }, 'Assign…'),
        h('button', { type: 'button', class: 'btn btn-quiet btn-small', onclick: () => takeOver(entry.conversation_id) }, 'Take over')),
    );
    body.append(row);
  }
}
