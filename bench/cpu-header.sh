# bench/cpu-header.sh: sourced by the paired CPU benchmarks (cpu-memory.sh, ddp-cpu.sh) for what they check
# first and the machine lines they print before their settings.

# Stops unless dist/ is built and $PYTHON imports torch.
bench_require() {
  [ -f dist/index.js ] || { echo "dist/ is missing: run npx tsc -p . first" >&2; exit 1; }
  "$PYTHON" -c 'import torch' 2>/dev/null || { echo "$PYTHON cannot import torch (install Debian's python3-torch)" >&2; exit 1; }
}

# CPU, date, addon and Python lines.
bench_header() {
  echo "CPU:      $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(nproc) cores available"
  echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "addon:    sha256 $(sha256sum build/Release/ictorch.node | cut -c1-12); node $(node --version); LibTorch $(node -p "require('./dist').info().torchVersion")"
  echo "python:   $("$PYTHON" -c 'import platform, torch; print(f"Python {platform.python_version()}, torch {torch.__version__}")')"
}
