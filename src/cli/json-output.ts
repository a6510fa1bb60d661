import { redactText } from '../graph/redact.js';
import { knownSecrets } from './access-token.js';

/** One `--json` line on stdout, through the last-chance redaction of every secret this process has read. */
export function writeJsonLine(value: Record<string, unknown>): void {
  process.stdout.write(`${redactText(JSON.stringify(value), knownSecrets())}\n`);
}
