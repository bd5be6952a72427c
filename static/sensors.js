// Sensors: every time series under sensors/ plotted (uPlot), plain values as a table, live through /events.
'use strict';
const TIME_KEYS = ['dateTime', 'date', 'time', 'timestamp', 'startTime'];

/** A list of readings: objects with a time and at least one number. */
function seriesOf(list) {
  if (!Array.isArray(list) || list.length < 1 || !list.every((e) => e && typeof e === 'object')) return undefined;
  const timeKey = TIME_KEYS.find((k) => list.every((e) => e[k] !== undefined && !Number.isNaN(Date.parse(String(e[k])) || Number(e[k]))));
  if (!timeKey) return undefined;
  const numeric = Object.keys(list[0]).filter((k) => k !== timeKey && list.every((e) => typeof e[k] === 'number'));
  if (!numeric.length) return undefined;
  const points = list
    .map((e) => ({ t: typeof e[timeKey] === 'number' ? e[timeKey] : Date.parse(String(e[timeKey])) / 1000, e }))
    .sort((a, b) => a.t - b.t);
  return { timeKey, numeric, points };
}

function collect(node, path, charts, values) {
  if (Array.isArray(node)) {
    const s = seriesOf(node);
    if (s) charts.push({ path, ...s });
    else node.forEach((n, i) => collect(n, `${path}[${i + 1}]`, charts, values));
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) collect(v, `${path}/${k}`, charts, values);
  } else values.push([path, node]);
}

document.addEventListener('DOMContentLoaded', async () => {
  await igor.nav();
  const chartsBox = document.getElementById('charts');
  const tbody = document.querySelector('#values tbody');
  const plots = new Map();
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
    const charts = [];
    const values = [];
    collect(sensors, 'sensors', charts, values);
    for (const c of charts) {
      const data = [c.points.map((p) => p.t), ...c.numeric.map((k) => c.points.map((p) => p.e[k]))];
      let entry = plots.get(c.path);
      if (!entry) {
        const box = igor.el('figure', { class: 'chart', dataset: { path: c.path } }, igor.el('figcaption', {}, c.path));
        chartsBox.append(box);
        const width = Math.min(700, chartsBox.clientWidth || 360);
        const plot = new uPlot(
          {
            width,
            height: 220,
            series: [{}, ...c.numeric.map((k, i) => ({ label: k, stroke: ['#246', '#a52', '#272', '#727'][i % 4] }))],
            axes: [{}, {}],
          },
          data,
          box,
        );
        entry = { box, plot };
        plots.set(c.path, entry);
      } else entry.plot.setData(data);
      entry.box.dataset.points = String(c.points.length);
    }
    tbody.replaceChildren(
      ...values.map(([path, v]) =>
        igor.el(
          'tr',
          {},
          igor.el('td', {}, path),
          igor.el('td', {}, v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)),
        ),
      ),
    );
    return true;
  };
  if (!(await draw())) return;
  // Redraw (at most a few times a second) when something under sensors/ changes.
  let pending;
  const events = new EventSource('/events?xpath=/data/sensors');
  events.addEventListener('change', () => {
    clearTimeout(pending);
    pending = setTimeout(draw, 150);
  });
  events.addEventListener('open', () => (document.getElementById('live').dataset.connected = 'true'));
});
