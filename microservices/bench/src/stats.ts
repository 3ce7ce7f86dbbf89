import { percentile, percentileOf } from '@microservices/service-kit/testing';

export { percentile };

export const median = (values: readonly number[]) => percentileOf(values, 50);
export const round = (value: number, digits = 2) => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};
