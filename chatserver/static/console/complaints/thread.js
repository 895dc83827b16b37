// The complaint's thread as a timeline: the originating chat (folded), the complaint as received,
// then customer messages, public replies, questions to the customer, the resolution, internal notes and
// status changes in order.
import { h, clear, icon, ICONS, initials, isolate, linkify } from '../dom.js';
import { systemText } from '../transcript.js';
import { cx } from './store.js';
import { get, complaintPath } from './api.js';
import { STATUS, SOURCE, when, whenFull } from './format.js';

const KIND = {
  customer: { label: 'Customer' },
  reply: { label: 'Public reply' },
  question: { label: 'Question to customer' },
  resolution: { label: 'Resolution', icon: ICONS.check },
  note: { label: 'Internal note', icon: ICONS.lock },
};
// a question and a resolution are stored as replies; the status each set, written with it, tells them apart
const REPLY_AS = { awaiting_customer: 'question', resolved: 'resolution' };

export class Thread {
  constructor() {
    this.openChats = new Set(); // references whose originating chat the agent unfolded
    this.laterPages = new Map(); // reference -> {messages, more}: what "Show more" read past the first page
  }

  render(container, complaint) {
    clear(container);
    if (complaint.conversation) container.append(this.origin(complaint));
    container.append(received(complaint));
    const entries = [...complaint.entries].sort((a, b) => a.seq - b.seq);
    entries.forEach((entry, i) => container.append(entryEl(entry, replyKind(entry, entries[i + 1]))));
  }

  /** The first page from the detail, then whatever was read on; the chat is closed, so pages never go stale. */
  originMessages(complaint) {
    const chat = complaint.conversation;
    const later = this.laterPages.get(complaint.reference);
    const last = chat.messages.length ? chat.messages[chat.messages.length - 1].seq : 0;
    const messages = later ? [...chat.messages, ...later.messages.filter((m) => m.seq > last)] : chat.messages;
    return { messages, more: later ? later.more : Boolean(chat.more) };
  }

  origin(complaint) {
    const chat = complaint.conversation;
    const { messages: all, more } = this.originMessages(complaint);
    const messages = all.filter((m) => m.sender !== 'system' || m.body);
    const count = `${messages.length}${more ? '+' : ''} message${messages.length === 1 && !more ? '' : 's'}`;
    const fold = h('details', { class: 'cx-origin', open: this.openChats.has(complaint.reference) },
      h('summary', {},
        h('span', { class: 'cx-origin-text' },
          h('span', { class: 'cx-origin-title' }, 'Originating chat'),
          h('span', { class: 'cx-origin-meta' }, [
            count,
            chat.agent && chat.agent.name ? ['with ', isolate(chat.agent.name)] : 'not answered',
            when(chat.created_at),
          ].flatMap((part, i) => (i ? [' · ', part] : [part])))),
        icon(ICONS.chevron)),
      h('ol', { class: 'cx-origin-lines' }, ...messages.map(chatLine)));
    if (more) fold.append(this.readOn(complaint, all, fold));
    fold.addEventListener('toggle', () => {
      if (fold.open) this.openChats.add(complaint.reference);
      else this.openChats.delete(complaint.reference);
    });
    return h('li', { class: 'cx-entry cx-entry-origin' }, h('span', { class: 'cx-mark cx-mark-icon', 'aria-hidden': 'true' }, icon(ICONS.chat)), fold);
  }

  /** "Show more messages": the next page after the last one shown, then the fold is drawn again. */
  readOn(complaint, shown, fold) {
    const status = h('span', { class: 'cx-origin-status', role: 'status' });
    const button = h('button', { type: 'button', class: 'button-quiet' }, 'Show more messages');
    button.addEventListener('click', async () => {
      button.disabled = true;
      status.textContent = '';
      try {
        const after = shown.length ? shown[shown.length - 1].seq : 0;
        const page = await get(`${complaintPath(complaint.reference)}/chat?after_seq=${after}`);
        const earlier = this.laterPages.get(complaint.reference);
        this.laterPages.set(complaint.reference, { messages: [...(earlier ? earlier.messages : []), ...page.messages], more: page.more });
        fold.closest('li').replaceWith(this.origin(complaint));
      } catch (error) {
        status.textContent = error.message;
        button.disabled = false;
      }
    });
    return h('div', { class: 'cx-origin-more' }, button, status);
  }
}

function chatLine(message) {
  if (message.sender === 'system') return h('li', { class: 'cx-chat-system' }, systemText(message.body));
  const note = message.internal;
  return h('li', { class: `cx-chat-line cx-chat-${note ? 'note' : message.sender}` },
    h('span', { class: 'cx-chat-author' }, note ? icon(ICONS.lock) : null, note ? `Internal · ${message.author}` : message.author,
      h('time', { datetime: message.created_at }, when(message.created_at))),
    h('p', {}, linkify(message.body)));
}

function received(complaint) {
  const logged = complaint.source === 'agent_logged';
  return h('li', { class: 'cx-entry cx-entry-received' },
    h('span', { class: 'cx-mark cx-mark-icon', 'aria-hidden': 'true' }, icon(ICONS.inbox)),
    h('article', { class: 'cx-card' },
      h('header', { class: 'cx-card-head' },
        h('strong', {}, logged ? 'Complaint logged' : 'Complaint received'),
        h('span', { class: 'cx-kind' }, SOURCE[complaint.source] || complaint.source),
        h('time', { datetime: complaint.created_at, title: whenFull(complaint.created_at) }, when(complaint.created_at))),
      complaint.body ? h('p', { class: 'cx-card-body' }, linkify(complaint.body)) : h('p', { class: 'cx-card-body muted' }, complaint.subject)));
}

/** "question" or "resolution" for a reply whose own status change follows it (same writer, same moment). */
function replyKind(entry, next) {
  if (entry.kind !== 'reply' || !next || next.kind !== 'status') return entry.kind;
  const same = next.seq === entry.seq + 1 && next.created_at === entry.created_at && next.author_id === entry.author_id;
  return (same && REPLY_AS[next.body]) || entry.kind;
}

function entryEl(entry, shown = entry.kind) {
  const mine = entry.author_id && entry.author_id === cx.me.id;
  const time = h('time', { datetime: entry.created_at, title: whenFull(entry.created_at) }, when(entry.created_at));
  if (entry.kind === 'status') {
    return h('li', { class: 'cx-entry cx-entry-event', dataset: { kind: 'status', seq: entry.seq } },
      h('span', { class: `cx-mark cx-mark-dot cx-dot-${entry.body}`, 'aria-hidden': 'true' }),
      h('p', {}, h('strong', {}, mine ? 'You' : entry.author), ' set the status to ',
        h('span', { class: `cx-status cx-status-${entry.body}` }, STATUS[entry.body] || entry.body), ' · ', time));
  }
  if (entry.kind === 'system') {
    return h('li', { class: 'cx-entry cx-entry-event', dataset: { kind: 'system', seq: entry.seq } },
      h('span', { class: 'cx-mark cx-mark-dot', 'aria-hidden': 'true' }),
      h('p', {}, h('span', { class: 'cx-event-text' }, entry.body), ' · ', entry.author && entry.author !== 'System' ? [isolate(mine ? 'you' : entry.author), ' · '] : '', time));
  }
  const kind = KIND[shown] || KIND.reply;
  return h('li', { class: `cx-entry cx-entry-${entry.kind}${shown !== entry.kind ? ` cx-entry-${shown}` : ''}`, dataset: { kind: entry.kind, seq: entry.seq } },
    h('span', { class: 'cx-mark cx-mark-avatar', 'aria-hidden': 'true' }, initials(entry.author)),
    h('article', { class: 'cx-card' },
      h('header', { class: 'cx-card-head' },
        h('strong', {}, mine ? `${entry.author} (you)` : entry.author),
        h('span', { class: 'cx-kind' }, kind.icon ? icon(kind.icon) : null, kind.label),
        time),
      h('p', { class: 'cx-card-body' }, linkify(entry.body))));
}

