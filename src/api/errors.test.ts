import { describe, expect, it } from 'vitest';

import { localeFromAcceptLanguage } from './errors.js';

describe('localeFromAcceptLanguage', () => {
  it.each([
    [undefined, 'zh-CN'],
    ['', 'zh-CN'],
    ['en', 'en'],
    ['en-US,en;q=0.9', 'en'],
    ['zh-CN,zh;q=0.9,en;q=0.8', 'zh-CN'],
    ['en;q=0.1, zh;q=0.9', 'zh-CN'],
    ['zh-CN;q=0.5, en;q=0.6', 'en'],
    ['fr, en;q=0.5', 'en'],
    ['en;q=0, zh;q=0.1', 'zh-CN'],
    ['en;q=abc', 'zh-CN'],
    ['english', 'zh-CN'],
  ])('%j picks %s', (header, locale) => {
    expect(localeFromAcceptLanguage(header)).toBe(locale);
  });
});
