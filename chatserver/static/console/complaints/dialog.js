// A form in a native <dialog>: focus stays inside, Escape cancels; the error shows in the dialog
// and the submit button is busy while the request runs.

/** Mark `field` as refused for the reason in `error` (aria-invalid, and described by it), or clear that. */
export function markInvalid(field, error, invalid) {
  const described = (field.getAttribute('aria-describedby') || '').split(/\s+/).filter((id) => id && id !== error.id);
  if (invalid) {
    field.setAttribute('aria-invalid', 'true');
    described.push(error.id);
  } else {
    field.removeAttribute('aria-invalid');
  }
  if (described.length) field.setAttribute('aria-describedby', described.join(' '));
  else field.removeAttribute('aria-describedby');
}

/** What a `submit` returns for a field it refuses: the field gets the focus, and is marked with the error. */
export function refuse(field, text) {
  field.focus();
  return { text, field };
}

export function formDialog(dialogId, { prepare, submit }) {
  const dialog = document.getElementById(dialogId);
  const form = dialog.querySelector('form');
  const error = form.querySelector('.form-error');
  if (!error.id) error.id = `${dialogId}-error`;
  const button = form.querySelector('button[type="submit"]');
  /** `problem`: the text, or what `refuse` returns; a field marked before is cleared either way. */
  const showError = (problem) => {
    const { text, field } = typeof problem === 'object' && problem ? problem : { text: problem, field: null };
    error.textContent = text || '';
    error.hidden = !text;
    for (const marked of form.querySelectorAll('[aria-invalid="true"]')) markInvalid(marked, error, false);
    if (field && text) markInvalid(field, error, true);
  };
  for (const cancel of form.querySelectorAll('[data-close]')) cancel.addEventListener('click', () => dialog.close());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    try {
      const problem = await submit(form);
      if (problem) showError(problem);
      else dialog.close();
    } catch (failure) {
      showError(failure.message);
    } finally {
      button.disabled = false;
    }
  });
  return (...args) => {
    showError('');
    prepare(form, ...args);
    dialog.showModal();
    const first = form.querySelector('input:checked, input:not([type="radio"]), select, textarea');
    if (first) first.focus();
  };
}
