# PyTorch reference for bench/ic-gpu.js: BatchNorm2d + Dropout(0.1) forward + backward on (128, 64, 32, 32).
import json, os, time, torch
iters = int(os.environ.get("BENCH_ITERS", "200"))
for dtype_name, dtype in [("float32", torch.float32), ("bfloat16", torch.bfloat16)]:
    for fmt in ["contiguous", "channelsLast"]:
        mf = torch.channels_last if fmt == "channelsLast" else torch.contiguous_format
        C = 64
        x = torch.randn(128, C, 32, 32, device="cuda", dtype=dtype).contiguous(memory_format=mf).requires_grad_()
        bn = torch.nn.BatchNorm2d(C).cuda()
        drop = torch.nn.Dropout(0.1)
        g = torch.randn(128, C, 32, 32, device="cuda", dtype=dtype).contiguous(memory_format=mf)
        def step():
            with torch.autocast("cuda", dtype=dtype, enabled=dtype != torch.float32):
                y = drop(bn(x))
            y.backward(g)
        for _ in range(10): step()
        torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        t0 = time.perf_counter()
        for _ in range(iters): step()
        torch.cuda.synchronize()
        ms = (time.perf_counter() - t0) * 1000 / iters
        print(json.dumps({"bench": "ic-gpu", "framework": "pytorch", "dtype": dtype_name, "format": fmt, "impl": "BatchNorm2d+Dropout",
                          "msPerIter": round(ms, 4), "peakExtraBytes": torch.cuda.max_memory_allocated() - base}))
