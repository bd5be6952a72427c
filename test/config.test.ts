/**
 * Settings are declared once (src/config.ts SETTINGS): README's table of options, `igor serve --help` and the
 * values flags and environment variables give all come from that declaration, and are checked against it here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULTS, envName, resolveConfig, SETTINGS } from '../src/config.ts';
import { buildProgram } from '../src/cli/main.ts';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** README's table of options, row by row as its cells. */
function readmeRows(): string[][] {
  const start = README.indexOf('| flag | environment | default | meaning |');
  assert.ok(start >= 0, "README has the options' table");
  const lines = README.slice(start).split('\n');
  const rows: string[][] = [];
  for (const line of lines.slice(2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim()),
    );
  }
  return rows;
}

describe('the settings', () => {
  it("are README's table of options, row for row", () => {
    const expected = SETTINGS.map((s) => [`\`${s.flag}\``, `\`${s.env}\``, s.shown, s.help]);
    assert.deepEqual(readmeRows(), expected);
  });

  it('are the options of igor serve, each with its environment variable and default in its help', () => {
    const serve = buildProgram({ out: () => {}, err: () => {} } as never, () => {}).commands.find((c) => c.name() === 'serve')!;
    const help = serve.helpInformation().replace(/\s+/g, ' ');
    for (const s of SETTINGS) {
      assert.ok(
        serve.options.some((o) => o.long === s.flag.split(' ')[0]),
        `${s.flag} is an option`,
      );
      assert.ok(help.includes(`env ${s.env};`), `${s.flag}'s help names ${s.env}`);
    }
    assert.equal(serve.options.filter((o) => o.long !== '--help').length, SETTINGS.length);
  });

  it('take flags over the environment over the defaults, each checked, naming where a bad value came from', () => {
    assert.equal(resolveConfig({}, {}).port, DEFAULTS.port);
    assert.equal(resolveConfig({}, { IGOR_PORT: '1234' }).port, 1234);
    assert.equal(resolveConfig({ port: '4321' }, { IGOR_PORT: '1234' }).port, 4321);
    assert.deepEqual(resolveConfig({}, { IGOR_ALLOW_HOSTS: 'nas.local, 192.168.1.0/24' }).allowHosts, ['nas.local', '192.168.1.0/24']);
    assert.equal(resolveConfig({ mqttBroker: true }, {}).mqttBroker, 1883);
    assert.equal(resolveConfig({}, { IGOR_NO_AUTH: '1' }).noAuth, true);
    assert.throws(
      () => resolveConfig({}, { IGOR_PORT: 'x' }),
      (e: Error) => e instanceof ConfigError && /IGOR_PORT=x/.test(e.message),
    );
    assert.throws(() => resolveConfig({ maxDepth: '5000' }, {}), /--max-depth=5000 is not a whole number from 16 to 1024/);
    for (const s of SETTINGS) assert.match(envName(s), /^IGOR_[A-Z_]+$/);
  });
});
