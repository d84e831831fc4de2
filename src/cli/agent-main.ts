/**
 * Entry point of the bundled agent (`scripts/build-agent.mjs` → dist/agent/arca-agent.mjs): the
 * `arca agent` command alone, run by plain `node` without the TypeScript loader, for container
 * images where memory counts (see docs/agent.md, "Footprint").
 */
import { Command, CommanderError } from 'commander';
import { register } from './agent.ts';
import { EXIT_USAGE, reportError } from './exit.ts';

const program = new Command('arca').exitOverride().showHelpAfterError();
register(program.command('agent'));
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    if (err.exitCode !== 0) process.exitCode = EXIT_USAGE;
  } else {
    reportError(err);
  }
}
