// The reports page: the period controls, and the charts drawn from the numbers the server embedded in
// #report's data-report attribute (the tables beside them carry the same numbers as text).
import { setupPeriod } from './period.js';
import { drawCharts, paintSwatches } from './charts.js';

setupPeriod(document.getElementById('filters'));

const report = document.getElementById('report');
const raw = report?.dataset.report;
if (raw) {
  const data = JSON.parse(raw);
  paintSwatches(data);
  // Chart.js is a classic deferred script: it has run before this module
  if (window.Chart) drawCharts(data);
}
