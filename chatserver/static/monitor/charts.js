// Charts (Chart.js): the queue over today in 15-minute steps, and complaints by category per week.
import { $ } from './dom.js';
import { state } from './state.js';
import { clockTime, shortDate } from './format.js';

const PALETTE = ['#0a7d5a', '#2563eb', '#f59e0b', '#b42318', '#7c3aed', '#0891b2', '#db2777', '#64748b', '#65a30d', '#ea580c'];
const INK = '#5b6776';
const GRID = '#eef1f5';
let queueChart = null;
let weeklyChart = null;
let peaks = [];

function base() {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: 'index', intersect: false },
    plugins: { legend: { labels: { boxWidth: 12, boxHeight: 12, color: INK, font: { size: 12 } } } },
  };
}

function axis(extra = {}) {
  return { grid: { color: GRID }, border: { display: false }, ticks: { color: INK, font: { size: 11 } }, ...extra };
}

export function renderCharts() {
  if (!state.floor || typeof Chart === 'undefined') return;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  renderQueueChart(state.floor.timeline);
  renderWeeklyChart(state.floor.weekly);
}

function renderQueueChart(timeline) {
  const labels = timeline.map((b) => clockTime(b.start));
  const length = timeline.map((b) => b.queue_avg);
  const wait = timeline.map((b) => (b.wait_avg_seconds === null ? null : Math.round(b.wait_avg_seconds / 6) / 10));
  peaks = timeline.map((b) => b.queue_peak);
  $('queue-chart-empty').hidden = timeline.some((b) => b.queue_peak > 0);
  if (!queueChart) {
    queueChart = new Chart($('queue-chart'), {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { type: 'bar', label: 'Chats waiting (average)', data: length, backgroundColor: 'rgba(10,125,90,.6)', hoverBackgroundColor: '#0a7d5a', borderRadius: 3, yAxisID: 'y', order: 2 },
          { type: 'line', label: 'Average wait (min)', data: wait, borderColor: '#f59e0b', backgroundColor: '#f59e0b', borderWidth: 2, pointRadius: 2.5, spanGaps: true, cubicInterpolationMode: 'monotone', yAxisID: 'wait', order: 1 },
        ],
      },
      options: {
        ...base(),
        plugins: {
          ...base().plugins,
          legend: { ...base().plugins.legend, labels: { ...base().plugins.legend.labels, sort: (a, b) => a.datasetIndex - b.datasetIndex } },
          tooltip: { callbacks: { footer: (items) => `At most ${peaks[items[0].dataIndex]} waiting at once` } },
        },
        scales: {
          x: axis({ grid: { display: false }, ticks: { color: INK, font: { size: 11 }, maxRotation: 0, autoSkip: true, autoSkipPadding: 14 } }),
          // whole chats and whole minutes, 0 to 1 at least: an empty day shows two ticks, not 0.0, 0.1 … 1.0
          y: axis({ beginAtZero: true, suggestedMax: 1, title: { display: true, text: 'chats waiting', color: INK }, ticks: { color: INK, font: { size: 11 }, precision: 0 } }),
          wait: axis({ beginAtZero: true, suggestedMax: 1, position: 'right', grid: { display: false }, title: { display: true, text: 'minutes', color: INK }, ticks: { color: INK, font: { size: 11 }, precision: 0 } }),
        },
      },
    });
    return;
  }
  queueChart.data.labels = labels;
  queueChart.data.datasets[0].data = length;
  queueChart.data.datasets[1].data = wait;
  queueChart.update('none');
}

function renderWeeklyChart(weekly) {
  const labels = weekly.weeks.map(shortDate);
  const datasets = weekly.categories.map((c, i) => ({
    label: c.name, data: c.counts, backgroundColor: PALETTE[i % PALETTE.length], borderRadius: 2, maxBarThickness: 42,
  }));
  $('weekly-chart-empty').hidden = datasets.length > 0;
  if (!weeklyChart) {
    weeklyChart = new Chart($('weekly-chart'), {
      type: 'bar',
      data: { labels, datasets },
      options: {
        ...base(),
        plugins: { ...base().plugins, legend: { ...base().plugins.legend, position: 'bottom' },
          tooltip: { callbacks: { title: (items) => `Week of ${items[0].label}` } } },
        scales: {
          x: axis({ stacked: true, grid: { display: false } }),
          y: axis({ stacked: true, beginAtZero: true, ticks: { color: INK, precision: 0 } }),
        },
      },
    });
    return;
  }
  weeklyChart.data.labels = labels;
  weeklyChart.data.datasets = datasets;
  weeklyChart.update('none');
}
