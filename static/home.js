// Home: what is alive and what failed (status/), and the installed plugins' setup pages.
'use strict';
document.addEventListener('DOMContentLoaded', async () => {
  await igor.nav();
  const tbody = document.querySelector('#status tbody');
  const when = (t) => (typeof t === 'number' ? new Date(t * 1000).toLocaleString() : '');
  try {
    const status = igor.content(await igor.request('/data/status'));
    // An entry is anything with `alive`; its path says what it is.
    const walk = (node, path) => {
      if (!node || typeof node !== 'object' || Array.isArray(node)) return;
      if ('alive' in node) {
        tbody.append(
          igor.el(
            'tr',
            { dataset: { path } },
            igor.el('td', {}, path),
            igor.el('td', { class: `alive-${node.alive}` }, node.alive === true ? 'yes' : node.alive === false ? 'no' : '?'),
            igor.el('td', {}, when(node.lastActivity)),
            igor.el('td', { class: 'error' }, typeof node.errorMessage === 'string' ? node.errorMessage : ''),
          ),
        );
        return;
      }
      for (const [k, v] of Object.entries(node)) walk(v, path ? `${path}/${k}` : k);
    };
    walk(status, '');
    if (!tbody.children.length) tbody.append(igor.el('tr', {}, igor.el('td', { colspan: 4 }, 'Nothing has reported yet.')));
  } catch (err) {
    igor.say(document.getElementById('statusProblem'), err.message, 'error');
  }
  const list = document.getElementById('plugins');
  try {
    // .VARIANT=multi: an empty list rather than a 404 when none is installed.
    const plugins = await igor.request('/data/services/igor/plugins/*?.VARIANT=multi');
    for (const name of plugins.map((p) => p.ref.split('/').pop())) {
      list.append(
        igor.el(
          'li',
          {},
          igor.el('a', { href: `/plugin/${encodeURIComponent(name)}/page/setup.html` }, name),
          ' (',
          igor.el('a', { href: `/plugin/${encodeURIComponent(name)}/page/readme.md` }, 'readme'),
          ')',
        ),
      );
    }
  } catch {
    /* none installed yet */
  }
  if (!list.children.length) list.append(igor.el('li', {}, 'None installed. An admin adds them on the Plugins page.'));
});
