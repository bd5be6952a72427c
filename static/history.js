// The home's past on the pages: /history read for a plot, and uPlot charts that ask it again for about one
// point per pixel whenever their range changes (the range picker, a drag across the plot to zoom in, a
// double-click to go back). Where many readings make a point, it is their mean, with their min and max as a band.
'use strict';
const COLOURS = ['#246', '#a52', '#272', '#727', '#555'];

/** A tree path as a URL path: each name percent-encoded. */
const urlPath = (path) => path.split('/').map(encodeURIComponent).join('/');

/**
 * A read that the history cannot answer (not recorded, off, or too much at once) is no history: null. One refused
 * because this client has expensive reads under way already (another tab, say) is asked again a second later.
 */
async function orNull(read, tries = 3) {
  try {
    return await read();
  } catch (err) {
    if ([400, 404, 503].includes(err.status)) return null;
    if (err.status === 429 && tries > 1) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return orNull(read, tries - 1);
    }
    throw err;
  }
}

igor.history = {
  /** The recorded series under `path` the reader may read: [{ path, kind, first, latest: [time, value] }], or null. */
  list(path = '*') {
    return orNull(async () => (await igor.request(`/history/${urlPath(path)}?points=0`)).series);
  },

  /** The points of each series under `path` from `from` to `to` (seconds), about `points` of each: { path: answer }, or null. */
  read(path, from, to, points) {
    const q = new URLSearchParams({
      from: String(Math.floor(from)),
      to: String(Math.ceil(to)),
      points: String(Math.max(1, Math.min(10000, Math.round(points)))),
    });
    return orNull(async () => {
      const answer = await igor.request(`/history/${urlPath(path)}?${q}`);
      return Object.fromEntries(answer.series.map((s) => [s.path, s]));
    });
  },

  /** A point's value for a line: the value, or a bucket's mean; booleans as 0 and 1. */
  valueOf(answer, point) {
    const v = answer.columns.length === 2 ? point[1] : point[2];
    return typeof v === 'boolean' ? Number(v) : typeof v === 'number' ? v : null;
  },
};

/** The legend under a plot: each field's value at `idx`, or the latest when the pointer is not on the plot. */
function showLegend(u, idx) {
  if (!u.legendList) return; // uPlot sets its data once before the list is there
  const last = u.data[0].length - 1;
  const at = idx ?? last;
  const items = u.series.slice(1, 1 + u.fieldCount).map((series, i) => {
    const swatch = igor.el('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.background = series.stroke(); // a property, not a style attribute: the pages' CSP allows no inline style
    return igor.el('li', {}, swatch, `${series.label} `, igor.el('b', {}, at >= 0 ? series.value(u, u.data[i + 1][at]) : '–'));
  });
  const when = at >= 0 ? new Date(u.data[0][at] * 1000).toLocaleString() : '';
  u.legendList.replaceChildren(...items, igor.el('li', { class: 'muted' }, idx == null && when ? `latest: ${when}` : when));
}

const rounded = (n) => Number(n.toPrecision(4));

/** What each y axis spans, in words for whoever cannot see the canvas: "weight 61.6–62.5; bmi 21.6–21.8". */
function axesInWords(fields, data) {
  const spans = new Map();
  fields.forEach((f, i) => {
    const values = data[1 + i].filter((v) => typeof v === 'number');
    if (!values.length) return;
    const [label, lo, hi] = spans.get(scaleOf(f)) ?? [f.unit || f.name, Infinity, -Infinity];
    spans.set(scaleOf(f), [label, values.reduce((a, v) => Math.min(a, v), lo), values.reduce((a, v) => Math.max(a, v), hi)]);
  });
  return [...spans.values()].map(([label, lo, hi]) => `${label} ${rounded(lo)}–${rounded(hi)}`).join('; ');
}

/** Ticks in the reader's locale: dates when they are days apart, else times, with the date where the day changes. */
function timeTicks(u, splits, axis, space, increment) {
  return splits.map((t, i) => {
    const d = new Date(t * 1000);
    const date = d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
    if (increment >= 86400) return date;
    const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
    const dayBefore = i > 0 && new Date(splits[i - 1] * 1000).toDateString() === d.toDateString();
    return dayBefore ? time : `${time}\n${date}`;
  });
}

/**
 * Which y scale a field is drawn on: its unit's, shared with the fields of the same unit; a field without a unit
 * has one of its own, since nothing says it can be read against another (a weight of 80 and a BMI of 25 on one
 * axis would flatten both).
 */
const scaleOf = (f) => (f.unit ? `unit:${f.unit}` : `field:${f.name}`);

/** uPlot options: one y axis per scale (the first on the left), a min–max band per field, zoom by dragging. */
function plotOptions(chart, width, height) {
  const fields = chart.fields;
  const scales = [...new Map(fields.map((f) => [scaleOf(f), f.unit || f.name])).entries()];
  const band = (f, i, which) => ({ label: `${f.name} ${which}`, scale: scaleOf(f), stroke: 'transparent', points: { show: false } });
  return {
    width,
    height,
    // The legend is ours (showLegend): the latest values, or those under the pointer.
    legend: { show: false },
    cursor: { drag: { x: true, y: false, setScale: false } },
    hooks: {
      setCursor: [(u) => showLegend(u, u.cursor.idx)],
      setData: [(u) => showLegend(u, null)],
      setSelect: [(u) => chart.selected(u)],
    },
    scales: {
      x: { time: true, range: () => [chart.from, chart.to] },
      ...Object.fromEntries(scales.map(([scale]) => [scale, { auto: true }])),
    },
    series: [
      { label: 'time', value: (u, t) => (t == null ? '–' : new Date(t * 1000).toLocaleString()) },
      ...fields.map((f, i) => ({
        label: f.unit ? `${f.name} (${f.unit})` : f.name,
        scale: scaleOf(f),
        stroke: COLOURS[i % COLOURS.length],
        value: (u, v) => igor.series.format(v, f.unit),
        spanGaps: true,
      })),
      ...fields.flatMap((f, i) => [band(f, i, 'max'), band(f, i, 'min')]),
    ],
    bands: fields.map((f, i) => ({
      series: [1 + fields.length + 2 * i, 2 + fields.length + 2 * i],
      fill: `${COLOURS[i % COLOURS.length]}33`,
    })),
    axes: [
      { values: timeTicks, space: 80 },
      ...scales.map(([scale, label], i) => ({ scale, side: i === 0 ? 3 : 1, grid: { show: i === 0 }, label, size: 60 })),
    ],
  };
}

/** uPlot's aligned data: the union of the fields' times, then each field's line, then each one's max and min. */
function alignedData(fields, answers) {
  const times = [...new Set(fields.flatMap((f) => (answers[f.path]?.points ?? []).map((p) => p[0])))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const column = () => times.map(() => null);
  const lines = fields.map(column);
  const bands = fields.flatMap(() => [column(), column()]);
  fields.forEach((f, i) => {
    const answer = answers[f.path];
    for (const p of answer?.points ?? []) {
      const j = at.get(p[0]);
      lines[i][j] = igor.history.valueOf(answer, p);
      if (answer.columns.length > 2) {
        bands[2 * i][j] = p[3];
        bands[2 * i + 1][j] = p[1];
      }
    }
  });
  return [times, ...lines, ...bands];
}

/**
 * A plot of a few fields of the history (`fields`: [{ name, unit, path }], `path` the element above them), in
 * `box`. `fallback(from, to)` gives tree points ({ times, values per field }) when the history has none of them.
 */
igor.history.Chart = class {
  constructor(box, { path, fields, height = 220, fallback, onRange }) {
    Object.assign(this, { box, path, fields, height, fallback, onRange });
    this.from = 0;
    this.to = 1;
  }

  /** Draws `from`–`to` (seconds), asking for about one point per pixel of the plotting area. */
  async show(from, to) {
    this.from = from;
    this.to = Math.max(to, from + 1);
    if (!this.plot) {
      this.create();
      await new Promise((resolve) => requestAnimationFrame(resolve)); // uPlot lays itself out after its constructor
    }
    const answers = await igor.history.read(this.path, this.from, this.to, this.plot.over.clientWidth || 300);
    const recorded = answers && this.fields.some((f) => answers[f.path]);
    const data = recorded ? alignedData(this.fields, answers) : this.treeData();
    this.plot.setData(data);
    const levels = recorded ? [...new Set(this.fields.map((f) => answers[f.path]?.level).filter(Boolean))] : ['tree'];
    Object.assign(this.box.dataset, {
      points: String(data[0].length),
      shown: String(data[0].length),
      fields: this.fields.map((f) => f.name).join(' '),
      level: levels.join(' '),
      from: String(Math.floor(this.from)),
      to: String(Math.ceil(this.to)),
      axes: axesInWords(this.fields, data),
    });
  }

  /** The plot, empty: its plotting area's width (the axes take the rest) says how many points to ask for. */
  create() {
    const width = Math.min(900, this.box.parentElement?.clientWidth || 340);
    this.plot = new uPlot(plotOptions(this, width, this.height), alignedData(this.fields, {}), this.box);
    this.plot.fieldCount = this.fields.length;
    this.plot.legendList = igor.el('ul', { class: 'legend' });
    this.box.append(this.plot.legendList);
    this.plot.over.addEventListener('dblclick', () => this.onRange?.(null));
    showLegend(this.plot, null);
  }

  /** The tree's own points in range, for a series the history does not keep. */
  treeData() {
    const points = (this.fallback?.() ?? []).filter((p) => p.t >= this.from && p.t <= this.to);
    return [
      points.map((p) => p.t),
      ...this.fields.map((f) => points.map((p) => (typeof p.e[f.name] === 'number' ? p.e[f.name] : null))),
      ...this.fields.flatMap(() => [points.map(() => null), points.map(() => null)]),
    ];
  }

  /** A drag across the plot: zoom in to what it covers. */
  selected(u) {
    if (u.select.width < 4) return;
    const from = u.posToVal(u.select.left, 'x');
    const to = u.posToVal(u.select.left + u.select.width, 'x');
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    this.onRange?.([from, to]);
  }
};
