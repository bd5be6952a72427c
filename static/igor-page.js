// The small script every page shares: who is logged in, JSON calls to plugin methods and /data (with the
// session's CSRF token), forms that post to plugin methods, and showing values — always as text, never as HTML.
'use strict';

const igor = {
  /** The CSRF token of this browser's session (the server keeps it in this cookie; it is bound to the session). */
  csrf() {
    const c = document.cookie.split('; ').find((x) => x.startsWith('igor_csrf='));
    return c ? decodeURIComponent(c.slice('igor_csrf='.length)) : '';
  },

  /** A query parameter of this page. */
  param(name) {
    return new URLSearchParams(location.search).get(name);
  },

  /** fetch() that sends the CSRF token and turns an error answer into an Error with the server's message. */
  async request(url, options = {}) {
    const headers = new Headers(options.headers);
    headers.set('x-csrf-token', igor.csrf());
    headers.set('x-requested-with', 'igor-page'); // a 401 then comes without a browser password dialog
    if (!headers.has('accept')) headers.set('accept', 'application/json');
    const res = await fetch(url, { credentials: 'same-origin', ...options, headers });
    const type = res.headers.get('content-type') || '';
    const body = type.includes('json') ? await res.json().catch(() => null) : await res.text();
    if (!res.ok) {
      const message = body && typeof body === 'object' ? body.error || JSON.stringify(body) : String(body || res.statusText);
      const err = new Error(message.trim());
      err.status = res.status;
      throw err;
    }
    return body;
  },

  /** { user, admin, csrfNeeded } of whoever this browser is logged in as (user null: nobody). */
  whoami() {
    return igor.request('/internal/whoami');
  },

  /** Calls /plugin/PLUGIN/METHOD with the parameters as a JSON body. */
  call(plugin, method, params = {}) {
    return igor.request(`/plugin/${encodeURIComponent(plugin)}/${encodeURIComponent(method)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(params),
    });
  },

  /** Shows a message in an element, as text. */
  say(element, message, kind = 'ok') {
    if (!element) return;
    element.textContent = message;
    element.className = kind;
    element.hidden = false;
  },

  /**
   * Fills elements marked data-field="a.b" with that value of `data`: inputs get it as their value, other
   * elements as text. Missing values leave inputs empty and elements blank.
   */
  fill(root, data) {
    for (const el of root.querySelectorAll('[data-field]')) {
      let value = data;
      for (const key of el.dataset.field.split('.')) value = value == null ? undefined : value[key];
      const text = value == null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
      if ('value' in el && el.tagName !== 'BUTTON') el.value = text;
      else el.textContent = text;
    }
  },

  /**
   * Makes every <form data-plugin="P" data-method="M"> post its fields as JSON to /plugin/P/M, show the answer
   * (or the error) in its [data-result] element and call form.onDone(answer) if set.
   */
  wireForms(root = document) {
    for (const form of root.querySelectorAll('form[data-plugin][data-method]')) {
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const result = form.querySelector('[data-result]');
        const fields = Object.fromEntries(new FormData(form).entries());
        try {
          const answer = await igor.call(form.dataset.plugin, form.dataset.method, fields);
          igor.say(result, typeof answer === 'string' ? answer || 'Saved.' : (answer && answer.message) || 'Saved.');
          if (form.onDone) form.onDone(answer);
        } catch (err) {
          igor.say(result, err.message, 'error');
        }
      });
    }
  },
};

/** Builds an element: attributes (on* not allowed) and children (strings become text, never HTML). */
igor.el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) throw new Error('use addEventListener');
    if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
};

/**
 * The page header: where to go, and who is logged in (with log in / log out). Every page that loads this
 * script gets it, plugins' pages too; a page's own script awaits igor.nav() for who is logged in (made once).
 */
let header;
igor.nav = () => {
  header ??= (async () => {
    const me = await igor.whoami().catch(() => ({ user: null, admin: false }));
    const here = location.pathname;
    const link = (href, text) => igor.el('a', { href, ...(here === href ? { 'aria-current': 'page' } : {}) }, text);
    const account = me.user
      ? igor.el(
          'form',
          { method: 'post', action: `/logout?_csrf=${encodeURIComponent(igor.csrf())}`, class: 'inline' },
          `${me.user}${me.admin ? ' (admin)' : ''} `,
          igor.el('button', { type: 'submit' }, 'Log out'),
        )
      : igor.el('a', { href: `/login?returnTo=${encodeURIComponent(here + location.search)}` }, 'Log in');
    const nav = igor.el(
      'nav',
      { class: 'top', 'aria-label': 'main' },
      link('/', 'Home'),
      link('/sensors.html', 'Sensors'),
      link('/tree.html', 'Tree'),
      link('/actions.html', 'Actions'),
      link('/plugins.html', 'Plugins'),
      me.user ? link('/users.html', me.admin ? 'Users' : 'My account') : null,
      igor.el('span', { class: 'account' }, account),
    );
    document.body.prepend(nav);
    return me;
  })();
  return header;
};
/** A table wider than the screen scrolls on its own (igor.css); so that a keyboard can scroll it too, it takes focus. */
function focusWideTables() {
  for (const table of document.querySelectorAll('table')) {
    if (table.scrollWidth > table.clientWidth) table.tabIndex = 0;
    else table.removeAttribute('tabindex');
  }
}
/**
 * Each cell says which column it is in (data-label, from its table's head), for the stacked layout tables take on a
 * phone (igor.css): a row becomes a block, each cell a line under its column's name.
 */
function labelCells(table) {
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
  for (const body of table.tBodies)
    for (const row of body.rows) [...row.cells].forEach((td, i) => heads[i] && (td.dataset.label = heads[i]));
}
document.addEventListener('DOMContentLoaded', () => {
  igor.nav();
  focusWideTables();
  for (const table of document.querySelectorAll('table')) {
    labelCells(table);
    // Pages fill their tables as answers come: label the rows they add.
    new MutationObserver(() => labelCells(table)).observe(table, { childList: true, subtree: true });
  }
});
addEventListener('resize', focusWideTables);

/** Each plugin's list of pages, asked once per page view (the dashboard wants it for cards and for the list). */
const pagesOf = new Map();

/** Links to a plugin's setup page and readme, only those it has (a plugin need not have a setup page). */
igor.pluginLinks = async (name) => {
  const base = `/plugin/${encodeURIComponent(name)}/page`;
  if (!pagesOf.has(name))
    pagesOf.set(
      name,
      igor.request(base).catch(() => []),
    );
  const pages = await pagesOf.get(name);
  return [
    ['setup.html', 'setup'],
    ['readme.md', 'readme'],
  ]
    .filter(([page]) => pages.includes(page))
    .map(([page, text]) => igor.el('a', { href: `${base}/${page}` }, text));
};

/** Which fields of a time series are measurements, and how to read them (README, "Series on the pages"). */
igor.series = {
  TIME_KEYS: ['dateTime', 'date', 'time', 'timestamp', 'startTime'],

  /** Seconds since 1970 of an entry's time field (a number is taken as seconds already). */
  seconds(value) {
    return typeof value === 'number' ? value : Date.parse(String(value)) / 1000;
  },

  /**
   * A list of readings (objects with a time) and its measurement fields with their units: those the plugin
   * declared in the sibling units/NAME, or else every numeric field but identifiers (`id`, `…Id`, such as
   * logId) and fields with one value throughout (constants, such as a goal or a source id).
   */
  of(list, units) {
    if (!Array.isArray(list) || list.length < 1 || !list.every((e) => e && typeof e === 'object' && !Array.isArray(e))) return undefined;
    const timeKey = igor.series.TIME_KEYS.find((k) => list.every((e) => e[k] !== undefined && !Number.isNaN(igor.series.seconds(e[k]))));
    if (!timeKey) return undefined;
    const names = [...new Set(list.flatMap((e) => Object.keys(e)))].filter(
      (k) =>
        k !== timeKey && list.some((e) => typeof e[k] === 'number') && list.every((e) => e[k] === undefined || typeof e[k] === 'number'),
    );
    const declared = units && typeof units === 'object' ? units : null;
    const fields = declared
      ? names.filter((k) => typeof declared[k] === 'string')
      : names.filter((k) => !/^id$|Id$/.test(k) && (list.length < 3 || new Set(list.map((e) => e[k])).size > 1));
    if (!fields.length) return undefined;
    // Fitbit's samples carry a date and a local time of day apart: both count.
    const when = (e) =>
      timeKey === 'date' && typeof e.time === 'string' && /^\d\d:\d\d/.test(e.time)
        ? Date.parse(`${e.date}T${e.time}`) / 1000
        : igor.series.seconds(e[timeKey]);
    const points = list.map((e) => ({ t: when(e), e })).sort((a, b) => a.t - b.t);
    return { timeKey, fields: fields.map((name) => ({ name, unit: declared ? declared[name] : '' })), points };
  },

  /**
   * Everything under `node` (sensors/, as JSON), in tree order: each series as `{ path, series }`, with the units
   * its plugin declared beside it (units/NAME), and each other value as `{ path, value, unit }`. A list that is no
   * series is walked into, its members' paths ending in [N].
   */
  walk(node, path, out = [], units = undefined) {
    if (Array.isArray(node)) {
      const series = igor.series.of(node, units);
      if (series) out.push({ path, series });
      else node.forEach((n, i) => igor.series.walk(n, `${path}[${i + 1}]`, out));
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) if (k !== 'units') igor.series.walk(v, `${path}/${k}`, out, node.units?.[k]);
    } else out.push({ path, value: node, unit: typeof units === 'string' ? units : '' });
    return out;
  },

  /** "81.2 kg": a number as people write it, with its unit. */
  format(value, unit) {
    if (typeof value !== 'number') return value == null ? '–' : String(value);
    const text = value.toLocaleString(undefined, { maximumFractionDigits: 2 });
    return unit ? `${text} ${unit}` : text;
  },

  /** "3 hr. ago", "10 days ago", in the reader's language. */
  age(seconds) {
    const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
    const diff = seconds - Date.now() / 1000;
    const size = Math.abs(diff);
    if (size < 60) return rtf.format(Math.round(diff), 'second');
    if (size < 3600) return rtf.format(Math.round(diff / 60), 'minute');
    if (size < 48 * 3600) return rtf.format(Math.round(diff / 3600), 'hour');
    if (size < 60 * 86400) return rtf.format(Math.round(diff / 86400), 'day');
    if (size < 730 * 86400) return rtf.format(Math.round(diff / (30.4 * 86400)), 'month');
    return rtf.format(Math.round(diff / (365.25 * 86400)), 'year');
  },
};

/** A tree path that may break after its slashes on a narrow screen ("sensors/<wbr>fitbit/<wbr>jack"), as nodes. */
igor.path = (path) =>
  String(path)
    .split(/(?<=\/)/)
    .flatMap((part, i) => (i ? [document.createElement('wbr'), part] : [part]));

/** Igor's JSON of an element comes as {tag: content}: the content. */
igor.content = (json) => (json && typeof json === 'object' && !Array.isArray(json) ? Object.values(json)[0] : json);

window.igor = igor;
