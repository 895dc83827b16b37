// A form in a native <dialog>: focus stays inside, Escape cancels; the error shows in the dialog
// and the submit button is busy while the request runs.

export function formDialog(dialogId, { prepare, submit }) {
  const dialog = document.getElementById(dialogId);
  const form = dialog.querySelector('form');
  const error = form.querySelector('.form-error');
  const button = form.querySelector('button[type="submit"]');
  const showError = (text) => {
    error.textContent = text || '';
    error.hidden = !text;
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
