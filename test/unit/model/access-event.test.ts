// canonicalOperation: any source's operation name onto the canonical set, never anything else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalOperation, OPERATIONS } from '../../../src/model/access-event.js';

describe('canonicalOperation', () => {
  it.each(OPERATIONS)('keeps the canonical name %s', (op) => {
    expect(canonicalOperation(op)).toBe(op);
  });

  it.each([
    ['query', 'search'],
    ['Query', 'search'],
    ['query_points', 'search'],
    ['Query Points', 'search'],
    ['search.points', 'search'],
    ['similarity-search', 'search'],
    ['  knn  ', 'search'],
    ['get', 'fetch'],
    ['retrieve', 'fetch'],
    ['list', 'scroll'],
    ['query_iterator', 'scroll'],
    ['insert', 'upsert'],
    ['ADD', 'upsert'],
    ['remove', 'delete'],
    ['delete-points', 'delete'],
    ['create-collection', 'create_collection'],
    ['Create Index', 'create_collection'],
    ['drop', 'drop_collection'],
    ['delete_collection', 'drop_collection'],
    ['DeleteIndex', 'other'],
    ['login', 'auth'],
    ['authenticate', 'auth'],
  ])('maps %j to %s', (raw, op) => {
    expect(canonicalOperation(raw)).toBe(op);
  });

  it.each(['', '   ', 'frobnicate', 'search_and_destroy', 'select *'])(
    'maps the unknown %j to other',
    (raw) => {
      expect(canonicalOperation(raw)).toBe('other');
    },
  );

  // Names of Object.prototype members must not resolve through the alias table's prototype.
  it.each(['constructor', '__proto__', 'Constructor'])(
    'maps the prototype member name %j to other',
    (raw) => {
      expect(canonicalOperation(raw)).toBe('other');
    },
  );

  it('always returns one of the canonical operations', () => {
    const protoNames = Object.getOwnPropertyNames(Object.prototype);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom(...protoNames)), (raw) => {
        expect(OPERATIONS).toContain(canonicalOperation(raw));
      }),
    );
  });
});
