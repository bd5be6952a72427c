// Sensors: every time series under sensors/ plotted (uPlot), plain values as a table, live through /events.
'use strict';
const COLOURS = ['#246', '#a52', '#272', '#727', '#555'];
const RANGES = { day: 86400, week: 604800, month: 2592000, year: 31536000 };

/** The legend under a plot: each field's value at `idx`, or the latest when the pointer is not on the plot. */
function showLegend(u, idx) {
  if (!u.legendList) return; // uPlot sets its data once before the list is there
  const last = u.data[0].length - 1;
  const at = idx ?? last;
  const items = u.series.slice(1).map((series, i) => {
    const swatch = igor.el('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.background = series.stroke(); // a property, not a style attribute: the pages' CSP allows no inline style
    return igor.el('li', {}, swatch, `${series.label} `, igor.el('b', {}, at >= 0 ? series.value(u, u.data[i + 1][at]) : '–'));
  });
  const when = at >= 0 ? new Date(u.data[0][at] * 1000).toLocaleString() : '';
  u.legendList.replaceChildren(...items, igor.el('li', { class: 'muted' }, idx == null && when ? `latest: ${when}` : when));
}

/** uPlot options: one y axis per unit (the first on the left, others on the right), dates in the reader's locale. */
function plotOptions(c, width) {
  const units = [...new Set(c.fields.map((f) => f.unit))];
  // Ticks in the reader's locale: dates when they are days apart, else times, with the date where the day changes.
  const dates = (u, splits, axis, space, increment) =>
    splits.map((t, i) => {
      const d = new Date(t * 1000);
      const date = d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
      if (increment >= 86400) return date;
      const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
      const dayBefore = i > 0 && new Date(splits[i - 1] * 1000).toDateString() === d.toDateString();
      return dayBefore ? time : `${time}\n${date}`;
    });
  return {
    width,
    height: 220,
    // The legend is ours (legend() below): the latest values, or those under the pointer.
    legend: { show: false },
    hooks: { setCursor: [(u) => showLegend(u, u.cursor.idx)], setData: [(u) => showLegend(u, null)] },
    scales: Object.fromEntries(units.map((u) => [u || 'value', { auto: true }])),
    series: [
      { label: 'time', value: (u, t) => (t == null ? '–' : new Date(t * 1000).toLocaleString()) },
      ...c.fields.map((f, i) => ({
        label: f.unit ? `${f.name} (${f.unit})` : f.name,
        scale: f.unit || 'value',
        stroke: COLOURS[i % COLOURS.length],
        value: (u, v) => igor.series.format(v, f.unit),
        spanGaps: true,
      })),
    ],
    axes: [
      { values: dates, space: 80 },
      ...units.map((u, i) => ({ scale: u || 'value', side: i === 0 ? 3 : 1, grid: { show: i === 0 }, label: u || undefined, size: 60 })),
    ],
  };
}

document.addEventListener('DOMContentLoaded', async () => {
  await igor.nav();
  const chartsBox = document.getElementById('charts');
  const tbody = document.querySelector('#values tbody');
  const plots = new Map();
  const rangePicker = document.getElementById('range');
  const draw = async () => {
    let sensors;
    try {
      sensors = igor.content(await igor.request('/data/sensors'));
    } catch (err) {
      igor.say(
        document.getElementById('problem'),
        err.status === 401 ? `${err.message} — log in to see the sensors` : err.message,
        'error',
      );
      return false;
    }
    const found = igor.series.walk(sensors, 'sensors');
    const charts = found.filter((s) => s.series).map((s) => ({ path: s.path, ...s.series }));
    const values = found.filter((s) => !s.series).map((s) => [s.path, s.value, s.unit]);
    const range = RANGES[rangePicker.value];
    const from = range ? Date.now() / 1000 - range : -Infinity;
    for (const c of charts) {
      const shown = c.points.filter((p) => p.t >= from);
      const data = [
        shown.map((p) => p.t),
        ...c.fields.map((f) => shown.map((p) => (typeof p.e[f.name] === 'number' ? p.e[f.name] : null))),
      ];
      let entry = plots.get(c.path);
      if (!entry) {
        const box = igor.el('figure', { class: 'chart', dataset: { path: c.path } }, igor.el('figcaption', {}, igor.path(c.path)));
        chartsBox.append(box);
        const legendList = igor.el('ul', { class: 'legend' });
        const plot = new uPlot(plotOptions(c, Math.min(700, chartsBox.clientWidth || 340)), data, box);
        plot.legendList = legendList;
        box.append(legendList);
        showLegend(plot, null);
        entry = { box, plot };
        plots.set(c.path, entry);
      } else entry.plot.setData(data);
      entry.box.dataset.points = String(c.points.length);
      entry.box.dataset.shown = String(shown.length);
      entry.box.dataset.fields = c.fields.map((f) => f.name).join(' ');
    }
    tbody.replaceChildren(
      ...values.map(([path, v, unit]) =>
        igor.el(
          'tr',
          {},
          igor.el('td', {}, igor.path(path)),
          igor.el('td', {}, v === null ? '' : typeof v === 'number' ? igor.series.format(v, unit) : String(v)),
        ),
      ),
    );
    return true;
  };
  if (!(await draw())) return;
  rangePicker.addEventListener('change', draw);
  // Redraw (at most a few times a second) when something under sensors/ changes.
  let pending;
  const events = new EventSource('/events?xpath=/data/sensors');
  events.addEventListener('change', () => {
    clearTimeout(pending);
    pending = setTimeout(draw, 150);
  });
  events.addEventListener('open', () => (document.getElementById('live').dataset.connected = 'true'));
});
