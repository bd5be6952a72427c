// The hello plugin's setup page: shows and changes the greeting through the plugin's JSON methods.
'use strict';
document.addEventListener('DOMContentLoaded', async () => {
  const plugin = location.pathname.split('/')[2];
  const form = document.getElementById('settings');
  form.dataset.plugin = plugin;
  form.dataset.method = 'settings';
  const show = async () => {
    const settings = await igor.request(`/plugin/${plugin}/settings`);
    igor.fill(document, { plugin, greeting: settings.greeting, now: settings.greeting });
  };
  form.onDone = show;
  igor.wireForms();
  try {
    await show();
  } catch (err) {
    igor.say(form.querySelector('[data-result]'), `${err.message} — log in as an admin at /login`, 'error');
  }
});
