import { pino, type Level } from 'pino';
import type { Logger } from '../logger.js';
import { redactText } from '../graph/redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/**
 * JSON lines on stderr (pino), with every known secret redacted from messages and fields as a last line of
 * defence — the client already keeps tokens out of URLs and errors.
 */
export function createCliLogger(
  level: LogLevel,
  secrets: () => readonly string[],
  /** Where lines go instead of stderr (the live progress display passes them through, above its frame). */
  write?: (line: string) => void,
): Logger {
  const base = pino(
    { level, base: null, timestamp: pino.stdTimeFunctions.isoTime },
    write ? { write } : pino.destination({ fd: 2, sync: true }),
  );
  const emit =
    (lvl: Level) =>
    (message: string, fields?: Record<string, unknown>): void => {
      const clean = redactText(message, secrets());
      if (fields === undefined) base[lvl](clean);
      else base[lvl](JSON.parse(redactText(JSON.stringify(fields), secrets())) as object, clean);
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
