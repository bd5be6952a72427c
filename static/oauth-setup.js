// The setup page of a plugin that uses a cloud service through OAuth2 (_fitbit, misfit): the app registration
// (admins: the plugin's settings method), and each person's entry (userSettings), authorisation (auth1),
// "get the data now" (the plugin's index) and forgetting (revokes at the provider). The page names the service
// in <body data-provider="…"> (or the entry says providerName). A page's own script hears `igor:settings` and
// `igor:person` with what was loaded.
'use strict';
document.addEventListener('DOMContentLoaded', async () => {
  const plugin = location.pathname.split('/')[2];
  const provider = document.body.dataset.provider || 'the service';
  const $ = (id) => document.getElementById(id);
  const show = (id, on = true) => ($(id).hidden = !on);
  const authText = { none: 'not authorised yet', authorised: 'authorised', reauthorise: 'needs to be authorised again (re-authorise)' };
  const me = await igor.whoami().catch(() => ({ user: null, admin: false }));
  const user = igor.param('user') || me.user;
  igor.fill(document, { plugin, user });
  if (!me.user) {
    $('loginLink').href = `/login?returnTo=${encodeURIComponent(location.pathname + location.search)}`;
    show('login');
    return;
  }

  if (me.admin) {
    const loadApp = async () => {
      const s = await igor.request(`/plugin/${plugin}/settings`);
      igor.fill($('app'), s);
      $('client_secret').value = '';
      $('secretState').textContent = s.secrets?.client_secret ? '(set; leave empty to keep it)' : '(not set)';
      // Each empty field shows what it defaults to.
      for (const [key, value] of Object.entries(s.defaults || {})) {
        const input = $('appForm').querySelector(`input[name="${key}"]`);
        if (input) input.placeholder = value;
      }
      document.dispatchEvent(new CustomEvent('igor:settings', { detail: s }));
    };
    Object.assign($('appForm').dataset, { plugin, method: 'settings' });
    $('appForm').onDone = loadApp;
    await loadApp().catch((err) => igor.say($('problem'), err.message, 'error'));
    show('app');
  }

  if (!user) return;
  const userUrl = `/plugin/${plugin}/userSettings?user=${encodeURIComponent(user)}`;
  const loadUser = async () => {
    const u = await igor.request(userUrl);
    const name = u.providerName || provider;
    igor.fill($('person'), { ...u, user, authorisationText: authText[u.authorisation] || u.authorisation });
    $('authState').className = u.authorisation === 'authorised' ? 'ok' : 'error';
    $('authorise').textContent = u.authorisation === 'none' ? `Authorise Igor at ${name}` : `Authorise Igor at ${name} again`;
    // Why the person must authorise again, in the words the server found for it.
    if ($('authProblem')) {
      igor.say($('authProblem'), u.problem || '', 'error');
      $('authProblem').hidden = !u.problem;
    }
    if ($('forget')) $('forget').hidden = u.authorisation === 'none';
    document.dispatchEvent(new CustomEvent('igor:person', { detail: u }));
    show('noEntry', !u.exists);
    show('entry', u.exists);
  };
  $('authorise').href = `/plugin/${plugin}/auth1?user=${encodeURIComponent(user)}`;
  Object.assign($('userForm').dataset, { plugin, method: 'userSettings' });
  $('userForm').onDone = loadUser;
  $('createUser').addEventListener('click', async () => {
    try {
      await igor.request(`${userUrl}&create=1`, { method: 'POST' });
      await loadUser();
    } catch (err) {
      igor.say($('problem'), err.message, 'error');
    }
  });
  $('fetchNow').addEventListener('click', async () => {
    igor.say($('fetchResult'), `Asking ${provider}…`);
    try {
      const r = await igor.request(`/plugin/${plugin}?user=${encodeURIComponent(user)}`, { method: 'POST' });
      const counts = Object.entries(r.stored)
        .map(([k, n]) => `${k}: ${n} new or changed`)
        .join(', ');
      igor.say($('fetchResult'), `Done. ${counts || 'Nothing new.'}${r.notGranted ? ` ${r.notGranted}.` : ''}`);
    } catch (err) {
      igor.say($('fetchResult'), err.message, 'error');
    }
  });
  if ($('forget')) {
    $('forget').addEventListener('click', async () => {
      try {
        const u = await igor.request(`${userUrl}&forget=1`, { method: 'POST' });
        igor.say($('fetchResult'), `Forgotten${u.revoked ? `: ${u.revoked}` : ''}.`);
        await loadUser();
      } catch (err) {
        igor.say($('fetchResult'), err.message, 'error');
      }
    });
  }
  igor.wireForms();
  show('person');
  await loadUser().catch((err) => igor.say($('problem'), err.message, 'error'));
});
