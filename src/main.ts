import { Command, CommanderError } from 'commander';
import { COMMANDS } from './cli/registry.ts';
import { EXIT_USAGE, reportError } from './cli/exit.ts';

/** argv → the command registry. Only the invoked command's module is loaded. */
async function main(argv: string[]): Promise<void> {
  const program = new Command('arca')
    .description('Arca: a self-hosted root of trust for Kubernetes secrets')
    .exitOverride()
    .showHelpAfterError();
  const wanted = argv[2];
  for (const entry of COMMANDS) {
    const cmd = program.command(entry.name).description(entry.summary);
    if (entry.name === wanted) (await entry.load()).register(cmd);
  }
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return;
      process.exitCode = EXIT_USAGE;
      return;
    }
    reportError(err);
  }
}

await main(process.argv);
