#!/usr/bin/env node
// The `igor` command. The sources are TypeScript run through tsx, so there is no build step to forget.
// `import 'tsx'` registers both of its loaders, as `node --import tsx` does: a person's plugin.ts in a database's
// plugins/ folder lies outside this package, with no package.json saying it is an ES module, so Node takes it
// for CommonJS, and with the ES-module loader alone that failed (ERR_REQUIRE_CYCLE_MODULE).
import 'tsx';

const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
