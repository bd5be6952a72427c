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
const DAYS = ['Sundays', 'Mondays', 'Tuesdays', 'Wednesdays', 'Thursdays', 'Fridays', 'Saturdays', 'Sundays'];

/** "every 10 h", "every 1 h 30 min": an interval in seconds as people say it. */
function every(seconds) {
  const s = Number(seconds);
  if (!Number.isFinite(s) || s <= 0) return `every ${seconds} s`;
  const parts = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor((s % 86400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'min'],
    [s % 60, 's'],
  ].filter(([n]) => n > 0);
  return `every ${parts.map(([n, unit]) => `${n} ${unit}`).join(' ')}`;
}

/** A cron expression in words where it is a common one ("daily at 04:00"), else as written. */
function cronWords(expr) {
  let f = String(expr).trim().split(/\s+/);
  if (f.length === 6 && f[0] === '0') f = f.slice(1);
  if (f.length !== 5) return `at cron ${expr}`;
  const [min, hour, dom, month, dow] = f;
  const plain = (x) => /^\d+$/.test(x);
  const at = plain(min) && plain(hour) ? `${hour.padStart(2, '0')}:${min.padStart(2, '0')}` : undefined;
  if (dom === '*' && month === '*') {
    if (at && dow === '*') return `daily at ${at}`;
    if (at && /^[0-7](,[0-7])*$/.test(dow))
      return `on ${dow
        .split(',')
        .map((d) => DAYS[Number(d)])
        .join(' and ')} at ${at}`;
    if (at && dow === '1-5') return `on weekdays at ${at}`;
    if (dow === '*' && plain(min) && hour === '*') return `hourly at :${min.padStart(2, '0')}`;
    if (dow === '*' && /^\*\/\d+$/.test(min) && hour === '*') return `every ${min.slice(2)} min`;
    if (dow === '*' && plain(min) && /^\*\/\d+$/.test(hour)) return `every ${hour.slice(2)} h at :${min.padStart(2, '0')}`;
  }
  if (at && plain(dom) && month === '*' && dow === '*') return `monthly on day ${dom} at ${at}`;
  return `at cron ${expr}`;
}

/** When an action runs, in words. */
function scheduleWords(a) {
  return (
    [
      a.interval !== undefined && every(text(a.interval)),
      a.cron && cronWords(text(a.cron)),
      ...[].concat(a.xpath ?? []).map((x) => `when ${text(x).replace(/^\/data\//, '')} changes`),
    ]
      .filter(Boolean)
      .join(', ') || 'only when run by name'
  );
}

/** How the last run went, in words: from what the server remembers since start, else the action's status entry. */
function lastRunWords(run, status) {
  const last =
    run?.lastRun !== undefined
      ? run
      : status?.lastActivity
        ? { lastRun: status.lastActivity, ok: status.alive, message: status.errorMessage }
        : undefined;
  if (!last) return 'not run yet';
  const when = igor.series.age(last.lastRun);
  if (last.ok === true) return `ran ${when}: ok`;
  return `failed ${when}${typeof last.message === 'string' && last.message ? `: ${last.message}` : ''}`;
}

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
    // What the server remembers of each action's runs since it started (admins: /internal is theirs).
    const runs = new Map(me.admin ? (await igor.request('/internal/actions').catch(() => [])).map((r) => [r.ref, r]) : []);
    const rows = [];
    for (const { ref, action } of list) {
      const a = action || {};
      const when = scheduleWords(a);
      let status;
      if (a.representing) {
        try {
          const found = await igor.request(`${dataUrl(`/data/status/${text(a.representing)}`)}?.VARIANT=multi`);
          status = found.length ? igor.content(Object.fromEntries(Object.entries(found[0]).filter(([k]) => k !== 'ref'))) : undefined;
        } catch {
          /* not readable: the run is still known to an admin */
        }
      }
      const run = runs.get(ref);
      const last = lastRunWords(run, status);
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
          igor.el('td', {}, text(a.name) || ref, plugin ? igor.el('span', { class: 'muted plugin' }, ` · ${plugin}`) : null),
          igor.el('td', { class: 'when' }, when),
          igor.el('td', {}, `${text(a.method) || 'GET'} ${text(a.url)}`),
          igor.el('td', { class: `last${run?.ok === false || (!run && status?.alive === false) ? ' error' : ''}` }, last),
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
