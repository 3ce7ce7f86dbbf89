/**
 * Money is carried as integer cents internally so totals are exact; amounts cross the API as JSON
 * numbers with at most two decimals, as the seed API's clients send and read them.
 */

/** Cents for an amount with at most two decimals, or null if it has more (e.g. 1.005) or is not finite. */
export function toCents(amount: number): number | null {
  if (!Number.isFinite(amount)) return null;
  const cents = Math.round(amount * 100);
  // Dividing the integer back must give the very same double: true exactly for ≤ 2-decimal literals.
  return Number.isSafeInteger(cents) && cents / 100 === amount ? cents : null;
}

export const hasAtMostTwoDecimals = (amount: number) => toCents(amount) !== null;

/** The nearest double to `cents / 100`, which is how `21.98` is written in JSON. */
export const fromCents = (cents: number) => cents / 100;

/** Σ price × quantity, exact to the cent. */
export function totalCents(items: ReadonlyArray<{ price: number; quantity: number }>): number {
  let total = 0;
  for (const item of items) {
    const cents = toCents(item.price);
    if (cents === null) throw new RangeError(`price ${item.price} has more than two decimals`);
    total += cents * item.quantity;
  }
  return total;
}
