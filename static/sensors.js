// Sensors: every recorded value plotted from the history (/history), every other value as a table, live through
// /events. A plugin's series (a list of readings under sensors/) is one plot with its fields and units; values
// of the tree (an MQTT thermometer's temperature, a plug's power) are plotted by the element that holds them.
// With ?path=P only what lies at or below P (a dashboard card's page), its last week to begin with. The range picker and zooming (a drag across any plot
// zooms them all to the same time) ask /history again for about one point per pixel; a series the history does
// not keep is plotted from the tree, as before it.
'use strict';
const RANGES = { day: 86400, week: 604800, month: 2592000, year: 31536000 };

/** Each plot: its path, fields ({ name, unit, path }) and, for a plugin's series, its points in the tree. */
function plotsOf(found, recorded) {
  const plots = found
    .filter((s) => s.series)
    .map((s) => ({
      path: s.path,
      fields: s.series.fields.map((f) => ({ ...f, path: `${s.path}/${f.name}` })),
      tree: s.series.points,
    }));
  const inSeries = (path) => plots.some((p) => path.startsWith(`${p.path}/`));
  const byParent = new Map();
  for (const r of recorded ?? []) {
    if (r.kind === 'text' || inSeries(r.path)) continue;
    const cut = r.path.lastIndexOf('/');
    const parent = r.path.slice(0, cut);
    if (!byParent.has(parent)) byParent.set(parent, { path: parent, fields: [] });
    byParent.get(parent).fields.push({ name: r.path.slice(cut + 1), unit: '', path: r.path });
  }
  return [...plots, ...[...byParent.values()].sort((a, b) => (a.path < b.path ? -1 : 1))];
}

/** What of the plots lies at or below `only` (a field of a plot: that plot with that field alone). */
function within(plots, only) {
  if (!only) return plots;
  return plots.flatMap((p) => {
    if (p.path === only || p.path.startsWith(`${only}/`)) return [p];
    const fields = p.fields.filter((f) => f.path === only || f.path.startsWith(`${only}/`));
    return fields.length ? [{ ...p, fields }] : [];
  });
}

/** The earliest reading of a plot's fields (seconds), for "everything". */
function firstOf(plot, recorded) {
  const firsts = plot.fields.map((f) => recorded?.find((r) => r.path === f.path)?.first).filter((t) => typeof t === 'number');
  const tree = (plot.tree ?? []).map((p) => p.t);
  return Math.min(...firsts, ...tree, Date.now() / 1000 - 3600);
}

function valueRow(path, value, unit, plotted) {
  const shown = value === null ? '' : typeof value === 'number' ? igor.series.format(value, unit) : String(value);
  return igor.el(
    'tr',
    {},
    igor.el('td', {}, igor.path(path)),
    igor.el('td', {}, shown),
    igor.el('td', {}, plotted ? igor.el('a', { href: `/sensors.html?path=${encodeURIComponent(path)}` }, 'history') : ''),
  );
}

document.addEventListener('DOMContentLoaded', async () => {
  await igor.nav();
  const only = igor.param('path');
  const top = only ? only.split('/')[0] : 'sensors';
  const rangePicker = document.getElementById('range');
  if (only) {
    document.title = `${only} — Igor-TS`;
    document.querySelector('h1').textContent = only;
    rangePicker.value = 'week';
  }
  const chartsBox = document.getElementById('charts');
  const tbody = document.querySelector('#values tbody');
  const charts = new Map();
  /** A zoomed range (seconds) until the picker or a double-click says otherwise. */
  let zoom = null;
  const drawOnce = async () => {
    let tree;
    let recorded;
    try {
      // A sensor no longer in the tree still has its history.
      const inTree = igor.request(`/data/${only ?? 'sensors'}`).catch((err) => (only && err.status === 404 ? null : Promise.reject(err)));
      [tree, recorded] = await Promise.all([inTree, igor.history.list(only ?? '*')]);
    } catch (err) {
      const problem = err.status === 401 ? `${err.message} — log in to see the sensors` : err.message;
      igor.say(document.getElementById('problem'), problem, 'error');
      return false;
    }
    const found = igor.series.walk(igor.content(tree), only ?? 'sensors');
    const plots = within(plotsOf(found, recorded), only);
    const now = Date.now() / 1000;
    // One plot at a time: a client has only a few expensive reads under way at once (the server's fairness).
    for (const plot of plots) {
      let chart = charts.get(plot.path);
      if (!chart) {
        const box = igor.el('figure', { class: 'chart', dataset: { path: plot.path } }, igor.el('figcaption', {}, igor.path(plot.path)));
        chartsBox.append(box);
        chart = new igor.history.Chart(box, {
          path: plot.path,
          fields: plot.fields,
          height: only ? 360 : 220,
          onRange: (range) => {
            zoom = range;
            void draw();
          },
        });
        charts.set(plot.path, chart);
      }
      chart.fallback = () => plot.tree;
      const range = RANGES[rangePicker.value];
      const [from, to] = zoom ?? [range ? now - range : firstOf(plot, recorded), now];
      await chart.show(from, to);
    }
    const plotted = new Set(plots.flatMap((p) => p.fields.map((f) => f.path)));
    const values = found.filter((s) => !s.series);
    tbody.replaceChildren(...values.map((s) => valueRow(s.path, s.value, s.unit, plotted.has(s.path))));
    document.getElementById('charts').dataset.drawn = String(Date.now());
    return true;
  };
  // One drawing at a time; what asks meanwhile is drawn once more after it, with what is then the latest.
  let drawing = null;
  let again = false;
  const draw = () => {
    if (drawing) {
      again = true;
      return drawing;
    }
    drawing = (async () => {
      let ok;
      do {
        again = false;
        ok = await drawOnce();
      } while (again && ok);
      return ok;
    })().finally(() => {
      drawing = null;
    });
    return drawing;
  };
  // Listened to before the first drawing ends: a range picked while the page is still loading redraws what is
  // drawn already.
  rangePicker.addEventListener('change', () => {
    zoom = null;
    void draw();
  });
  if (!(await draw())) return;
  // Redraw (at most a few times a second) when something under what is shown changes.
  let pending;
  const events = new EventSource(`/events?xpath=${encodeURIComponent(`/data/${only ?? top}`)}`);
  events.addEventListener('change', () => {
    clearTimeout(pending);
    pending = setTimeout(draw, 150);
  });
  events.addEventListener('open', () => (document.getElementById('live').dataset.connected = 'true'));
});
