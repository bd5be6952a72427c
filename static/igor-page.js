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

/** The page header: where to go, and who is logged in (with log in / log out). Answers whoami. */
igor.nav = async () => {
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
    igor.el('span', { class: 'account' }, account),
  );
  document.body.prepend(nav);
  return me;
};

/** Igor's JSON of an element comes as {tag: content}: the content. */
igor.content = (json) => (json && typeof json === 'object' && !Array.isArray(json) ? Object.values(json)[0] : json);

window.igor = igor;
