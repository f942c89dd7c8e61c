/** The `distinct-adapter` command line (DESIGN §5). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { registerDlq } from './commands/dlq';
import { registerForward } from './commands/forward';
import { registerSandbox } from './commands/sandbox';
import { registerServe } from './commands/serve';
import { registerSimulate } from './commands/simulate';
import { registerStatus } from './commands/status';
import { registerValidate } from './commands/validate';
import { addHelp, CONFIG_ENV, DEV_ENV } from './help';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('distinct-adapter')
    .description('Verify email and SMS provider webhooks and deliver each event once to Distinct')
    .version(packageVersion());
  registerServe(program);
  registerForward(program);
  registerSandbox(program);
  registerSimulate(program);
  registerValidate(program);
  registerDlq(program);
  registerStatus(program);
  addHelp(
    program,
    [
      'npm start                                   # = distinct-adapter serve --dev: every provider, local sandbox, no account',
      'distinct-adapter simulate twilio            # a signed sample webhook to the running adapter; prints its outcome',
      'distinct-adapter validate --config distinct.config.yml',
      'distinct-adapter dlq list --config distinct.config.yml',
      'distinct-adapter <command> --help           # examples and environment of each command',
    ],
    { ...CONFIG_ENV, PORT: 'overrides server.port (serve, forward)', ...DEV_ENV },
  );
  return program;
}

/** The version in package.json, found by walking up (works from src/ and from dist/src/). */
function packageVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return '0.0.0';
}

export function main(argv: string[]): void {
  buildProgram()
    .parseAsync(argv)
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
