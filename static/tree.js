// The tree browser and editor: any element as JSON or XML, its children, and editing (as far as you may).
'use strict';
document.addEventListener('DOMContentLoaded', async () => {
  await igor.nav();
  const $ = (id) => document.getElementById(id);
  const result = $('result');
  let path = igor.param('path') || '/data';
  let format = 'json';
  const url = (p) =>
    `/data/${p
      .replace(/^\/data\/?/, '')
      .split('/')
      .map(encodeURIComponent)
      .join('/')}`;

  async function show(newPath, keepMessage = false) {
    path = newPath.replace(/\/+$/, '') || '/data';
    $('path').value = path;
    history.replaceState(null, '', `?path=${encodeURIComponent(path)}`);
    if (!keepMessage) result.hidden = true;
    const steps = path.split('/').filter(Boolean);
    $('crumbs').replaceChildren(
      ...steps.flatMap((s, i) => {
        const to = '/' + steps.slice(0, i + 1).join('/');
        return [i ? ' / ' : '', igor.el('a', { href: `?path=${encodeURIComponent(to)}`, dataset: { to } }, s)];
      }),
    );
    try {
      const json = await igor.request(url(path));
      const xml = await igor.request(url(path), { headers: { accept: 'application/xml' } });
      const content = igor.content(json);
      $('title').textContent = steps.at(-1) ?? 'data';
      $('view').textContent = format === 'json' ? JSON.stringify(json, null, 2) : xml;
      $('view').dataset.json = JSON.stringify(json);
      $('view').dataset.xml = xml;
      const children = [];
      if (content && typeof content === 'object' && !Array.isArray(content)) {
        for (const [k, v] of Object.entries(content)) {
          if (k.startsWith('@')) continue;
          if (Array.isArray(v)) v.forEach((_, i) => children.push(`${k}[${i + 1}]`));
          else children.push(k);
        }
      }
      $('children').replaceChildren(
        ...(children.length
          ? children.map((c) =>
              igor.el('li', {}, igor.el('a', { href: `?path=${encodeURIComponent(`${path}/${c}`)}`, dataset: { to: `${path}/${c}` } }, c)),
            )
          : [igor.el('li', { class: 'muted' }, 'none')]),
      );
      const leaf = content === null || typeof content !== 'object' || Object.keys(content).length === 0;
      $('edit').hidden = !leaf || path === '/data';
      $('value').value = leaf && content !== null && typeof content !== 'object' ? String(content) : '';
      $('delete').hidden = path === '/data';
      $('confirmDelete').hidden = true;
      $('node').hidden = false;
    } catch (err) {
      $('node').hidden = true;
      igor.say(result, err.message, 'error');
    }
  }

  document.body.addEventListener('click', (event) => {
    const a = event.target.closest('a[data-to]');
    if (!a) return;
    event.preventDefault();
    show(a.dataset.to);
  });
  $('go').addEventListener('submit', (event) => {
    event.preventDefault();
    show($('path').value.trim());
  });
  const view = (f) => {
    format = f;
    $('asJson').setAttribute('aria-pressed', String(f === 'json'));
    $('asXml').setAttribute('aria-pressed', String(f === 'xml'));
    $('view').textContent =
      f === 'json' ? JSON.stringify(JSON.parse($('view').dataset.json || 'null'), null, 2) : $('view').dataset.xml || '';
  };
  $('asJson').addEventListener('click', () => view('json'));
  $('asXml').addEventListener('click', () => view('xml'));
  const change = async (what, request, then = path) => {
    try {
      await request();
      await show(then, true);
      igor.say(result, what);
    } catch (err) {
      igor.say(result, err.message, 'error');
    }
  };
  $('edit').addEventListener('submit', (event) => {
    event.preventDefault();
    change('Saved.', () => igor.request(url(path), { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: $('value').value }));
  });
  $('add').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('newName').value.trim();
    change(`Added ${name}.`, async () => {
      await igor.request(url(`${path}/${name}`), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: $('newValue').value });
      $('newName').value = '';
      $('newValue').value = '';
    });
  });
  $('delete').addEventListener('click', () => {
    $('confirmDelete').hidden = false;
    $('confirmDelete').focus();
  });
  $('confirmDelete').addEventListener('click', () => {
    const parent = path.split('/').slice(0, -1).join('/') || '/data';
    change(`Deleted ${path}.`, () => igor.request(url(path), { method: 'DELETE' }), parent);
  });
  await show(path);
});
