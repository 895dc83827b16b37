// What a customer may still do with a settled complaint: accept the resolution or ask for more,
// then rate the handling once it is closed. Each card calls back; the caller talks to the server.
import { h, icon, ICONS } from './dom.js';
import { t } from './i18n.js';

/** The card for a complaint's state, or null while the team is working on it (the composer is shown). */
export function actionCard(complaint, actions, error) {
  if (complaint.status === 'resolved') return decideCard(actions, error);
  if (complaint.status !== 'closed') return null;
  if (complaint.rating) {
    // the title already thanks them: the line only says what they gave
    return card('rated', ICONS.check, t('rate.thanks'), t('case.rated_score', { score: complaint.rating.score }), []);
  }
  return rateCard(actions, error);
}

function card(kind, iconPath, title, text, children) {
  return h('section', { class: `end-card case-card case-card--${kind}`, 'aria-labelledby': `case-card-${kind}` },
    iconPath ? h('div', { class: 'end-icon', 'aria-hidden': 'true' }, icon(iconPath)) : null,
    h('h3', { class: 'end-title', id: `case-card-${kind}`, tabindex: '-1' }, title),
    text ? h('p', { class: 'end-text' }, text) : null,
    ...children);
}

/** Buttons stay disabled while their request is on the way; `busy` returns a function that re-enables them. */
function busy(...buttons) {
  buttons.forEach((b) => { b.disabled = true; });
  return () => buttons.forEach((b) => { b.disabled = false; });
}

function decideCard(actions, error) {
  const accept = h('button', { type: 'button', class: 'btn btn-primary', id: 'case-accept' }, t('case.accept'));
  const clarify = h('button', { type: 'button', class: 'btn btn-secondary', id: 'case-clarify' }, t('case.clarify'));
  const text = h('textarea', { id: 'case-clarify-text', rows: 3, maxlength: 4000 });
  const send = h('button', { type: 'submit', class: 'btn btn-primary' }, t('case.clarify_send'));
  const cancel = h('button', { type: 'button', class: 'btn btn-ghost' }, t('complaints.cancel'));
  const explain = h('form', { class: 'case-clarify', novalidate: true, hidden: true },
    h('label', { class: 'field', for: 'case-clarify-text' }, h('span', {}, t('case.clarify_label')), text),
    h('div', { class: 'row' }, cancel, send));
  const choices = h('div', { class: 'row case-choices' }, accept, clarify);

  accept.addEventListener('click', async () => {
    const done = busy(accept, clarify);
    if (!(await actions.decide('accept'))) done();
  });
  clarify.addEventListener('click', () => {
    choices.hidden = true;
    explain.hidden = false;
    text.focus();
  });
  cancel.addEventListener('click', () => {
    explain.hidden = true;
    choices.hidden = false;
    clarify.focus();
  });
  explain.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = text.value.trim();
    if (!body) {
      actions.fail(t('case.explain_required'));
      text.setAttribute('aria-invalid', 'true');
      text.focus();
      return;
    }
    const done = busy(send, cancel);
    if (!(await actions.decide('clarify', body))) done();
  });
  text.addEventListener('input', () => text.removeAttribute('aria-invalid'));
  return card('decide', ICONS.shield, t('case.resolved_title'), t('case.resolved_hint'), [choices, explain, error]);
}

function rateCard(actions, error) {
  let score = 0;
  const stars = [];
  const send = h('button', { type: 'submit', class: 'btn btn-primary btn-block', disabled: true }, t('rate.send'));
  const comment = h('textarea', { id: 'case-rate-comment', rows: 2, maxlength: 2000, placeholder: t('rate.comment_placeholder') });
  const paint = (upTo) => stars.forEach((star, i) => star.classList.toggle('is-on', i < upTo));
  const group = h('div', { class: 'stars', role: 'radiogroup', 'aria-label': t('rate.stars') });
  for (let value = 1; value <= 5; value += 1) {
    const input = h('input', { type: 'radio', name: 'case-score', value: String(value), class: 'sr-only', 'aria-label': t('rate.star', { count: value }) });
    input.addEventListener('change', () => { score = value; send.disabled = false; paint(score); });
    const label = h('label', { class: 'star' }, input, icon(ICONS.star, { fill: true }));
    label.addEventListener('mouseenter', () => paint(value));
    label.addEventListener('mouseleave', () => paint(score));
    stars.push(label);
    group.append(label);
  }
  const form = h('form', { class: 'case-rate', novalidate: true },
    group,
    h('label', { class: 'field', for: 'case-rate-comment' }, h('span', {}, t('rate.comment')), comment),
    send);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!score) return;
    const done = busy(send);
    if (!(await actions.rate(score, comment.value.trim()))) done();
  });
  return card('rate', null, t('case.rate_title'), null, [form, error]);
}
