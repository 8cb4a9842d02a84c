"""The transformation network of `picasso` (default architecture, random weights) in
onnxruntime, timed like `picasso bench` (one warm-up, then min/median/max of --repeats runs),
and one table against `picasso bench --json`'s figures and PyTorch's (Scripts/bench_torch.py,
as it comes and with malloc tuned: the faster of the two per row). Run by Scripts/bench-peers."""
import argparse
import json
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper


def transformer(widths=(32, 64, 128), blocks=5, seed=0):
    """pytorch/examples' TransformerNet as an ONNX graph: reflection-padded convs, instance
    norm, ReLU, residual blocks, nearest-neighbour ×2 upsampling."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    count = [0]

    def name(prefix):
        count[0] += 1
        return f"{prefix}{count[0]}"

    def const(array, prefix):
        n = name(prefix)
        inits.append(numpy_helper.from_array(array, n))
        return n

    def conv(x, cin, cout, k, stride=1):
        bound = 1 / np.sqrt(cin * k * k)
        w = const(rng.uniform(-bound, bound, (cout, cin, k, k)).astype(np.float32), "w")
        b = const(rng.uniform(-bound, bound, (cout,)).astype(np.float32), "b")
        p = k // 2
        pads = const(np.array([0, 0, p, p, 0, 0, p, p], dtype=np.int64), "pads")
        padded = name("pad")
        nodes.append(helper.make_node("Pad", [x, pads], [padded], mode="reflect"))
        y = name("conv")
        nodes.append(helper.make_node("Conv", [padded, w, b], [y], kernel_shape=[k, k], strides=[stride, stride]))
        return y

    def norm(x, c, relu=True):
        s = const(np.ones(c, dtype=np.float32), "gamma")
        b = const(np.zeros(c, dtype=np.float32), "beta")
        y = name("in")
        nodes.append(helper.make_node("InstanceNormalization", [x, s, b], [y], epsilon=1e-5))
        if not relu:
            return y
        r = name("relu")
        nodes.append(helper.make_node("Relu", [y], [r]))
        return r

    def up(x):
        scales = const(np.array([1, 1, 2, 2], dtype=np.float32), "scales")
        y = name("up")
        nodes.append(helper.make_node("Resize", [x, "", scales], [y], mode="nearest"))
        return y

    w1, w2, w3 = widths
    x = norm(conv("image", 3, w1, 9), w1)
    x = norm(conv(x, w1, w2, 3, 2), w2)
    x = norm(conv(x, w2, w3, 3, 2), w3)
    for _ in range(blocks):
        h = norm(conv(x, w3, w3, 3), w3)
        h = norm(conv(h, w3, w3, 3), w3, relu=False)
        s = name("add")
        nodes.append(helper.make_node("Add", [x, h], [s]))
        x = s
    x = norm(conv(up(x), w3, w2, 3), w2)
    x = norm(conv(up(x), w2, w1, 3), w1)
    y = conv(x, w1, 3, 9)
    graph = helper.make_graph(
        nodes, "transformer",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, None, None])],
        [helper.make_tensor_value_info(y, TensorProto.FLOAT, [1, 3, None, None])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("ours", help="picasso bench --json output")
    parser.add_argument("--torch", nargs="*", default=[], help="Scripts/bench_torch.py outputs")
    parser.add_argument("--sizes", default="256,512,1024")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    ours = {r["name"]: r for r in json.load(open(args.ours))["results"]}
    ceiling = max((r["gflops"] for name, r in ours.items() if name.startswith("sgemm")), default=float("nan"))
    torch_runs = [json.load(open(path)) for path in args.torch]
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(transformer().SerializeToString(), options, providers=["CPUExecutionProvider"])
    onnx_times = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        x = np.random.default_rng(1).random((1, 3, size, size), dtype=np.float32)
        session.run(None, {"image": x})
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            session.run(None, {"image": x})
            times.append(time.perf_counter() - start)
        onnx_times[f"transformer forward 1×3×{size}×{size}"] = min(times)

    versions = [f"onnxruntime {ort.__version__}"] + [f"torch {t['torch']}" for t in torch_runs[:1]]
    print(f"{', '.join(versions)}, numpy {np.__version__}, {args.threads} threads; "
          f"sgemm ceiling in picasso's run {ceiling:.1f} GFLOP/s; min of {args.repeats} runs")
    print()
    print("| work | picasso s | PyTorch s | PyTorch malloc tuned s | onnxruntime s | best peer / picasso |")
    print("|---|---|---|---|---|---|")
    works = [f"transformer forward 1×3×{s}×{s}" for s in args.sizes.split(",")]
    works += ["training step 4×3×256×256", "gatys evaluation 512×512"]

    def cell(x):
        return f"{x:.3f}" if x is not None else "–"

    for work in works:
        mine = ours.get(work, {}).get("seconds_min")
        torch_times = [t["results"].get(work, {}).get("seconds_min") for t in torch_runs]
        torch_times += [None] * (2 - len(torch_times))
        peers = [t for t in torch_times + [onnx_times.get(work)] if t is not None]
        ratio = f"{min(peers) / mine:.2f}×" if mine and peers else "–"
        print(f"| {work} | {cell(mine)} | {cell(torch_times[0])} | {cell(torch_times[1])} | "
              f"{cell(onnx_times.get(work))} | {ratio} |")


if __name__ == "__main__":
    main()
