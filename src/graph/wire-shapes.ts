import { z } from 'zod';

/**
 * The shapes the export relies on, checked where data enters (contract §1): a value of the wrong type becomes a
 * `ContractError` for that one item, recorded in the manifest, instead of a crash or a silently coerced value.
 * Objects stay open (`loose`): Meta adds fields, and unknown ones are kept in `raw`.
 */
const graphTime = z.union([z.string(), z.number()]);
const graphUser = z.looseObject({ id: z.string().optional(), username: z.string().optional() });

export const conversationItemSchema = z.looseObject({
  id: z.string(),
  updated_time: graphTime,
  participants: z.looseObject({ data: z.array(graphUser) }).optional(),
  messages: z.looseObject({ data: z.array(z.unknown()) }).optional(),
});

export const messageListItemSchema = z.looseObject({ id: z.string(), created_time: graphTime });

export const messageDetailSchema = z.looseObject({
  id: z.string(),
  created_time: graphTime.optional(),
  from: graphUser.optional(),
  to: z.looseObject({ data: z.array(graphUser) }).optional(),
  message: z.string().optional(),
  // Kept as given (raw); message-content.ts reads what it needs of them defensively.
  attachments: z.unknown().optional(),
  shares: z.unknown().optional(),
  story: z.unknown().optional(),
  reactions: z.unknown().optional(),
  is_unsupported: z.boolean().optional(),
});

/** A Graph item that does not have the shape the export relies on. */
export class ContractError extends Error {
  override name = 'ContractError';
}

/**
 * Parses `value` or throws a `ContractError` naming the item and the first problem's path and expectation, never
 * the values themselves (they may be personal data).
 */
export function parseWire<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const id = (value as { id?: unknown } | null)?.id;
  const where = issue ? `${issue.path.join('.') || '(the item)'}: ${issue.message}` : 'invalid';
  throw new ContractError(`${what}${typeof id === 'string' ? ` ${id}` : ''} is malformed (${where})`);
}
