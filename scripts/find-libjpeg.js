#!/usr/bin/env node
'use strict';
// find-libjpeg.js: tells binding.gyp whether libjpeg's headers are installed (CMakeLists.txt uses
// find_package(JPEG) instead). Prints, for `<!@(node scripts/find-libjpeg.js --gyp-...)`:
//   --gyp-defines       ICTORCH_WITH_JPEG=1, or nothing
//   --gyp-include-dirs  the folder of jpeglib.h when it is not a default one, or nothing
//   --gyp-libraries     -ljpeg (with -L<dir> for a non-default prefix), or nothing
// Without libjpeg the addon builds anyway and JPEGs are decoded with sharp. Only Node built-ins are used.
const fs = require('fs');
const path = require('path');

const DEFAULT = ['/usr/include'];
const CANDIDATES = [...(process.env.JPEG_INCLUDE_DIR ? [process.env.JPEG_INCLUDE_DIR] : []), '/usr/include', '/usr/local/include', '/opt/homebrew/opt/jpeg-turbo/include', '/opt/homebrew/include'];

function findHeaderDir() {
  return CANDIDATES.find((d) => fs.existsSync(path.join(d, 'jpeglib.h')));
}

if (require.main === module) {
  const dir = findHeaderDir();
  const arg = process.argv[2];
  let out = '';
  if (dir && arg === '--gyp-defines') out = 'ICTORCH_WITH_JPEG=1';
  else if (dir && arg === '--gyp-include-dirs' && !DEFAULT.includes(dir)) out = dir;
  else if (dir && arg === '--gyp-libraries') out = DEFAULT.includes(dir) ? '-ljpeg' : `-L${path.join(path.dirname(dir), 'lib')} -ljpeg`;
  process.stdout.write(out + '\n');
}

module.exports = { findHeaderDir };
