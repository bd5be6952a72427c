// Users: an admin adds people, sets passwords, makes admins, ends sessions and deletes; everyone changes their
// own password, sees where they are logged in (and logs out there, or everywhere) and makes and revokes their API
// tokens. All over the REST routes `igor user` and `igor token` use, so the
// server decides who may do what (src/auth/accounts.ts) and its refusals are shown as it words them.
'use strict';
document.addEventListener('DOMContentLoaded', async () => {
  const me = await igor.nav();
  const $ = (id) => document.getElementById(id);
  const result = $('result');
  if (!me.user) {
    $('login').hidden = false;
    return;
  }
  const quote = encodeURIComponent;
  /** Sends a form's fields (or `fields`) as JSON and reloads; the server's answer or refusal is shown. */
  const send = async (method, url, fields) => {
    try {
      const answer = await igor.request(url, {
        method,
        headers: { 'content-type': 'application/json' },
        body: fields === undefined ? undefined : JSON.stringify(fields),
      });
      await load();
      return answer;
    } catch (err) {
      igor.say(result, err.message, 'error');
      return undefined;
    }
  };
  const done = (message) => igor.say(result, message);

  async function loadUsers() {
    const users = await igor.request('/internal/users');
    $('users').tBodies[0].replaceChildren(
      ...users.map((u) =>
        igor.el(
          'tr',
          { dataset: { user: u.name } },
          igor.el('td', {}, u.name, u.name === me.user ? ' (you)' : ''),
          igor.el('td', {}, u.admin ? 'yes' : 'no'),
          igor.el('td', {}, String(u.tokens)),
          igor.el(
            'td',
            {},
            igor.el('button', { type: 'button', class: 'small', dataset: { password: u.name } }, 'Set password'),
            u.name === me.user
              ? null
              : igor.el(
                  'button',
                  { type: 'button', class: 'small', dataset: { admin: u.name, to: String(!u.admin) } },
                  u.admin ? 'Not admin' : 'Make admin',
                ),
            u.name === me.user ? null : igor.el('button', { type: 'button', class: 'small', dataset: { logout: u.name } }, 'Log out'),
            u.name === me.user ? null : igor.el('button', { type: 'button', class: 'small', dataset: { remove: u.name } }, 'Delete'),
          ),
        ),
      ),
    );
  }

  async function loadTokens() {
    const tokens = await igor.request('/internal/tokens');
    const items = tokens.map((t) =>
      igor.el(
        'li',
        { dataset: { token: t.id } },
        igor.el('strong', {}, igor.path(t.path)),
        ` ${t.rights} · ${t.user} · ${t.expires ? `until ${new Date(t.expires * 1000).toLocaleDateString()}` : 'no expiry'}`,
        t.comment ? ` · ${t.comment}` : '',
        ' ',
        igor.el('button', { type: 'button', class: 'small', dataset: { revoke: t.id } }, 'Revoke'),
      ),
    );
    $('tokenList').replaceChildren(...(items.length ? items : [igor.el('li', {}, 'No tokens.')]));
  }

  async function loadSessions() {
    const sessions = await igor.request('/internal/sessions');
    const items = sessions.map((x) =>
      igor.el(
        'li',
        { dataset: { session: x.id } },
        igor.el('strong', {}, x.agent || 'a browser'),
        ` · since ${new Date(x.created * 1000).toLocaleString()}`,
        x.current ? ' · this one' : '',
        ' ',
        x.current ? null : igor.el('button', { type: 'button', class: 'small', dataset: { end: x.id } }, 'Log out there'),
      ),
    );
    $('sessionList').replaceChildren(...(items.length ? items : [igor.el('li', {}, 'No sessions.')]));
  }

  async function load() {
    await Promise.all([me.admin ? loadUsers() : null, loadTokens(), loadSessions()]);
  }

  $('everyone').hidden = !me.admin;
  $('mine').hidden = false;
  $('tokens').hidden = false;
  $('sessions').hidden = false;
  $('tokenUserBox').hidden = !me.admin;
  $('oldBox').hidden = me.admin; // an admin sets any password without the old one
  $('mineTitle').textContent = `Your password (${me.user})`;
  await load().catch((err) => igor.say(result, err.message, 'error'));

  $('addUser').addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    const name = f.get('name');
    if (await send('POST', '/internal/users', { name, password: f.get('password'), admin: f.get('admin') === 'true' })) {
      event.target.reset();
      done(`${name} can now log in.`);
    }
  });
  $('users').addEventListener('click', async (event) => {
    const b = event.target.closest('button');
    if (!b) return;
    if (b.dataset.password) {
      const password = prompt(`New password for ${b.dataset.password}`);
      if (password && (await send('PUT', `/internal/users/${quote(b.dataset.password)}/password`, { password })))
        done(`The password of ${b.dataset.password} is changed.`);
    } else if (b.dataset.admin) {
      const admin = b.dataset.to === 'true';
      if (await send('PUT', `/internal/users/${quote(b.dataset.admin)}/admin`, { admin }))
        done(`${b.dataset.admin} is ${admin ? 'now' : 'no longer'} an admin.`);
    } else if (b.dataset.logout) {
      if (await send('DELETE', `/internal/sessions?user=${quote(b.dataset.logout)}`)) done(`${b.dataset.logout} is logged out everywhere.`);
    } else if (b.dataset.remove && confirm(`Delete ${b.dataset.remove}, with their tokens?`)) {
      if (await send('DELETE', `/internal/users/${quote(b.dataset.remove)}`)) done(`${b.dataset.remove} is deleted.`);
    }
  });
  $('password').addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    const fields = { password: f.get('password'), ...(me.admin ? {} : { oldPassword: f.get('oldPassword') }) };
    if (await send('PUT', `/internal/users/${quote(me.user)}/password`, fields)) {
      event.target.reset();
      done('Your password is changed.');
    }
  });
  $('newToken').addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    const made = await send('POST', '/internal/tokens', {
      ...(f.get('user') ? { user: f.get('user') } : {}),
      path: f.get('path'),
      rights: f.getAll('rights').join(','),
      expiresDays: f.get('expiresDays') || undefined,
      comment: f.get('comment') || undefined,
    });
    if (made) {
      $('madeToken').textContent = made.token;
      $('made').hidden = false;
      done('Token created.');
    }
  });
  $('sessionList').addEventListener('click', async (event) => {
    const b = event.target.closest('button[data-end]');
    if (b && (await send('DELETE', `/internal/sessions/${quote(b.dataset.end)}`))) done('That browser is logged out.');
  });
  $('everywhere').addEventListener('click', async () => {
    if (!confirm('Log out of every browser, this one too?')) return;
    try {
      await igor.request('/internal/sessions', { method: 'DELETE' });
      location.assign('/login?returnTo=/users.html');
    } catch (err) {
      igor.say(result, err.message, 'error');
    }
  });
  $('tokenList').addEventListener('click', async (event) => {
    const b = event.target.closest('button[data-revoke]');
    if (b && (await send('DELETE', `/internal/tokens/${quote(b.dataset.revoke)}`))) done('Token revoked: it no longer works.');
  });
});
