// Chart.js 4 (window.Chart, from static/vendor): chats and complaints by category, and by day.
// The same category colours as the monitor, in the categories' configured order.
const PALETTE = ['#0a7d5a', '#2563eb', '#f59e0b', '#b42318', '#7c3aed', '#0891b2', '#db2777', '#64748b', '#65a30d', '#ea580c'];
const INK = '#5b6776';
const GRID = '#eef1f5';
const CHATS = '#16202c';

function colours(data) {
  const map = new Map();
  data.categories.forEach((c, i) => map.set(c.slug, PALETTE[i % PALETTE.length]));
  return map;
}

export function paintSwatches(data) {
  const map = colours(data);
  for (const swatch of document.querySelectorAll('.rp-swatch[data-slug]')) {
    swatch.style.background = map.get(swatch.dataset.slug) || PALETTE[7];
  }
}

function axis(extra = {}) {
  return { grid: { color: GRID }, border: { display: false }, ticks: { color: INK, font: { size: 11 } }, ...extra };
}

/** An axis of counts: whole numbers from zero, 0 to 1 at least, so small numbers get no 0.5 ticks. */
function counts(extra = {}) {
  return axis({ beginAtZero: true, suggestedMax: 1, ticks: { color: INK, font: { size: 11 }, precision: 0 }, ...extra });
}

function base() {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: {
      legend: { position: 'bottom', labels: { boxWidth: 10, boxHeight: 10, color: INK, font: { size: 12 }, padding: 12 } },
      tooltip: { mode: 'index', intersect: false },
    },
  };
}

function shortDay(iso) {
  const [, month, day] = iso.split('-').map(Number);
  return `${day} ${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][month - 1]}`;
}

export function drawCharts(data) {
  const { Chart } = window;
  const map = colours(data);
  const byCategory = document.getElementById('chart-categories');
  if (byCategory && data.categories.length) {
    new Chart(byCategory, {
      type: 'bar',
      data: {
        labels: data.categories.map((c) => c.name),
        datasets: [
          { label: 'Chats', data: data.categories.map((c) => c.chats), backgroundColor: '#cfe9de', borderColor: '#0a7d5a', borderWidth: 1, borderRadius: 3 },
          { label: 'Complaints', data: data.categories.map((c) => c.complaints), backgroundColor: data.categories.map((c) => map.get(c.slug)), borderRadius: 3 },
        ],
      },
      options: {
        ...base(),
        indexAxis: 'y',
        scales: { x: counts(), y: axis({ grid: { display: false } }) },
      },
    });
  }
  const byDay = document.getElementById('chart-days');
  if (byDay && data.days.length) {
    const labels = data.days.map((d) => shortDay(d.date));
    const stacks = data.categories.map((c) => ({
      type: 'bar',
      label: c.name,
      data: data.days.map((d) => d.by_category[c.slug] || 0),
      backgroundColor: map.get(c.slug),
      stack: 'complaints',
      borderRadius: 0,
      order: 2,
    }));
    new Chart(byDay, {
      data: {
        labels,
        datasets: [
          { type: 'line', label: 'Chats', data: data.days.map((d) => d.chats), borderColor: CHATS, backgroundColor: CHATS, borderWidth: 2, pointRadius: data.days.length > 45 ? 0 : 2, tension: 0.25, order: 1 },
          ...stacks,
        ],
      },
      options: {
        ...base(),
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: axis({ stacked: true, grid: { display: false }, ticks: { color: INK, font: { size: 11 }, maxRotation: 0, autoSkipPadding: 12 } }),
          y: counts({ stacked: true }),
        },
      },
    });
  }
}
