import { describe, expect, it } from 'vitest';
import { AppError, conflict, notFound, serviceUnavailable, validationFailed } from './app-error.js';
import { PROBLEM_TITLES, titleOf } from './catalogue.js';
import { problemResponse } from './problem-schemas.js';

describe('the problem catalogue', () => {
  it('an AppError without a title takes its status’s title from the catalogue', () => {
    expect(new AppError({ status: 429, type: 'rate-limited', detail: 'slow down' }).title).toBe(
      'Too Many Requests',
    );
    expect(new AppError({ status: 507, type: 'store-full', detail: 'full' }).title).toBe(
      'Insufficient Storage',
    );
  });

  it('a title given explicitly is kept', () => {
    expect(new AppError({ status: 400, type: 'x', title: 'Custom', detail: 'd' }).title).toBe('Custom');
  });

  it('the helpers and the documented examples use the catalogue’s titles', () => {
    expect(notFound('x').title).toBe(PROBLEM_TITLES[404]);
    expect(conflict('x').title).toBe(PROBLEM_TITLES[409]);
    expect(validationFailed([]).title).toBe(PROBLEM_TITLES[400]);
    expect(serviceUnavailable('x', 1).title).toBe(PROBLEM_TITLES[503]);
    const documented = problemResponse(413).content['application/problem+json'].example;
    expect(documented).toMatchObject({ title: 'Payload Too Large', status: 413 });
  });

  it('a status the catalogue does not list is titled Error', () => {
    expect(titleOf(418)).toBe('Error');
  });
});
