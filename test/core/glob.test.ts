import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileGlob, GlobIndex, globsOverlap, parseJsonPath, formatJsonPath } from '../../core';
import { mulberry32 } from './helpers';

test('a glob * matches any run of characters, nothing else is special', () => {
  const glob = compileGlob('fluentcrm_list_*');
  assert.equal(glob.matches('fluentcrm_list_contacts'), true);
  assert.equal(glob.matches('fluentcrm_list_'), true);
  assert.equal(glob.matches('fluentcrm_lis_contacts'), false);
  assert.equal(compileGlob('*_delete_*').matches('fluentcrm_delete_contact'), true);
  assert.equal(compileGlob('*_delete_*').matches('fluentcrm_deletecontact'), false);
  assert.equal(compileGlob('a*b*c').matches('abc'), true);
  assert.equal(compileGlob('a*b*c').matches('acb'), false);
  assert.equal(compileGlob('a*a').matches('a'), false, 'literals may not overlap');
  assert.equal(compileGlob('tool?').matches('tool1'), false, '? is a literal');
  assert.equal(compileGlob('*').literalCount, 0);
  assert.equal(compileGlob('fluentcrm_*').literalCount, 10);
});

test('names are compared byte for byte: no case folding, trimming or normalisation', () => {
  const exact = compileGlob('fluentcrm_resume_campaign');
  assert.equal(exact.matches('fluentcrm_resume_campaign'), true);
  assert.equal(exact.matches('Fluentcrm_resume_campaign'), false);
  assert.equal(exact.matches('fluentcrm_resume_campaign '), false);
  // "é" precomposed vs "e" + combining accent
  assert.equal(compileGlob('caf\u00e9').matches('cafe\u0301'), false);
  assert.equal(compileGlob('caf*').matches('cafe\u0301'), true);
});

test('globsOverlap tells whether some name matches both globs', () => {
  assert.equal(globsOverlap('a_*', '*_b'), true);
  assert.equal(globsOverlap('x_*', 'y_*'), false);
  assert.equal(globsOverlap('*_list', '*_get'), false);
  assert.equal(globsOverlap('*a*', '*b*'), true);
  assert.equal(globsOverlap('abc', 'a*c'), true);
  assert.equal(globsOverlap('abc', 'a*d'), false);
});

test('rule paths round-trip, quoting keys that need it', () => {
  const paths: Array<Array<string | number>> = [
    ['tools', 'fluentcrm_list_*'],
    ['servers', 'fs', 'tools', 'write_file'],
    ['all_tools', 'limits', 0],
    ['tools', 'a.b c', 'limits', 2],
    ['tools', 'we"ird]'],
  ];
  for (const path of paths) assert.deepEqual(parseJsonPath(formatJsonPath(path)), path);
  assert.equal(formatJsonPath(['all_tools', 'limits', 0]), 'all_tools.limits[0]');
  assert.equal(formatJsonPath(['servers', 'fs', 'tools', 'write_file']), 'servers.fs.tools.write_file');
});

test('the glob index finds exactly the globs a full scan finds', () => {
  const random = mulberry32(99);
  const alphabet = 'ab_*';
  const word = (length: number, withStar: boolean): string =>
    Array.from({ length }, () => alphabet[Math.floor(random() * (withStar ? 4 : 3))]).join('');
  const patterns = Array.from({ length: 300 }, () => word(1 + Math.floor(random() * 6), true));
  const index = new GlobIndex<string>();
  for (const pattern of patterns) index.add(compileGlob(pattern), pattern);
  for (let trial = 0; trial < 2000; trial++) {
    const name = word(Math.floor(random() * 8), false);
    const expected = patterns.filter((pattern) => compileGlob(pattern).matches(name)).sort();
    assert.deepEqual([...index.matching(name)].sort(), expected, name);
  }
});
