// One complaint, opened from the Complaints tab: its status and due time, the public thread, approved
// compensation, a reply box while the team works on it, and the customer's decision or rating once it is settled.
import { $, h, clear, icon, ICONS, linkify } from './dom.js';
import { t, formatDate, formatDay, formatTime, formatMoney } from './i18n.js';
import { errorText } from './chat.js';
import { actionCard } from './complaint_actions.js';

const OPEN = ['new', 'in_progress', 'awaiting_customer', 'reopened'];
const SEND_ICON = 'M4 12l16-8-6 16-2.5-6.5L4 12z';

export class ComplaintDetail {
  constructor({ conn, whenSession, getConfig, onBack, onChange }) {
    this.conn = conn;
    this.whenSession = whenSession;
    this.getConfig = getConfig;
    this.onBack = onBack;
    this.onChange = onChange;
    this.reference = null;
    this.complaint = null;
    this.shownEntries = [];
    this.stage = '';
    this.refreshing = null;
    this.refreshAgain = false;
    this.build();
  }

  // -- the frame that stays while complaints come and go -------------------------------------------

  build() {
    this.back = h('button', { type: 'button', class: 'case-back', onclick: () => this.onBack(this.reference) });
    this.pill = h('span', { class: 'pill' });
    this.summary = h('div', { class: 'card case-summary' });
    this.notice = h('p', { class: 'case-notice', role: 'status' });
    this.money = h('div', { class: 'case-money' });
    this.thread = h('ol', { class: 'case-thread', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions' });
    this.action = h('div', { class: 'case-action' });
    this.foot = h('p', { class: 'case-foot' });
    this.scroller = h('div', { class: 'case-scroller' }, this.summary, this.thread, this.notice, this.money, this.action, this.foot);
    this.input = h('textarea', { id: 'case-input', rows: 1, maxlength: 4000 });
    this.send = h('button', { type: 'submit', class: 'send', id: 'case-send', disabled: true }, icon(SEND_ICON, { fill: true }));
    this.inputLabel = h('label', { class: 'sr-only', for: 'case-input' });
    this.composer = h('form', { class: 'composer case-composer', novalidate: true }, this.inputLabel, this.input, this.send);
    this.error = h('p', { class: 'form-error case-error', role: 'alert', hidden: true });
    this.root = h('div', { class: 'case', id: 'complaint-detail', hidden: true },
      h('div', { class: 'case-bar' }, this.back, this.pill), this.scroller, this.composer, this.error);
    $('view-complaints').append(this.root);

    this.input.addEventListener('input', () => {
      this.send.disabled = !this.input.value.trim();
      this.autosize();
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.reply(); }
    });
    this.composer.addEventListener('submit', (e) => { e.preventDefault(); this.reply(); });
    this.label();
  }

  label() {
    clear(this.back).append(icon(ICONS.back), h('span', {}, t('case.back')));
    this.thread.setAttribute('aria-label', t('case.thread'));
    this.input.placeholder = t('case.placeholder');
    this.inputLabel.textContent = t('case.message');
    this.send.setAttribute('aria-label', t('case.send'));
  }

  get visible() {
    return !this.root.hidden;
  }

  // -- opening and refreshing ------------------------------------------------------------------------

  /** Show a complaint at once from what the list knows, then fetch its thread. */
  async open(preview) {
    this.reference = preview.reference;
    this.complaint = null;
    this.shownEntries = [];
    this.stage = '';
    clear(this.thread);
    this.input.value = '';
    this.send.disabled = true;
    this.showError('');
    this.showNotice('');
    clear(this.action);
    this.composer.hidden = true;
    this.root.hidden = false;
    this.render({ ...preview, entries: null });
    this.summary.querySelector('.case-subject').focus({ preventScroll: true });
    await this.refresh({ scroll: true });
  }

  hide() {
    this.root.hidden = true;
  }

  /** Fetch the current state; updates that arrive while a fetch runs are folded into one more fetch. */
  async refresh({ scroll = false } = {}) {
    if (!this.reference) return;
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    const reference = this.reference;
    this.refreshing = (async () => {
      this.conn.start();
      await this.whenSession();
      const ack = await this.conn.call('complaint:get', { reference });
      if (reference !== this.reference) return;
      if (ack.ok) this.show(ack.complaint, { scroll });
      else if (!this.complaint) this.showNotice(errorText(ack.error));
    })();
    try {
      await this.refreshing;
    } finally {
      this.refreshing = null;
    }
    if (this.refreshAgain) {
      this.refreshAgain = false;
      await this.refresh();
    }
  }

  /** A `complaint:updated` hint from the server: fetch the thread if it is this complaint. */
  updated(complaint) {
    if (this.visible && complaint && complaint.reference === this.reference) this.refresh();
  }

  show(complaint, { scroll = false } = {}) {
    const pinned = scroll || this.nearBottom();
    this.complaint = complaint;
    this.render(complaint);
    this.onChange(complaint);
    if (pinned) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  retranslate() {
    this.label();
    if (!this.complaint) return;
    this.shownEntries = [];
    this.stage = '';
    clear(this.thread);
    this.render(this.complaint);
  }

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 48;
  }

  // -- drawing ---------------------------------------------------------------------------------------

  render(c) {
    this.pill.className = `pill pill--${c.status}`;
    this.pill.textContent = t(`status.${c.status}`) || c.status;
    this.renderSummary(c);
    this.renderMoney(c);
    // a preview from the list has no thread yet, and may be older than what the server says next
    if (c.entries) {
      this.renderThread(c);
      this.renderAction(c);
    }
    clear(this.foot);
    if (c.tracking_key) {
      this.foot.append(h('a', {
        class: 'link', target: '_blank', rel: 'noopener',
        href: `/track/${encodeURIComponent(c.reference)}?key=${encodeURIComponent(c.tracking_key)}`,
      }, t('case.track_link'), icon(ICONS.external)));
    }
    if (c.status === 'awaiting_customer') this.showNotice(t('case.awaiting'));
    else if (this.notice.dataset.kind === 'awaiting') this.showNotice('');
  }

  renderSummary(c) {
    const focused = document.activeElement && this.summary.contains(document.activeElement);
    const names = Object.fromEntries(this.getConfig().categories.map((x) => [x.slug, x.name]));
    clear(this.summary).append(
      h('span', { class: 'complaint-ref' }, c.reference),
      h('h2', { class: 'case-subject', tabindex: '-1' }, c.subject),
      h('p', { class: 'case-meta' }, [names[c.category], t('complaints.opened', { date: formatDate(c.created_at) })].filter(Boolean).join(' · ')),
      h('p', { class: 'case-due' }, icon(ICONS.clock), h('span', {}, dueText(c))));
    if (focused) this.summary.querySelector('.case-subject').focus({ preventScroll: true });
  }

  renderMoney(c) {
    clear(this.money).append(...(c.compensations || []).map((m) => h('div', { class: 'case-comp' },
      h('span', { class: 'case-comp-icon', 'aria-hidden': 'true' }, icon(ICONS.check)),
      h('div', { class: 'case-comp-text' },
        h('span', { class: 'case-comp-label' }, t('case.compensation')),
        h('strong', { class: 'case-comp-amount' }, formatMoney(m.amount_minor, m.currency)),
        m.reason ? h('span', { class: 'case-comp-reason' }, m.reason) : null))));
  }

  /** Adds what is new, so a screen reader announces only that; redraws if the past changed. */
  renderThread(c) {
    const items = threadItems(c);
    const keys = items.map((item) => item.key);
    const known = this.shownEntries;
    const continues = known.length <= keys.length && known.every((key, i) => keys[i] === key);
    if (!continues) {
      clear(this.thread);
      this.shownEntries = [];
    }
    for (const item of items.slice(this.shownEntries.length)) this.thread.append(threadLine(item));
    this.shownEntries = keys;
  }

  renderAction(c) {
    const stage = `${c.status}|${c.rating ? c.rating.score : ''}`;
    const open = OPEN.includes(c.status);
    this.composer.hidden = !open;
    if (stage === this.stage) return;
    const first = this.stage !== '';
    this.stage = stage;
    this.showError('');
    const card = actionCard(c, {
      decide: (decision, body) => this.act('complaint:reply', { decision, body: body || undefined }),
      rate: (score, comment) => this.act('complaint:rate', { score, comment: comment || undefined }),
      fail: (text) => this.showError(text),
    }, open ? null : this.error);
    clear(this.action);
    if (card) this.action.append(card);
    if (open) this.root.insertBefore(this.error, null);
    // a state the customer just reached gets the focus, so keyboards and screen readers follow
    if (first && card) card.querySelector('.end-title').focus({ preventScroll: true });
  }

  showNotice(text, kind = 'awaiting') {
    this.notice.textContent = text;
    this.notice.dataset.kind = text ? kind : '';
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  autosize() {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight, 132)}px`;
  }

  // -- talking to the server -------------------------------------------------------------------------

  async reply() {
    const body = this.input.value.trim();
    if (!body || this.send.dataset.busy) return;
    this.send.dataset.busy = '1';
    this.send.disabled = true;
    try {
      if (await this.act('complaint:reply', { body })) {
        this.input.value = '';
        this.autosize();
      }
    } finally {
      delete this.send.dataset.busy;
      this.send.disabled = !this.input.value.trim();
    }
  }

  /** One customer action; true when the server took it. A conflict means it changed meanwhile: show what it is now. */
  async act(event, payload) {
    this.showError('');
    this.conn.start();
    await this.whenSession();
    const ack = await this.conn.call(event, { reference: this.reference, ...payload });
    if (ack.ok) {
      this.show(ack.complaint, { scroll: true });
      return true;
    }
    if (ack.error && ack.error.code === 'conflict') {
      await this.refresh();
      this.showNotice(t('case.conflict'), 'conflict');
      return false;
    }
    this.showError(errorText(ack.error));
    return false;
  }
}

function dueText(c) {
  if (c.status === 'closed') return t('case.closed_on', { date: formatDate(c.closed_at || c.updated_at) });
  if (c.status === 'resolved') return t('case.resolved_on', { date: formatDate(c.resolved_at || c.updated_at) });
  if (c.status === 'awaiting_customer') return t('case.awaiting_due');
  if (c.response_due) return t('case.response_due', { date: formatDate(c.response_due) });
  return t('case.resolution_due', { date: formatDate(c.resolution_due) });
}

/** The thread as the customer sees it, with a line for each new day; the complaint's own text (from
 * the form) opens it. A run of messages from one author names them once. */
function threadItems(c) {
  const lines = [];
  if (c.body) lines.push({ key: 'body', kind: 'customer', body: c.body, at: c.created_at });
  for (const e of c.entries || []) lines.push({ key: e.id, kind: e.kind, body: e.body, author: e.author, at: e.created_at });
  const items = [];
  let lastDay = null;
  let lastAuthor = null;
  for (const line of lines) {
    const day = formatDay(line.at);
    if (day !== lastDay) {
      items.push({ key: `day:${day}`, kind: 'day', body: day });
      lastDay = day;
      lastAuthor = null;
    }
    if (line.kind === 'status') {
      items.push(line);
      continue;
    }
    const author = line.kind === 'customer' ? t('case.you') : (line.author || t('case.team'));
    items.push({ ...line, author, followup: author === lastAuthor });
    lastAuthor = author;
  }
  return items;
}

function threadLine(item) {
  if (item.kind === 'day') return h('li', { class: 'case-day' }, h('span', {}, item.body));
  if (item.kind === 'status') {
    return h('li', { class: 'msg msg--system' },
      h('span', { class: 'system-text' }, t('case.status_line', { status: t(`status.${item.body}`) || item.body })));
  }
  const mine = item.kind === 'customer';
  return h('li', { class: `msg ${mine ? 'msg--customer' : 'msg--agent'}${item.followup ? ' case-followup' : ''}` },
    h('div', { class: 'msg-body' },
      item.followup ? null : h('span', { class: 'msg-author' }, item.author),
      h('p', { class: 'bubble' }, linkify(item.body)),
      h('span', { class: 'msg-meta' }, h('time', { datetime: item.at }, formatTime(item.at)))));
}
