import { describe, expect, it } from 'vitest';
import {
  addressEditable,
  allowedMovesFrom,
  canMoveTo,
  ORDER_STATUSES,
  type OrderStatus,
} from './order-status.js';

/** The seed contract's moves: pending→confirmed→shipped→delivered, and pending or confirmed → cancelled. */
const ALLOWED = new Set([
  'pending→confirmed',
  'confirmed→shipped',
  'shipped→delivered',
  'pending→cancelled',
  'confirmed→cancelled',
]);

const everyPair = ORDER_STATUSES.flatMap((from) => ORDER_STATUSES.map((to) => [from, to] as const));

describe('canMoveTo', () => {
  it.each(everyPair)('when moving %s → %s, then it matches the contract', (from, to) => {
    const expected = from === to || ALLOWED.has(`${from}→${to}`);
    expect(canMoveTo(from, to)).toBe(expected);
  });

  it('when every pair is checked, then exactly the five moves plus the five no-ops are allowed', () => {
    const allowed = everyPair.filter(([from, to]) => canMoveTo(from, to));
    expect(allowed).toHaveLength(10);
  });
});

describe('allowedMovesFrom', () => {
  it.each([
    ['pending', ['confirmed', 'cancelled']],
    ['confirmed', ['shipped', 'cancelled']],
    ['shipped', ['delivered']],
    ['delivered', []],
    ['cancelled', []],
  ] as Array<[OrderStatus, OrderStatus[]]>)('when the order is %s, then the moves are %j', (from, moves) => {
    expect([...allowedMovesFrom(from)]).toEqual(moves);
  });
});

describe('addressEditable', () => {
  it.each([
    ['pending', true],
    ['confirmed', true],
    ['shipped', false],
    ['delivered', false],
    ['cancelled', false],
  ] as Array<[OrderStatus, boolean]>)('when the order is %s, then editable is %s', (status, editable) => {
    expect(addressEditable(status)).toBe(editable);
  });
});
