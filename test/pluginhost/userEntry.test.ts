/**
 * A person's plugin entry on its own: which fields a setup page's POST may set or remove, and what of the entry
 * it is shown — without a server; oauth2.test.ts and the plugins' setup tests go through the whole flow.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settingChanges, shownSettings } from '../../src/pluginhost/userEntry.ts';

const base = '/data/identities/jack/plugindata/p';

describe("a person's entry", () => {
  it('sets the fields a form sends, and removes those sent empty', () => {
    assert.deepEqual(settingChanges(base, { units: 'imperial', methods: '', user: 'jack', _csrf: 't', returnTo: '/x' }), [
      { op: 'put', xpath: `${base}/units`, value: 'imperial' },
      { op: 'delete', xpath: `${base}/methods` },
    ]);
  });

  it("adds a field named by Igor's _newName and _newValue", () => {
    assert.deepEqual(settingChanges(base, { _newName: 'period', _newValue: '7d' }), [{ op: 'put', xpath: `${base}/period`, value: '7d' }]);
  });

  it("refuses names that are not settings: the plugin's own state, the token, what cannot be an element", () => {
    for (const name of ['_sync', 'token', 'needsAuthorisation', '1st', 'a/b', "x']"]) {
      assert.throws(() => settingChanges(base, { _newName: name, _newValue: 'v' }), /cannot be a setting name/, name);
    }
    assert.throws(() => settingChanges(base, { 'a b': 'v' }), /"a b" cannot be a setting name/);
  });

  it('is shown without its token, the reason to authorise again, or the plugin state', () => {
    assert.deepEqual(
      shownSettings({
        units: 'metric',
        token: { access_token: 'secret' },
        needsAuthorisation: 'why',
        _sync: { steps: 'x' },
        _healthUserId: 'h',
      }),
      { units: 'metric' },
    );
    assert.deepEqual(shownSettings(undefined), {});
  });
});
