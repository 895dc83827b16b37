// Small conveniences on admin pages; every form works without this script.

// A secret shown once: a Copy button, and the whole value selected on focus.
for (const button of document.querySelectorAll('button.copy[data-copy]')) {
  const field = document.getElementById(button.dataset.copy);
  if (!field || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      button.textContent = 'Copied';
    } catch {
      field.select();
    }
  });
}
for (const field of document.querySelectorAll('input[data-secret]')) {
  field.addEventListener('focus', () => field.select());
}

// The brand colour: a picker takes the swatch's place, kept in step with the text field.
const colorText = document.querySelector('input[data-color-text]');
const swatch = document.querySelector('.color-row .swatch');
if (colorText && swatch) {
  const picker = document.createElement('input');
  picker.type = 'color';
  picker.className = 'color-picker';
  picker.setAttribute('aria-label', 'Pick the brand colour');
  const valid = (value) => /^#[0-9a-f]{6}$/i.test(value);
  picker.value = valid(colorText.value) ? colorText.value.toLowerCase() : swatch.querySelector('rect').getAttribute('fill');
  swatch.replaceWith(picker);
  picker.addEventListener('input', () => { colorText.value = picker.value; });
  colorText.addEventListener('input', () => { if (valid(colorText.value)) picker.value = colorText.value.toLowerCase(); });
}

// On a phone the navigation is a scrolling strip: bring the current page into view.
const current = document.querySelector('.admin-nav a[aria-current="page"]');
function showCurrent() {
  const strip = current && current.closest('ul');
  if (strip && strip.scrollWidth > strip.clientWidth) {
    strip.scrollLeft = current.offsetLeft - (strip.clientWidth - current.offsetWidth) / 2;
  }
}
showCurrent();
window.matchMedia('(max-width: 760px)').addEventListener('change', showCurrent);

// After a refused form, take keyboard and screen-reader users to the list of problems.
const summary = document.getElementById('error-summary');
if (summary) summary.focus();
