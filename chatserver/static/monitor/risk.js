// Complaints whose SLA is about to pass or has passed, by level, with escalate and assign at hand.
import { $, h, clear } from './dom.js';
import { state } from './state.js';
import { customerLabel } from './format.js';
import { escalateComplaint, assignComplaint } from './dialogs.js';
import { due } from './ticker.js';

const LEVELS = { 1: 'Agents', 2: 'Supervisors', 3: 'Management' };
let filter = 'all';

export function setupRisk() {
  for (const button of document.querySelectorAll('#risk-filter button')) {
    button.addEventListener('click', () => {
      filter = button.dataset.filter;
      renderRisk();
    });
  }
}

export function renderRisk() {
  const complaints = state.floor?.complaints;
  if (!complaints) return;
  $('risk-hint').textContent = `Due within ${complaints.warning_hours} h, or already overdue`;
  const matrix = clear($('risk-levels'));
  for (const level of ['1', '2', '3']) {
    const counts = complaints.by_level[level] || { at_risk: 0, breached: 0 };
    matrix.append(h('div', { class: 'level-cell', dataset: { level } },
      h('span', { class: 'level-name' }, `Level ${level}`, h('small', {}, LEVELS[level])),
      h('span', { class: `level-count${counts.breached ? ' is-breached' : ''}` }, h('strong', {}, counts.breached), ' breached'),
      h('span', { class: `level-count${counts.at_risk ? ' is-at-risk' : ''}` }, h('strong', {}, counts.at_risk), ' at risk')));
  }
  for (const button of document.querySelectorAll('#risk-filter button')) {
    button.setAttribute('aria-pressed', String(button.dataset.filter === filter));
    const count = button.dataset.filter === 'breached' ? complaints.breached_total
      : button.dataset.filter === 'at_risk' ? complaints.at_risk_total : complaints.breached_total + complaints.at_risk_total;
    button.querySelector('.count').textContent = count;
  }
  const items = [
    ...(filter !== 'at_risk' ? complaints.breached : []),
    ...(filter !== 'breached' ? complaints.at_risk : []),
  ];
  const list = clear($('risk-list'));
  $('risk-empty').hidden = items.length > 0;
  $('risk-empty').textContent = filter === 'breached' ? 'No complaint is overdue.' : 'No complaint is close to its due time.';
  for (const item of items) list.append(row(item));
  const shown = (filter !== 'at_risk' ? complaints.breached.length : 0) + (filter !== 'breached' ? complaints.at_risk.length : 0);
  const total = (filter !== 'at_risk' ? complaints.breached_total : 0) + (filter !== 'breached' ? complaints.at_risk_total : 0);
  $('risk-more').hidden = total <= shown;
  $('risk-more').textContent = `Showing the ${shown} most urgent of ${total}. The console's complaint list has them all.`;
}

function row(item) {
  const mayAct = { agent: 1, supervisor: 2, admin: 3 }[state.me.role] >= item.level;
  return h('li', { class: `risk-item is-${item.risk}`, dataset: { reference: item.reference } },
    h('div', { class: 'risk-top' },
      h('a', { class: 'risk-ref', href: `/console#complaints/${encodeURIComponent(item.reference)}` }, item.reference),
      h('span', { class: `level-badge level-${item.level}`, title: `Level ${item.level}: ${LEVELS[item.level]}` }, `L${item.level}`),
      h('span', { class: `risk-due ${item.risk === 'breached' ? 'is-breached' : 'is-at-risk'}` },
        h('span', { class: 'sr-only' }, item.risk === 'breached' ? 'Breached: ' : 'At risk: '),
        item.due_target === 'response' ? 'Answer ' : 'Resolution ',
        due(item.due_at))),
    h('p', { class: 'risk-subject' }, item.subject),
    h('p', { class: 'risk-meta' },
      item.category_name, ' · ',
      item.assignee ? item.assignee.name : h('span', { class: 'unassigned' }, 'Unassigned'),
      item.customer_name ? [' · ', customerLabel(item.customer_name)] : null),
    h('div', { class: 'risk-actions' },
      h('button', { type: 'button', class: 'btn btn-quiet btn-small', disabled: !mayAct || item.level >= 3, onclick: () => escalateComplaint(item) }, 'Escalate…'),
      h('button', { type: 'button', class: 'btn btn-quiet btn-small', disabled: !mayAct, onclick: () => assignComplaint(item) }, 'Assign…')));
}
