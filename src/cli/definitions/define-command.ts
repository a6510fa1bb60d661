import type { ArgumentsCamelCase, Argv } from 'yargs';
import type { LogLevel } from '../cli-logger.js';
import type { CommandResult } from '../exit-codes.js';
import { checkPathOptions } from './path-options.js';

/** The options every command has (declared once by main). */
export interface GlobalArgs {
  'log-level': LogLevel;
}

/**
 * One command as yargs' command module, `{command, describe, builder, handler}`, with typed arguments. The handler
 * imports its implementation lazily, so that `ig-export --version` or a usage error loads no pipeline code.
 */
export interface CommandDefinition<A> {
  command: string;
  describe: string;
  builder: (y: Argv<GlobalArgs>) => Argv<A>;
  handler: (args: ArgumentsCamelCase<A>) => Promise<CommandResult> | CommandResult;
}

/** A definition whose argument type is sealed inside: main registers them all alike. */
export interface RegisteredCommand {
  name: string;
  register(cli: Argv<GlobalArgs>, done: (result: CommandResult) => void): void;
}

/**
 * Every option that takes a value must be given one: a bare `--max-rps` (at the end, or before another flag) would
 * otherwise read as "not given" and the run would go on with the default.
 */
function valuesRequired<A>(y: Argv<A>): Argv<A> {
  type Declared = { string: string[]; number: string[]; choices: Record<string, unknown> };
  const declared = (y as unknown as { getOptions(): Declared }).getOptions();
  return y.requiresArg([...declared.string, ...declared.number, ...Object.keys(declared.choices)]);
}

export function defineCommand<A>(definition: CommandDefinition<A>): RegisteredCommand {
  return {
    name: definition.command.split(' ')[0] ?? definition.command,
    register(cli, done) {
      const builder = (y: Argv<GlobalArgs>): Argv<A> => valuesRequired(definition.builder(y));
      cli.command<A>(definition.command, definition.describe, builder, async (args) => {
        checkPathOptions(args);
        done(await definition.handler(args));
      });
    },
  };
}
