import { describe, expect, it } from 'vitest';
import { fromCents, hasAtMostTwoDecimals, toCents, totalCents } from './money.js';

describe('toCents', () => {
  it.each([
    [0, 0],
    [0.01, 1],
    [0.1, 10],
    [0.29, 29],
    [1.1, 110],
    [10.99, 1_099],
    [999.99, 99_999],
    [1_000_000, 100_000_000],
    [4.35, 435],
    [1.15, 115],
  ])('when the amount is %d, then it is %d cents', (amount, cents) => {
    expect(toCents(amount)).toBe(cents);
  });

  it.each([[1.005], [0.001], [10.999], [0.1 + 0.2], [Math.PI]])(
    'when the amount %d has more than two decimals, then it is rejected',
    (amount) => {
      expect(toCents(amount)).toBeNull();
      expect(hasAtMostTwoDecimals(amount)).toBe(false);
    },
  );

  it.each([[Number.NaN], [Number.POSITIVE_INFINITY], [Number.NEGATIVE_INFINITY]])(
    'when the amount is %d, then it is rejected',
    (amount) => {
      expect(toCents(amount)).toBeNull();
    },
  );

  it('when the amount is so large its cents are not a safe integer, then it is rejected', () => {
    expect(toCents(Number.MAX_SAFE_INTEGER)).toBeNull();
    expect(toCents(1e300)).toBeNull();
  });

  it('when the amount is the largest with exact cents, then it converts', () => {
    expect(toCents(90_071_992_547_409.91)).toBe(9_007_199_254_740_991);
  });

  it('when the amount is negative with two decimals, then it converts (the schema, not money, forbids it)', () => {
    expect(toCents(-1.25)).toBe(-125);
  });
});

describe('totalCents', () => {
  it('when there are no items, then the total is 0', () => {
    expect(totalCents([])).toBe(0);
  });

  it.each([
    ['2 × 10.99', [{ price: 10.99, quantity: 2 }], 2_198],
    ['3 × 0.1', [{ price: 0.1, quantity: 3 }], 30],
    [
      '0.1 + 0.2',
      [
        { price: 0.1, quantity: 1 },
        { price: 0.2, quantity: 1 },
      ],
      30,
    ],
    [
      '10 × 0.07 + 3 × 0.33',
      [
        { price: 0.07, quantity: 10 },
        { price: 0.33, quantity: 3 },
      ],
      169,
    ],
    ['10,000 × 1,000,000 (largest quantity × price)', [{ price: 1_000_000, quantity: 10_000 }], 1e12],
  ])('when the items are %s, then the total is exact in cents', (_label, items, cents) => {
    expect(totalCents(items)).toBe(cents);
  });

  it('when a float sum would drift, then the cent total does not', () => {
    const items = Array.from({ length: 100 }, () => ({ price: 0.1, quantity: 1 }));
    expect(items.reduce((sum, i) => sum + i.price * i.quantity, 0)).not.toBe(10);
    expect(totalCents(items)).toBe(1_000);
  });

  it('when a price has three decimals, then it throws a RangeError', () => {
    expect(() => totalCents([{ price: 1.005, quantity: 1 }])).toThrow(RangeError);
  });

  it('when a price is NaN, then it throws a RangeError', () => {
    expect(() => totalCents([{ price: Number.NaN, quantity: 1 }])).toThrow(RangeError);
  });
});

describe('fromCents', () => {
  it.each([
    [2_198, 21.98],
    [30, 0.3],
    [0, 0],
    [1, 0.01],
    [100_000_000, 1_000_000],
  ])('when given %d cents, then it gives the JSON number %d', (cents, amount) => {
    expect(fromCents(cents)).toBe(amount);
    expect(JSON.stringify(fromCents(cents))).toBe(String(amount));
  });

  it('when round-tripped with toCents for every cent value up to 100.00, then nothing is lost', () => {
    for (let cents = 0; cents <= 10_000; cents++) expect(toCents(fromCents(cents))).toBe(cents);
  });
});
