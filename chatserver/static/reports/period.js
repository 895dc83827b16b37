// Period presets: the dates are only editable for "Custom dates"; editing a date switches to it.
export function setupPeriod(form) {
  if (!form) return;
  const preset = form.elements.preset;
  const dates = [form.elements.from, form.elements.to];

  function sync() {
    const custom = preset.value === 'custom';
    for (const input of dates) {
      input.closest('label').classList.toggle('is-idle', !custom);
    }
  }

  // A preset chosen from the open list applies at once. Arrow keys and typing on the closed list only
  // move the choice (each step would otherwise reload the page under the keyboard); Enter applies it.
  let stepping = false;
  preset.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    stepping = !event.altKey && (event.key.startsWith('Arrow') || ['Home', 'End', 'PageUp', 'PageDown'].includes(event.key)
      || (event.key.length === 1 && event.key !== ' '));
  });
  preset.addEventListener('pointerdown', () => { stepping = false; });
  preset.addEventListener('change', () => {
    sync();
    if (preset.value !== 'custom' && !stepping) form.requestSubmit();
    stepping = false;
  });
  for (const input of dates) {
    input.addEventListener('input', () => {
      preset.value = 'custom';
      sync();
    });
  }
  // a preset decides the dates on the server: don't send stale ones along
  // and leave unused filters out of the address, so it stays short enough to share
  form.addEventListener('submit', () => {
    for (const input of dates) input.disabled = preset.value !== 'custom';
    for (const select of form.querySelectorAll('select')) select.disabled = select.value === '';
  });
  // back/forward restores a form whose inputs were disabled on submit
  window.addEventListener('pageshow', () => {
    for (const input of form.querySelectorAll('input, select')) input.disabled = false;
    sync();
  });
  sync();
}
