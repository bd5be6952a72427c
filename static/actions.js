// Actions: the list with schedule, trigger and last run; run now; create, edit and delete with a form.
'use strict';
const FIELDS = [
  'name',
  'interval',
  'cron',
  'xpath',
  'condition',
  'minInterval',
  'url',
  'method',
  'data',
  'mimetype',
  'representing',
  'comment',
];
const escapeXml = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const text = (v) => (v === undefined || v === null ? '' : typeof v === 'object' ? '' : String(v));

document.addEventListener('DOMContentLoaded', async () => {
  const me = await igor.nav();
  const $ = (id) => document.getElementById(id);
  const result = $('result');
  const tbody = document.querySelector('#actions tbody');
  const dataUrl = (ref) =>
    `/data/${ref
      .replace(/^\/data\//, '')
      .split('/')
      .map(encodeURIComponent)
      .join('/')}`;

  async function load() {
    let list = [];
    for (const where of ['/data/actions/action', '/data/plugindata/*/action']) {
      try {
        list = list.concat(await igor.request(`${dataUrl(where)}?.VARIANT=multi`));
      } catch (err) {
        if (err.status !== 404)
          return igor.say(result, err.status === 401 ? `${err.message} — log in to see the actions` : err.message, 'error');
      }
    }
    const rows = [];
    for (const { ref, action } of list) {
      const a = action || {};
      const when =
        [
          a.interval !== undefined && `every ${text(a.interval)} s`,
          a.cron && `at ${text(a.cron)}`,
          ...[].concat(a.xpath ?? []).map((x) => `when ${text(x)} changes`),
        ]
          .filter(Boolean)
          .join(', ') || 'by name only';
      let last = '';
      if (a.representing) {
        try {
          const found = await igor.request(`${dataUrl(`/data/status/${text(a.representing)}`)}?.VARIANT=multi`);
          const st = found.length ? igor.content(Object.fromEntries(Object.entries(found[0]).filter(([k]) => k !== 'ref'))) : undefined;
          last = !st
            ? 'not yet'
            : `${st.alive === true ? 'ok' : st.alive === false ? 'failed' : '?'}${st.lastActivity ? ` ${new Date(st.lastActivity * 1000).toLocaleTimeString()}` : ''}${typeof st.errorMessage === 'string' && st.errorMessage ? `: ${st.errorMessage}` : ''}`;
        } catch {
          last = '?';
        }
      }
      const plugin = /^\/data\/plugindata\/([^/]+)\//.exec(ref)?.[1];
      const buttons = [];
      if (a.name && me.admin)
        buttons.push(
          igor.el(
            'button',
            { type: 'button', class: 'small', dataset: { run: plugin ? `${plugin}/${text(a.name)}` : text(a.name) } },
            'Run now',
          ),
        );
      if (me.admin)
        buttons.push(
          igor.el('button', { type: 'button', class: 'small', dataset: { edit: ref } }, 'Edit'),
          igor.el('button', { type: 'button', class: 'small', dataset: { remove: ref } }, 'Delete'),
        );
      rows.push(
        igor.el(
          'tr',
          { dataset: { ref } },
          igor.el('td', {}, text(a.name) || ref),
          igor.el('td', {}, when),
          igor.el('td', {}, `${text(a.method) || 'GET'} ${text(a.url)}`),
          igor.el('td', { class: 'last' }, last),
          igor.el('td', {}, buttons),
        ),
      );
      rows.at(-1).action = a;
    }
    tbody.replaceChildren(...(rows.length ? rows : [igor.el('tr', {}, igor.el('td', { colspan: 5 }, 'No actions.'))]));
    $('form').hidden = !me.admin;
  }

  const fill = (a = {}, ref = '') => {
    $('ref').value = ref;
    $('formTitle').textContent = ref ? `Edit ${ref}` : 'New action';
    for (const f of FIELDS)
      $(f).value =
        f === 'xpath'
          ? []
              .concat(a.xpath ?? [])
              .map(text)
              .join(' ')
          : text(a[f]) || (f === 'method' ? 'GET' : f === 'mimetype' ? 'text/plain' : '');
  };

  tbody.addEventListener('click', async (event) => {
    const b = event.target.closest('button');
    if (!b) return;
    try {
      if (b.dataset.run) {
        await igor.request(`/action/${b.dataset.run.split('/').map(encodeURIComponent).join('/')}`);
        await igor.request('/internal/flush');
        igor.say(result, `Ran ${b.dataset.run}.`);
      } else if (b.dataset.edit) {
        fill(b.closest('tr').action, b.dataset.edit);
        $('name').focus();
        return;
      } else if (b.dataset.remove) {
        await igor.request(dataUrl(b.dataset.remove), { method: 'DELETE' });
        igor.say(result, `Deleted ${b.dataset.remove}.`);
      }
      await load();
    } catch (err) {
      igor.say(result, err.message, 'error');
    }
  });

  $('clear').addEventListener('click', () => fill());
  $('form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const parts = FIELDS.flatMap((f) => {
      const v = $(f).value.trim();
      if (!v || (f === 'method' && v === 'GET') || (f === 'mimetype' && v === 'text/plain' && !$('data').value)) return [];
      return f === 'xpath' ? v.split(/\s+/).map((x) => `<xpath>${escapeXml(x)}</xpath>`) : [`<${f}>${escapeXml(v)}</${f}>`];
    });
    const xml = `<action>${parts.join('')}</action>`;
    const ref = $('ref').value;
    try {
      await igor.request(ref ? dataUrl(ref) : dataUrl('/data/actions/action'), {
        method: ref ? 'PUT' : 'POST',
        headers: { 'content-type': 'application/xml' },
        body: xml,
      });
      igor.say(result, ref ? 'Action saved.' : 'Action added.');
      fill();
      await igor.request('/internal/flush').catch(() => {});
      await load();
    } catch (err) {
      igor.say(result, err.message, 'error');
    }
  });
  fill();
  await load();
});
