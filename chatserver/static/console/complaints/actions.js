// What one may do with a complaint in its state, and the action bar that offers exactly that:
// start, assign (to me, to a colleague, to nobody), change category, escalate, resolve.
import { h, clear } from '../dom.js';
import { patch, post, complaintPath } from './api.js';
import { formDialog, refuse } from './dialog.js';
import { cx, ROLE_MAX_LEVEL, activeCategories, categoryName } from './store.js';
import { LEVEL } from './format.js';

const OPEN = new Set(['new', 'in_progress', 'awaiting_customer', 'reopened']);
const ASKABLE = new Set(['new', 'in_progress', 'reopened']);
const ROLE = { agent: 'Agent', supervisor: 'Supervisor', admin: 'Admin' };

/** The lifecycle as the server enforces it, so the console offers only what will be accepted. */
export function legal(complaint, me = cx.me) {
  const maxLevel = ROLE_MAX_LEVEL[me.role] || 0;
  const live = complaint.status !== 'closed';
  const act = live && complaint.level <= maxLevel;
  const supervisor = me.role === 'supervisor' || me.role === 'admin';
  const mine = complaint.assignee && complaint.assignee.id === me.id;
  const start = act && (complaint.status === 'new' || complaint.status === 'reopened');
  const decide = complaint.level <= maxLevel && supervisor; // proposals made before it closed, too
  const undecided = (complaint.compensations || []).some((c) => c.status === 'proposed');
  let readOnly = null;
  if (!live) {
    readOnly = decide && undecided
      ? 'This complaint is closed; only the compensation proposed before it closed is still to be decided.'
      : 'This complaint is closed; its record stays as it is.';
  }
  else if (!act) readOnly = `Level ${complaint.level} belongs to ${LEVEL[complaint.level].toLowerCase()}. You can read everything; ${complaint.level === 2 ? 'a supervisor or admin' : 'an admin'} acts on it.`;
  return {
    readOnly,
    start,
    // starting a free complaint takes it, so "Assign to me" would say the same twice
    assignMe: act && !mine && (supervisor || !complaint.assignee) && !(start && !complaint.assignee),
    release: act && mine,
    assign: act && supervisor,
    category: act,
    escalate: act && complaint.level < 3,
    reply: act && OPEN.has(complaint.status),
    ask: act && ASKABLE.has(complaint.status),
    resolve: act && OPEN.has(complaint.status),
    note: act,
    propose: act,
    decide,
  };
}

/** An assignment that names whom the caller saw the complaint with: a colleague's reassignment a
 * moment before is then refused (409) and shown, not silently overridden. */
function assignTo(assigneeId, seen) {
  return { assignee_id: assigneeId, from_assignee_id: seen.assignee ? seen.assignee.id : null };
}

export class ActionBar {
  /** `changed(detail)` shows the server's answer; `resolve()` turns the composer to a resolution;
   * `stale()` reads the complaint again. */
  constructor({ changed, resolve, report, stale }) {
    this.changed = changed;
    this.stale = stale;
    this.resolveInComposer = resolve;
    this.report = report;
    this.openAssign = formDialog('cx-assign-dialog', { prepare: (form) => this.prepareAssign(form), submit: (form) => this.submitAssign(form) });
    this.openCategory = formDialog('cx-category-dialog', { prepare: (form) => this.prepareCategory(form), submit: (form) => this.submitCategory(form) });
    this.openEscalate = formDialog('cx-escalate-dialog', { prepare: (form) => this.prepareEscalate(form), submit: (form) => this.submitEscalate(form) });
  }

  render(container, complaint) {
    this.complaint = complaint;
    const can = legal(complaint);
    const button = (label, onclick, { primary = false, id } = {}) =>
      h('button', { type: 'button', class: primary ? 'button-primary' : 'button-quiet', id, onclick: (e) => onclick(e.currentTarget) }, label);
    const buttons = [
      can.start ? button(complaint.assignee ? 'Start work' : 'Start work · take it', (b) => this.run(b, { status: 'in_progress' }), { primary: true, id: 'cx-start' }) : null,
      can.assignMe ? button('Assign to me', (b) => this.run(b, assignTo(cx.me.id, complaint)), { id: 'cx-assign-me' }) : null,
      can.assign ? button('Assign…', () => this.openAssign(), { id: 'cx-assign' }) : null,
      can.release ? button('Let go', (b) => this.run(b, assignTo(null, complaint)), { id: 'cx-release' }) : null,
      can.category ? button('Category…', () => this.openCategory(), { id: 'cx-category' }) : null,
      can.escalate ? button('Escalate…', () => this.openEscalate(), { id: 'cx-escalate' }) : null,
      can.resolve ? button('Resolve…', () => this.resolveInComposer(), { id: 'cx-resolve' }) : null,
    ].filter(Boolean);
    clear(container).append(...buttons);
    container.hidden = !buttons.length;
  }

  /** A change; when the complaint changed meanwhile (409), the view is read again at once. */
  async send(changes) {
    try {
      return await patch(complaintPath(this.complaint.reference), changes);
    } catch (error) {
      if (error.status === 409) this.stale();
      throw error;
    }
  }

  async run(button, changes) {
    button.disabled = true;
    try {
      const answer = await this.send(changes);
      this.changed(answer.complaint);
    } catch (error) {
      this.report(error.message);
      button.disabled = false;
    }
  }

  prepareAssign(form) {
    const complaint = this.complaint;
    const able = cx.users.filter((u) => (ROLE_MAX_LEVEL[u.role] || 0) >= complaint.level && u.status !== 'inactive');
    form.querySelector('#cx-assign-hint').textContent = `Staff who handle level ${complaint.level}. The assignee sees it under "Me".`;
    const box = clear(form.querySelector('#cx-assign-choices'));
    box.append(h('legend', { class: 'sr-only' }, 'Assign to'));
    const current = complaint.assignee ? complaint.assignee.id : '';
    this.seen = complaint; // as the dialog showed it, even if a live update redraws the page meanwhile
    for (const user of able) {
      box.append(h('label', { class: 'choice' },
        h('input', { type: 'radio', name: 'assignee', value: user.id, checked: user.id === current }),
        h('span', {}, h('strong', {}, user.id === cx.me.id ? `${user.name} (you)` : user.name),
          h('small', {}, h('span', { class: `status-dot status-${user.status === 'online' || user.status === 'away' ? user.status : 'offline'}`, 'aria-hidden': 'true' }), `${ROLE[user.role] || user.role}${user.status ? ` · ${user.status}` : ''}`))));
    }
    box.append(h('label', { class: 'choice' },
      h('input', { type: 'radio', name: 'assignee', value: '', checked: !current }),
      h('span', {}, h('strong', {}, 'Nobody'), h('small', {}, 'Back to the owner group to pick up.'))));
  }

  async submitAssign(form) {
    const chosen = form.querySelector('input[name="assignee"]:checked');
    if (!chosen) return 'Choose who takes it.';
    const answer = await this.send(assignTo(chosen.value || null, this.seen));
    this.changed(answer.complaint);
    return null;
  }

  prepareCategory(form) {
    const select = form.querySelector('select');
    // its own category stays on offer, retired or not, so saving unchanged moves it nowhere
    const offered = activeCategories().map((c) => c.slug);
    if (!offered.includes(this.complaint.category)) offered.unshift(this.complaint.category);
    select.replaceChildren(...offered.map((slug) => h('option', { value: slug }, categoryName(slug))));
    select.value = this.complaint.category;
  }

  async submitCategory(form) {
    const category = form.querySelector('select').value;
    if (category === this.complaint.category) return null;
    const answer = await this.send({ category });
    this.changed(answer.complaint);
    return null;
  }

  prepareEscalate(form) {
    // the level this dialog promises to raise it from, kept even if the page updates meanwhile
    this.escalateFrom = this.complaint.level;
    const next = this.escalateFrom + 1;
    form.querySelector('#cx-escalate-hint').textContent =
      `Level ${next} · ${LEVEL[next]} take over; each of them gets an e-mail and it leaves its current assignee.`;
    form.reason.value = '';
  }

  async submitEscalate(form) {
    const reason = form.reason.value.trim();
    if (!reason) return refuse(form.reason, 'Write why it needs the next level.');
    // someone else, or the SLA, may have raised it since the dialog opened: then the server says so
    const answer = await post(`${complaintPath(this.complaint.reference)}/escalate`, { reason, from_level: this.escalateFrom });
    this.changed(answer.complaint);
    return null;
  }
}

