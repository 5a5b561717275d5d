#!/usr/bin/env node
'use strict';
// sources.js: prints the addon's C++ sources from native/sources.txt, space-separated, for
// binding.gyp's `<!@(node scripts/sources.js)`.
//
// native/sources.txt lists one path per line, relative to the repository root; blank lines and
// lines starting with # are ignored, and paths ending in .cu are CUDA-only (left out here;
// `--cuda` prints just those instead). Only Node built-ins are used.

const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const LIST = path.join(ROOT, 'native', 'sources.txt');

// Splits the list into { cxx: [...], cuda: [...] }.
function parseSources(text) {
  const cxx = [];
  const cuda = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    (line.endsWith('.cu') ? cuda : cxx).push(line);
  }
  return { cxx, cuda };
}

function readSources(file = LIST) {
  return parseSources(fs.readFileSync(file, 'utf8'));
}

module.exports = { parseSources, readSources };

if (require.main === module) {
  let sources;
  try {
    sources = readSources();
  } catch (err) {
    process.stderr.write(`The source list ${LIST} could not be read: ${err.message}\n`);
    process.exit(1);
  }
  const list = process.argv.includes('--cuda') ? sources.cuda : sources.cxx;
  for (const file of list) {
    if (!fs.existsSync(path.join(ROOT, file))) process.stderr.write(`Warning: ${file}, listed in native/sources.txt, does not exist.\n`);
  }
  process.stdout.write(list.join(' ') + '\n');
}
