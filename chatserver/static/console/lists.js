// The left pane: my chats (unread, waiting time, typing) and the queue (with "Take").
import { $, h, clear, initials } from './dom.js';
import { state, ordered, unread, waitingSince, customerName, categoryName, duration } from './state.js';

const LONG_WAIT_MS = 2 * 60 * 1000;
const LEFT_QUEUE_TITLE = 'The customer has no chat window open: routing passes this chat over, keeping its place, until they come back';

/** Which of the list's buttons has the focus, to give it back once the list is drawn anew. */
function focusedIn(list) {
  const el = document.activeElement;
  return el && list.contains(el) && el.dataset.conversation ? { id: el.dataset.conversation, kind: el.className } : null;
}

function refocus(list, was) {
  const again = was && [...list.querySelectorAll('button')].find((b) => b.dataset.conversation === was.id && b.className === was.kind);
  if (again) again.focus({ preventScroll: true });
}

export function renderMyChats({ select, dismiss }) {
  const was = focusedIn($('my-chats'));
  const list = clear($('my-chats'));
  const started = (chat) => Date.parse(chat.conversation.created_at || '') || chat.arrivedAt;
  const chats = [...state.chats.values()].sort((a, b) => started(a) - started(b));
  $('my-count').textContent = String(chats.filter((c) => !c.closed).length);
  $('my-empty').hidden = chats.length > 0;
  for (const chat of chats) {
    const last = ordered(chat).filter((m) => m.sender !== 'system').pop();
    const count = chat.id === state.selected || chat.closed ? 0 : unread(chat);
    const since = chat.closed ? null : waitingSince(chat);
    const waited = since ? Date.now() - since : 0;
    const preview = chat.typing ? 'typing…' : last ? `${last.sender === 'agent' ? (last.internal ? 'Note: ' : 'You: ') : ''}${last.body}` : 'No messages yet';
    const item = h('li', { class: `chat-item${chat.id === state.selected ? ' is-selected' : ''}${chat.closed ? ' is-closed' : ''}` },
      h('button', { type: 'button', class: 'chat-item-main', onclick: () => select(chat.id), 'aria-current': chat.id === state.selected ? 'true' : null, dataset: { conversation: chat.id } },
        h('span', { class: 'avatar avatar-small', 'aria-hidden': 'true' }, initials(customerName(chat))),
        h('span', { class: 'chat-item-text' },
          h('span', { class: 'chat-item-top' },
            h('strong', { class: 'chat-item-name' }, customerName(chat)),
            chat.closed
              ? h('span', { class: 'tag tag-muted' }, 'Closed')
              : chat.conversation.customer_away_since
                ? h('span', { class: 'tag tag-muted', title: 'The customer has no chat window open' }, 'Left')
              : since ? h('span', { class: `wait${waited > LONG_WAIT_MS ? ' is-long' : ''}`, title: 'Customer waiting for an answer' }, duration(waited)) : null),
          h('span', { class: `chat-item-preview${chat.typing ? ' is-typing' : ''}` }, preview)),
        count ? h('span', { class: 'unread', 'aria-label': `${count} unread` }, String(count)) : null),
      chat.closed ? h('button', { type: 'button', class: 'dismiss', 'aria-label': `Remove ${customerName(chat)} from the list`, onclick: () => dismiss(chat.id), dataset: { conversation: chat.id } }, '×') : null);
    list.append(item);
  }
  refocus(list, was);
}

export function renderQueue({ take }) {
  const was = focusedIn($('queue'));
  const list = clear($('queue'));
  $('queue-count').textContent = String(state.queued);
  $('queue-empty').hidden = state.queue.length > 0;
  const unlisted = state.queued - state.queue.length;
  $('queue-rest').hidden = unlisted <= 0;
  $('queue-rest').textContent = unlisted > 0 ? `and ${unlisted} more waiting behind them` : '';
  const full = state.agent && state.agent.active >= state.agent.max_chats;
  const elapsed = Date.now() - state.queueAt;
  for (const entry of state.queue) {
    const waited = entry.waiting_seconds * 1000 + elapsed;
    list.append(h('li', { class: 'queue-item' },
      h('span', { class: 'queue-pos', 'aria-label': `Position ${entry.position}` }, String(entry.position)),
      h('span', { class: 'queue-text' },
        h('strong', {}, categoryName(entry.topic) || 'General question'),
        h('span', { class: 'queue-meta' },
          h('span', { class: 'locale' }, String(entry.locale || '').toUpperCase()),
          entry.priority > 0 ? h('span', { class: 'tag tag-warn' }, 'Returned') : null,
          entry.customer_away_since ? h('span', { class: 'tag tag-muted', title: LEFT_QUEUE_TITLE }, 'Left') : null,
          h('span', { class: `wait${waited > LONG_WAIT_MS ? ' is-long' : ''}` }, `waiting ${duration(waited)}`))),
      h('button', { type: 'button', class: 'button-small', disabled: full, title: full ? 'You are at your chat capacity' : null, onclick: (e) => take(entry.conversation_id, e.currentTarget), dataset: { conversation: entry.conversation_id } }, 'Take')));
  }
  refocus(list, was);
}
