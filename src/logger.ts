/** The structured logger library code writes to; the CLI decides where it goes. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A logger that adds `fields` to every line (a fleet run tags each account's lines with its name). */
export function withLogFields(logger: Logger, fields: Record<string, unknown>): Logger {
  const tagged =
    (write: Logger['info']) =>
    (message: string, more?: Record<string, unknown>): void =>
      write(message, { ...fields, ...more });
  return {
    debug: tagged((m, f) => logger.debug(m, f)),
    info: tagged((m, f) => logger.info(m, f)),
    warn: tagged((m, f) => logger.warn(m, f)),
    error: tagged((m, f) => logger.error(m, f)),
  };
}
