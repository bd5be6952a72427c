// The parts of _fitbit's setup page that are its own: which provider's instructions and fields show, and the
// data to get as checkboxes (sent as the comma-separated `data` setting). oauth-setup.js does the rest.
'use strict';
document.addEventListener('igor:settings', (event) => {
  const s = event.detail;
  const provider = s.provider || s.defaults.provider;
  const show = (chosen) => {
    for (const el of document.querySelectorAll('[data-provider-only]')) el.hidden = el.dataset.providerOnly !== chosen;
  };
  const select = document.getElementById('provider');
  select.value = provider;
  select.onchange = () => show(select.value);
  show(provider);
  document.getElementById('scopes').textContent = s.scopes.join(', ');
  document.getElementById('webhookSecretState').textContent = s.secrets.webhookSecret ? '(set; leave empty to keep it)' : '(not set)';
  document.getElementById('webhookSecret').value = '';
  const enabled = (s.data || s.defaults.data).split(',');
  const kinds = document.getElementById('kinds');
  kinds.replaceChildren(
    ...s.kinds.map((kind) => {
      const label = document.createElement('label');
      const box = document.createElement('input');
      Object.assign(box, { type: 'checkbox', value: kind, checked: enabled.includes(kind) });
      box.style.width = 'auto';
      label.append(box, ` ${s.kindNames[kind] || kind}`);
      return label;
    }),
  );
  const sync = () => {
    document.getElementById('data').value = [...kinds.querySelectorAll('input:checked')].map((b) => b.value).join(',');
  };
  kinds.onchange = sync;
  sync();
});
document.addEventListener('igor:person', (event) => {
  for (const el of document.querySelectorAll('#person [data-provider-only]')) el.hidden = el.dataset.providerOnly !== event.detail.provider;
});
