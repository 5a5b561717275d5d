// Tests scripts/sources.js, which turns native/sources.txt into binding.gyp's source list.
import { describe, expect, it } from 'vitest';

// The script is plain CommonJS; vitest gives test files a `require` resolved from this file.
const { parseSources } = require('../scripts/sources.js');

describe('sources.js', () => {
  it('skips comments and blank lines and sets .cu files apart', () => {
    const text = '# the addon\n\nnative/addon.cc\n  native/tensor.cc  \r\n# native/old.cc\nnative/fused.cu\n';
    expect(parseSources(text)).toEqual({ cxx: ['native/addon.cc', 'native/tensor.cc'], cuda: ['native/fused.cu'] });
  });
});
