import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';

import { PageQuery } from './pagination.js';
import { IdParams } from './schemas.js';
import { convertFlatText, convertText, flatPropertyKinds } from './validator.js';

const Query = Type.Intersect([
  PageQuery,
  Type.Object({
    tenant: Type.Optional(Type.Integer({ minimum: 1 })),
    is_active: Type.Optional(Type.Boolean()),
    run_mode: Type.Optional(Type.Union([Type.Literal('7x24'), Type.Literal('5x8')])),
    search: Type.Optional(Type.String({ maxLength: 20 })),
  }),
]);

const TEXTS = [
  '1',
  '42',
  '-5',
  '0',
  '-0',
  '01',
  '1.5',
  '1e3',
  '0x10',
  '',
  ' 7',
  '9007199254740993',
  'true',
  'false',
  'TRUE',
  '1 ',
  'abc',
];

describe('convertFlatText', () => {
  it.each(['page', 'tenant', 'is_active', 'run_mode', 'search', 'unknown'])(
    'converts %s like TypeBox',
    (key) => {
      const kinds = flatPropertyKinds(Query);
      for (const text of TEXTS) {
        const input = { [key]: text };
        expect(convertFlatText(kinds, input), `${key}=${JSON.stringify(text)}`).toEqual(
          convertText(Query, input),
        );
      }
    },
  );

  it('converts path parameters like TypeBox', () => {
    const kinds = flatPropertyKinds(IdParams);
    for (const text of TEXTS) {
      expect(convertFlatText(kinds, { id: text })).toEqual(convertText(IdParams, { id: text }));
    }
  });

  it('leaves repeated parameters to TypeBox', () => {
    expect(convertFlatText(flatPropertyKinds(Query), { page: ['1', '2'] })).toBeUndefined();
  });

  it('leaves other schemas to TypeBox', () => {
    const Nested = Type.Object({ filter: Type.Object({ id: Type.Integer() }) });
    expect(flatPropertyKinds(Nested)).toBeUndefined();
    expect(flatPropertyKinds(Type.Object({ amount: Type.Number() }))).toBeUndefined();
  });
});
