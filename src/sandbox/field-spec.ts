/**
 * Parser for Graph `fields` parameters with field expansion (contract §3):
 * `id,updated_time,participants{id,username},messages.limit(100){id,created_time}`.
 */
export interface FieldSpec {
  name: string;
  limit?: number;
  after?: string;
  subfields?: FieldSpec[];
}

export class FieldSyntaxError extends Error {
  override name = 'FieldSyntaxError';
}

export function parseFields(input: string): FieldSpec[] {
  let pos = 0;
  const peek = (): string | undefined => input[pos];

  const parseList = (closing: string | undefined): FieldSpec[] => {
    const specs: FieldSpec[] = [];
    for (;;) {
      specs.push(parseOne());
      const c = peek();
      if (c === ',') {
        pos++;
        continue;
      }
      if (c === closing) return specs;
      throw new FieldSyntaxError(
        `Syntax error "Expected end of string instead of "${c ?? ''}"." at character ${pos}: ${input}`,
      );
    }
  };

  const parseOne = (): FieldSpec => {
    const start = pos;
    while (pos < input.length && /[A-Za-z0-9_]/.test(input[pos] ?? '')) pos++;
    const name = input.slice(start, pos);
    if (name === '')
      throw new FieldSyntaxError(`Syntax error "Field name expected" at character ${pos}: ${input}`);
    const spec: FieldSpec = { name };
    while (peek() === '.') {
      pos++;
      const mStart = pos;
      while (pos < input.length && /[a-z_]/.test(input[pos] ?? '')) pos++;
      const modifier = input.slice(mStart, pos);
      if (peek() !== '(')
        throw new FieldSyntaxError(`Syntax error "Expected "("." at character ${pos}: ${input}`);
      const close = input.indexOf(')', pos);
      if (close < 0) throw new FieldSyntaxError(`Syntax error "Expected ")"." at character ${pos}: ${input}`);
      const arg = input.slice(pos + 1, close);
      pos = close + 1;
      if (modifier === 'limit') spec.limit = Number.parseInt(arg, 10);
      else if (modifier === 'after') spec.after = arg;
    }
    if (peek() === '{') {
      pos++;
      spec.subfields = parseList('}');
      pos++;
    }
    return spec;
  };

  if (input.trim() === '') return [];
  const specs = parseList(undefined);
  return specs;
}
