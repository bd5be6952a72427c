// Plugins: installed ones (setup page, readme, remove) and available ones (install, also under another name).
'use strict';
document.addEventListener('DOMContentLoaded', async () => {
  const me = await igor.nav();
  const $ = (id) => document.getElementById(id);
  const result = $('result');

  async function load() {
    if (!me.admin) {
      igor.say(result, me.user ? 'Only an admin manages plugins.' : 'Log in as an admin to manage plugins.', 'error');
      $('install').hidden = true;
      return;
    }
    const { installed, available } = await igor.request('/internal/plugins');
    const links = await Promise.all(installed.map((p) => igor.pluginLinks(p.name)));
    $('installed').tBodies[0].replaceChildren(
      ...installed.map((p, i) =>
        igor.el(
          'tr',
          { dataset: { name: p.name } },
          igor.el('td', {}, p.name),
          igor.el('td', {}, p.source),
          igor.el('td', {}, p.running ? 'running' : p.error || 'not running'),
          igor.el(
            'td',
            {},
            links[i].flatMap((a) => [a, ' ']),
            igor.el('button', { type: 'button', class: 'small', dataset: { remove: p.name } }, 'Remove'),
          ),
        ),
      ),
    );
    $('available').tBodies[0].replaceChildren(
      ...available.map((p) =>
        igor.el(
          'tr',
          { dataset: { source: p.source } },
          igor.el('td', {}, p.source),
          igor.el('td', {}, p.description),
          igor.el(
            'td',
            {},
            installed.some((i) => i.name === p.source)
              ? ''
              : igor.el('button', { type: 'button', class: 'small', dataset: { install: p.source } }, 'Install'),
          ),
        ),
      ),
    );
    $('installSource').replaceChildren(...available.map((p) => igor.el('option', { value: p.source }, p.source)));
  }

  const act = async (what, work) => {
    try {
      await work();
      igor.say(result, what);
      await load();
    } catch (err) {
      igor.say(result, err.message, 'error');
    }
  };
  document.body.addEventListener('click', (event) => {
    const b = event.target.closest('button[data-install], button[data-remove]');
    if (!b) return;
    if (b.dataset.install)
      act(`Installed ${b.dataset.install}.`, () =>
        igor.request(`/internal/plugins/${encodeURIComponent(b.dataset.install)}`, { method: 'PUT' }),
      );
    else
      act(`Removed ${b.dataset.remove}.`, () =>
        igor.request(`/internal/plugins/${encodeURIComponent(b.dataset.remove)}`, { method: 'DELETE' }),
      );
  });
  $('install').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('installName').value.trim();
    const source = $('installSource').value;
    act(`Installed ${source} as ${name}.`, () =>
      igor.request(`/internal/plugins/${encodeURIComponent(name)}?source=${encodeURIComponent(source)}`, { method: 'PUT' }),
    );
  });
  await load().catch((err) => igor.say(result, err.message, 'error'));
});
