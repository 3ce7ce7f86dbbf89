import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSources } from '../testing/source-checks.js';
import { AppError, conflict, notFound, serviceUnavailable, validationFailed } from './app-error.js';
import { PROBLEM_TITLES, PROBLEM_TYPES, type ProblemSlug, problemType, titleOf } from './catalogue.js';
import { problemOf, problemResponse } from './problem-schemas.js';

describe('the problem catalogue', () => {
  it('an AppError takes its status and title from its slug’s entry in the catalogue', () => {
    const limited = new AppError({ type: 'rate-limited', detail: 'slow down' });
    expect(limited).toMatchObject({ status: 429, title: 'Too Many Requests' });
    expect(new AppError({ type: 'store-full', detail: 'full' })).toMatchObject({
      status: 507,
      title: 'Insufficient Storage',
    });
  });

  it('a thrower cannot name a status or a title, nor a slug the catalogue does not list', () => {
    // @ts-expect-error: the status is the catalogue's
    expect(new AppError({ type: 'conflict', status: 400, detail: 'd' }).status).toBe(409);
    // @ts-expect-error: the title is the catalogue's
    expect(new AppError({ type: 'conflict', title: 'Custom', detail: 'd' }).title).toBe('Conflict');
    // @ts-expect-error: not a slug of the catalogue
    expect(() => new AppError({ type: 'no-such-problem', detail: 'd' })).toThrow(/not a problem type/);
    // @ts-expect-error: a 409 helper takes only 409 slugs
    conflict('d', 'store-full');
    // @ts-expect-error: a 503 helper takes only 503 slugs
    serviceUnavailable('d', 1, 'conflict');
  });

  it('every entry’s title is its status’s, so a status reads the same whatever the type', () => {
    for (const [slug, { status, title }] of Object.entries(PROBLEM_TYPES)) {
      expect(title, slug).toBe(PROBLEM_TITLES[status]);
    }
  });

  it('the helpers and the documented examples use the catalogue’s entries', () => {
    expect(notFound('x').title).toBe(PROBLEM_TITLES[404]);
    expect(conflict('x').title).toBe(PROBLEM_TITLES[409]);
    expect(conflict('x', 'email-taken')).toMatchObject({ status: 409, type: 'email-taken' });
    expect(validationFailed([]).title).toBe(PROBLEM_TITLES[400]);
    expect(serviceUnavailable('x', 1).title).toBe(PROBLEM_TITLES[503]);
    const documented = problemResponse('payload-too-large').content['application/problem+json'].example;
    expect(documented).toMatchObject({ title: 'Payload Too Large', status: 413 });
    expect(problemOf('missing-host', 'd')).toEqual({
      type: 'urn:problem-type:missing-host',
      title: 'Bad Request',
      status: 400,
      detail: 'd',
    });
  });

  it('a slug outside the catalogue is refused at run time too', () => {
    expect(() => problemType('toString' as ProblemSlug)).toThrow(/not a problem type/);
  });

  it('a status the catalogue does not list is titled Error', () => {
    expect(titleOf(418)).toBe('Error');
  });

  it('no runtime source of the kit or the services spells a title or a problem status outside the catalogue', () => {
    const microservices = fileURLToPath(new URL('../../..', import.meta.url));
    const titles = new Set<string>(Object.values(PROBLEM_TITLES));
    const offenders: string[] = [];
    for (const workspace of ['service-kit', 'user-service', 'order-service']) {
      for (const [file, source] of readSources(join(microservices, workspace, 'src'))) {
        if (file.endsWith('.test.ts') || file.endsWith('catalogue.ts')) continue;
        for (const title of titles) if (source.includes(`'${title}'`)) offenders.push(`${file}: '${title}'`);
        if (/new AppError\(\{[^}]*\bstatus:/s.test(source)) offenders.push(`${file}: AppError with a status`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
