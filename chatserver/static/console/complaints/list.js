// The complaint list: filters, search, sort, rows with due times, "Load more", and live row updates.
import { $, h, clear, icon, initials, setText } from '../dom.js';
import { get, query } from './api.js';
import { cx, PAGE_SIZE, categoryName, replaceRow, matchesFilters } from './store.js';
import { STATUS, CHANNEL, LEVEL, dueState } from './format.js';

const SEARCH_DELAY_MS = 300;
const FILTERS = { status: 'cx-f-status', category: 'cx-f-category', level: 'cx-f-level', assignee: 'cx-f-assignee', sort: 'cx-f-sort' };

export class ComplaintList {
  constructor({ open }) {
    this.open = open;
    this.seq = 0;
    this.searchTimer = null;
    this.loadError = null;
    this.setupError = null;
    for (const [key, id] of Object.entries(FILTERS)) {
      $(id).addEventListener('change', () => { cx.filters[key] = $(id).value; this.load(); });
    }
    $('cx-q').addEventListener('input', () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.search(), SEARCH_DELAY_MS);
    });
    $('cx-search').addEventListener('submit', (event) => { event.preventDefault(); this.search(); });
    $('cx-more').addEventListener('click', () => this.load({ append: true }));
    $('cx-fresh').addEventListener('click', () => this.load());
    $('cx-clear').addEventListener('click', () => this.clearFilters());
    $('cx-rows').addEventListener('keydown', (event) => this.arrows(event));
  }

  /** Up and down move between rows, like in a mail client. */
  arrows(event) {
    const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (!step) return;
    const buttons = [...$('cx-rows').querySelectorAll('.cx-row-main')];
    const index = buttons.indexOf(document.activeElement);
    if (index < 0) return;
    event.preventDefault();
    buttons[Math.min(buttons.length - 1, Math.max(0, index + step))].focus();
  }

  search() {
    clearTimeout(this.searchTimer);
    const q = $('cx-q').value.trim();
    if (q === cx.filters.q) return;
    cx.filters.q = q;
    this.load();
  }

  clearFilters() {
    Object.assign(cx.filters, { status: '', category: '', level: '', assignee: '', q: '' });
    for (const [key, id] of Object.entries(FILTERS)) $(id).value = cx.filters[key];
    $('cx-q').value = '';
    this.load();
  }

  /** Options that depend on the server's data: categories and colleagues. */
  fillOptions() {
    const category = $('cx-f-category');
    category.replaceChildren(h('option', { value: '' }, 'Any'),
      ...cx.categories.map((c) => h('option', { value: c.slug }, c.active ? categoryName(c.slug) : `${categoryName(c.slug)} (retired)`)));
    category.value = cx.filters.category;
    const owner = $('cx-f-assignee');
    const colleagues = cx.users.filter((u) => u.id !== cx.me.id);
    owner.replaceChildren(
      h('option', { value: '' }, 'Anyone'), h('option', { value: 'me' }, 'Me'), h('option', { value: 'none' }, 'Unassigned'),
      colleagues.length ? h('optgroup', { label: 'Colleagues' }, ...colleagues.map((u) => h('option', { value: u.id }, u.name))) : null,
    );
    owner.value = cx.filters.assignee;
  }

  async load({ append = false } = {}) {
    const seq = ++this.seq;
    const f = cx.filters;
    const offset = append ? cx.rows.length : 0;
    $('cx-more').disabled = true;
    this.busy(true);
    try {
      const page = await get(`/api/complaints${query({
        status: f.status, category: f.category, level: f.level, assignee: f.assignee, q: f.q, sort: f.sort, limit: PAGE_SIZE, offset,
      })}`);
      if (seq !== this.seq) return;
      cx.rows = append ? [...cx.rows, ...page.complaints.filter((c) => !cx.rows.some((r) => r.reference === c.reference))] : page.complaints;
      cx.total = page.total;
      cx.loaded = true;
      this.showError(null);
      $('cx-fresh').hidden = true;
    } catch (error) {
      if (seq !== this.seq) return;
      this.showError(append ? `More complaints could not be loaded: ${error.message}` : `The list could not be loaded: ${error.message}`);
    } finally {
      if (seq === this.seq) this.busy(false);
    }
    this.render();
  }

  busy(on) {
    $('cx-rows').setAttribute('aria-busy', String(on));
    $('complaints').classList.toggle('is-loading', on);
  }

  /** The list's own failure and a failure to load filter options are shown together. */
  showError(text) {
    this.loadError = text;
    this.paintErrors();
  }

  setSetupError(text) {
    this.setupError = text;
    this.paintErrors();
  }

  paintErrors() {
    const text = [this.loadError, this.setupError].filter(Boolean).join(' ');
    $('cx-list-error').textContent = text;
    $('cx-list-error').hidden = !text;
  }

  render() {
    const list = $('cx-rows');
    const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.dataset.reference : null;
    clear(list);
    const now = Date.now();
    for (const complaint of cx.rows) list.append(row(complaint, now, this.open));
    const filtered = Object.entries(cx.filters).some(([key, value]) => key !== 'sort' && value);
    setText($('cx-total'), cx.loaded
      ? `${cx.rows.length < cx.total ? `${cx.rows.length} of ` : ''}${cx.total} complaint${cx.total === 1 ? '' : 's'}${filtered ? ' match' : ''}`
      : 'Loading…');
    $('cx-clear').hidden = !filtered;
    for (const [key, id] of Object.entries(FILTERS)) if (key !== 'sort') $(id).parentElement.classList.toggle('is-set', Boolean(cx.filters[key]));
    $('cx-empty').hidden = !cx.loaded || cx.rows.length > 0;
    $('cx-empty').textContent = filtered ? 'No complaint matches these filters.' : 'No complaints yet. They appear here when a chat ends unsolved, a customer writes in, or you log one.';
    $('cx-more').hidden = cx.rows.length >= cx.total;
    $('cx-more').disabled = false;
    $('cx-more').textContent = `Load more (${cx.total - cx.rows.length} left)`;
    if (focused) list.querySelector(`[data-reference="${CSS.escape(focused)}"]`)?.focus();
  }

  /** A live change: the row updates where it is (no jumping under the cursor); unknown ones offer a refresh. */
  update(complaint) {
    if (replaceRow(complaint)) this.render();
    else if (cx.loaded && matchesFilters(complaint)) $('cx-fresh').hidden = false;
  }
}

function row(complaint, now, open) {
  const due = dueState(complaint, now);
  const channel = CHANNEL[complaint.channel] || CHANNEL.chat;
  const owner = complaint.assignee;
  const selected = complaint.reference === cx.selected;
  return h('li', { class: `cx-row${selected ? ' is-selected' : ''}` },
    h('button', {
      type: 'button', class: 'cx-row-main', dataset: { reference: complaint.reference }, 'aria-current': selected ? 'true' : null,
      onclick: () => open(complaint.reference),
    },
    h('span', { class: 'cx-row-top' },
      h('span', { class: 'cx-channel', title: channel.label }, icon(channel.icon), h('span', { class: 'sr-only' }, channel.label)),
      h('code', { class: 'cx-ref' }, complaint.reference),
      h('span', { class: `cx-level cx-level-${complaint.level}`, title: `Level ${complaint.level}: ${LEVEL[complaint.level]}` }, `L${complaint.level}`),
      h('span', { class: `cx-due cx-due-${due.tone}` }, due.text)),
    h('strong', { class: 'cx-row-subject' }, complaint.subject || '(no subject)'),
    h('span', { class: 'cx-row-meta' },
      h('span', { class: `cx-status cx-status-${complaint.status}` }, STATUS[complaint.status] || complaint.status),
      h('span', { class: 'cx-row-category' }, categoryName(complaint.category)),
      h('span', { class: `cx-owner${owner ? '' : ' is-free'}` },
        owner ? h('span', { class: 'cx-owner-avatar', 'aria-hidden': 'true' }, initials(owner.name)) : null,
        h('span', { class: 'cx-owner-name' }, owner ? (owner.id === cx.me.id ? 'You' : owner.name) : 'Unassigned')))));
}
