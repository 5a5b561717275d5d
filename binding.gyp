# node-gyp build of the same sources as CMakeLists.txt (the list lives in native/sources.txt).
# LibTorch is located by scripts/find-libtorch.js (LIBTORCH, Torch_DIR, python's torch, system install).
# CUDA sources (*.cu) are built by the cmake-js path only. libjpeg (the image decoder's) is found by
# scripts/find-libjpeg.js; Gloo's headers (process groups) by scripts/find-libtorch.js --gyp-defines. Checked by
# scripts/check-gyp.sh in CI.
{
  "targets": [
    {
      "target_name": "ictorch",
      "sources": ["<!@(node scripts/sources.js)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native",
        "<!@(node scripts/find-libtorch.js --gyp-include-dirs)",
        "<!@(node scripts/find-libjpeg.js --gyp-include-dirs)"
      ],
      "libraries": ["<!@(node scripts/find-libtorch.js --gyp-libraries)", "<!@(node scripts/find-libjpeg.js --gyp-libraries)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS", "_GLIBCXX_USE_CXX11_ABI=1", "<!@(node scripts/find-libjpeg.js --gyp-defines)", "<!@(node scripts/find-libtorch.js --gyp-defines)"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
      "cflags_cc": ["<!(node scripts/find-libtorch.js --gyp-cxx-std)", "-fexceptions", "-frtti", "-O3", "-fopenmp-simd", "-Wno-unused-parameter"]
    }
  ]
}
