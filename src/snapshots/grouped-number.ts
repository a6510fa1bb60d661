/**
 * A count with thousands separators, as `toLocaleString('en-US')` writes it. That call loads ICU's locale data on
 * first use, about 20 ms of CPU in every run that renders its report; a whole number is grouped here instead.
 */
export function groupedNumber(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  const head = digits.length % 3 || 3;
  let out = digits.slice(0, head);
  for (let i = head; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 || Object.is(n, -0) ? `-${out}` : out;
}
