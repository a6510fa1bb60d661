import { UsageError } from '../exit-codes.js';

/** The options, in every command, whose values are paths to files or folders. */
const PATH_OPTIONS = [
  'output',
  'state-dir',
  'config',
  'token-file',
  'record',
  'redact-key-file',
  'app-secret-file',
  'verify-token-file',
  'replay',
  'dyi-archive',
] as const;

/** The positionals that are paths (import-dyi's archive, verify's snapshots). */
const PATH_POSITIONALS = ['archive', 'snapshots'] as const;

/**
 * Only a shell expands a leading "~" (to the home folder), and only when it is not quoted. Given in quotes or in a
 * config file, "~/archive" would be a folder named "~" in the working folder, which a later `rm -rf ~` meant for it
 * would take for the home folder. So such a path is refused, in flags and config files alike.
 */
export const isUnexpandedHome = (path: string): boolean => path.startsWith('~');

export const UNEXPANDED_HOME =
  'begins with "~", which only a shell expands to a home folder (here it would be taken as written): write the whole path, or $HOME/… unquoted';

/** Refuses a command's path option or positional that begins with "~", naming it as the user wrote it. */
export function checkPathOptions(args: Readonly<Record<string, unknown>>): void {
  const named = [
    ...PATH_OPTIONS.map((name) => [`--${name}`, args[name]] as const),
    ...PATH_POSITIONALS.map((name) => [name, args[name]] as const),
  ];
  for (const [name, value] of named)
    for (const path of Array.isArray(value) ? (value as unknown[]) : [value])
      if (typeof path === 'string' && isUnexpandedHome(path))
        throw new UsageError(`${name} ${JSON.stringify(path)} ${UNEXPANDED_HOME}`);
}
