// Home, the dashboard: a card per sensor (latest value, unit, how long ago, a small trend line of its last week
// from the history), amber or red when its source is stale or failing, with what to do and where, opening a page
// of that sensor's past (sensors.html?path=…); then what is alive, and the plugins.
'use strict';
/** How old a series' latest reading may be before its card turns amber, when the series is too short to tell. */
const STALE_S = 2 * 86400;

/**
 * A series is stale when its latest reading is older than three of its usual intervals (the median gap between
 * its last readings), and never sooner than an hour: a meter that reports every minute is stale after minutes, a
 * weekly weighing only after three weeks.
 */
function staleAfter(points) {
  const times = points.slice(-21).map((p) => p.t);
  const gaps = times
    .slice(1)
    .map((t, i) => t - times[i])
    .filter((gap) => gap > 0)
    .sort((a, b) => a - b);
  return gaps.length < 2 ? STALE_S : Math.max(3600, 3 * gaps[Math.floor(gaps.length / 2)]);
}

/** Every status entry (anything with `alive`) by its path under status/. */
function statusesOf(node, path, out) {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return;
  if ('alive' in node) out.push({ path, ...node });
  else for (const [k, v] of Object.entries(node)) statusesOf(v, path ? `${path}/${k}` : k, out);
}

/** The status that speaks for a sensor: status/sensors/NAME or status/sensors/_NAME for sensors/NAME/… (README). */
function sourceOf(path, statuses) {
  const name = path.split('/')[1];
  return statuses.find((s) => s.path === `sensors/${name}` || s.path === `sensors/_${name}`);
}

/** A trend line of the last 30 values, as an SVG polyline (decorative: the value is in the text). */
function sparkline(values) {
  const v = values.slice(-30);
  if (v.length < 2) return null;
  const min = Math.min(...v);
  const span = Math.max(...v) - min || 1;
  const points = v.map((y, i) => `${((i / (v.length - 1)) * 100).toFixed(1)},${(28 - ((y - min) / span) * 26).toFixed(1)}`).join(' ');
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 100 30');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'trend');
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', points);
  svg.append(line);
  return svg;
}

/** The trend of a recorded value over the last week, from the history (null if it has fewer than two points). */
function recordedTrend(history, path) {
  const answer = history?.[path];
  const values = (answer?.points ?? []).map((p) => igor.history.valueOf(answer, p)).filter((x) => typeof x === 'number');
  return values.length >= 2 ? values : null;
}

async function card(sensor, statuses, history) {
  const source = sourceOf(sensor.path, statuses);
  let value;
  let when;
  let field;
  let trend = null;
  if (sensor.series) {
    field = sensor.series.fields[0];
    const latest = sensor.series.points.at(-1);
    value = igor.series.format(latest.e[field.name], field.unit);
    when = latest.t;
    const tree = sensor.series.points.map((p) => p.e[field.name]).filter((x) => typeof x === 'number');
    trend = sparkline(recordedTrend(history, `${sensor.path}/${field.name}`) ?? tree);
  } else {
    value = igor.series.format(sensor.value, sensor.unit);
    trend = sparkline(recordedTrend(history, sensor.path) ?? []);
  }
  const failing = source && (source.alive === false || typeof source.errorMessage === 'string');
  const stale = !failing && when !== undefined && Date.now() / 1000 - when > staleAfter(sensor.series.points);
  const state = failing ? 'failing' : stale ? 'stale' : 'ok';
  const plugin = source?.path.split('/').pop();
  const fix = failing || stale ? (plugin ? await igor.pluginLinks(plugin) : []).find((a) => a.textContent === 'setup') : null;
  if (fix) fix.textContent = `Open ${plugin} setup`;
  const sentence = failing
    ? String(source.errorMessage || `${plugin} is not working.`)
    : stale
      ? `No new reading ${igor.series.age(when)}.${fix ? ' Check that it is still authorised and fetching.' : ''}`
      : null;
  const about = [field?.name, when !== undefined ? igor.series.age(when) : null].filter(Boolean).join(' · ');
  return igor.el(
    'article',
    { class: 'card', dataset: { path: sensor.path, state } },
    igor.el(
      'h3',
      {},
      igor.el('a', { href: `/sensors.html?path=${encodeURIComponent(sensor.path)}` }, igor.path(sensor.path.replace(/^sensors\//, ''))),
    ),
    igor.el('p', { class: 'value' }, value),
    about ? igor.el('p', { class: 'about muted' }, about) : null,
    trend,
    sentence ? igor.el('p', { class: 'problem' }, sentence, fix ? ' ' : null, fix) : null,
  );
}

document.addEventListener('DOMContentLoaded', async () => {
  const me = await igor.nav();
  const statusList = document.getElementById('status');
  const statuses = [];
  try {
    statusesOf(igor.content(await igor.request('/data/status')), '', statuses);
    for (const s of statuses) {
      const alive = s.alive === true ? 'working' : s.alive === false ? 'not working' : 'unknown';
      statusList.append(
        igor.el(
          'li',
          { dataset: { path: s.path, alive: String(s.alive) } },
          igor.el('strong', {}, igor.path(s.path)),
          ' ',
          igor.el('span', { class: `alive-${s.alive}` }, alive),
          typeof s.lastActivity === 'number' ? igor.el('span', { class: 'muted' }, ` · ${igor.series.age(s.lastActivity)}`) : null,
          typeof s.errorMessage === 'string' && s.errorMessage ? igor.el('div', { class: 'error' }, s.errorMessage) : null,
        ),
      );
    }
    if (!statusList.children.length) statusList.append(igor.el('li', {}, 'Nothing has reported yet.'));
  } catch (err) {
    igor.say(document.getElementById('statusProblem'), err.message, 'error');
  }

  const cards = document.getElementById('cards');
  if (!me.user) cards.append(igor.el('p', {}, 'Log in to see the sensors.'));
  else
    try {
      // A card for each series and each plain number; not for the members of a list that is no series ([N]).
      const now = Date.now() / 1000;
      const [tree, history] = await Promise.all([igor.request('/data/sensors'), igor.history.read('sensors', now - 7 * 86400, now, 30)]);
      const sensors = igor.series
        .walk(igor.content(tree), 'sensors')
        .filter((s) => s.series || (typeof s.value === 'number' && !s.path.includes('[')));
      cards.replaceChildren(...(await Promise.all(sensors.map((s) => card(s, statuses, history)))));
      if (!sensors.length) cards.append(igor.el('p', { class: 'muted' }, 'No sensor has reported yet. Plugins bring data: see Plugins.'));
    } catch (err) {
      cards.append(igor.el('p', { class: 'error' }, err.message));
    }

  const list = document.getElementById('plugins');
  try {
    // .VARIANT=multi: an empty list rather than a 404 when none is installed.
    const plugins = await igor.request('/data/services/igor/plugins/*?.VARIANT=multi');
    for (const name of plugins.map((p) => p.ref.split('/').pop())) {
      const links = await igor.pluginLinks(name);
      list.append(
        igor.el(
          'li',
          {},
          name,
          links.length ? ': ' : '',
          links.flatMap((a, i) => (i ? [', ', a] : [a])),
        ),
      );
    }
  } catch {
    /* none installed yet */
  }
  if (!list.children.length) list.append(igor.el('li', {}, 'None installed. An admin adds them on the Plugins page.'));
});
