"""The same work as `picasso bench` in PyTorch on the CPU: the transformation network's forward
pass (default architecture, random weights), one training step (batch 4 at 256: network
forward and backward through VGG19's losses, content relu2_2, style relu1_2, relu2_2, relu3_3,
relu4_3, Adam) and one Gatys evaluation (VGG19 to relu5_1 forward and backward to the image,
content relu4_2, style relu1_1 … relu5_1). Random weights: the time does not depend on them.
Timed like `picasso bench` (one warm-up, then min/median/max of --repeats runs); prints one
JSON object. Run by Scripts/bench-peers, once as it comes and once with glibc's malloc tuned."""
import argparse
import json
import time

import torch
from torch import nn


class TransformerNet(nn.Module):
    """pytorch/examples' fast_neural_style network, picasso's default architecture."""

    def __init__(self, widths=(32, 64, 128), blocks=5):
        super().__init__()
        w1, w2, w3 = widths

        def conv(cin, cout, k, stride=1):
            return nn.Sequential(nn.ReflectionPad2d(k // 2), nn.Conv2d(cin, cout, k, stride))

        def block(cin, cout, k, stride=1, relu=True):
            layers = [conv(cin, cout, k, stride), nn.InstanceNorm2d(cout, affine=True)]
            return nn.Sequential(*layers, nn.ReLU()) if relu else nn.Sequential(*layers)

        self.down = nn.Sequential(block(3, w1, 9), block(w1, w2, 3, 2), block(w2, w3, 3, 2))
        self.res = nn.ModuleList(
            nn.Sequential(block(w3, w3, 3), block(w3, w3, 3, relu=False)) for _ in range(blocks))
        self.up = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), block(w3, w2, 3),
            nn.Upsample(scale_factor=2, mode="nearest"), block(w2, w1, 3), conv(w1, 3, 9))

    def forward(self, x):
        x = self.down(x)
        for r in self.res:
            x = x + r(x)
        return self.up(x) / 255


VGG19 = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512]
NAMES = ["relu1_1", "relu1_2", "pool1", "relu2_1", "relu2_2", "pool2", "relu3_1", "relu3_2", "relu3_3",
         "relu3_4", "pool3", "relu4_1", "relu4_2", "relu4_3", "relu4_4", "pool4", "relu5_1"]


class VGG(nn.Module):
    """VGG19's convolutions to the deepest requested layer, returning the requested ReLUs."""

    def __init__(self, taps):
        super().__init__()
        last = max(NAMES.index(t) for t in taps)
        self.taps = set(taps)
        layers, cin = [], 3
        for spec, label in zip(VGG19, NAMES[:last + 1]):
            if spec == "M":
                layers.append((label, nn.MaxPool2d(2)))
            else:
                layers.append((label, nn.Sequential(nn.Conv2d(cin, spec, 3, padding=1), nn.ReLU(inplace=True))))
                cin = spec
        self.layers = nn.ModuleList(m for _, m in layers)
        self.labels = [label for label, _ in layers]
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x, taps=None):
        """The requested ReLUs (default: all taps), stopping after the deepest."""
        taps = self.taps if taps is None else set(taps)
        out = {}
        for label, layer in zip(self.labels, self.layers):
            x = layer(x)
            if label in taps:
                out[label] = x
                if len(out) == len(taps):
                    break
        return out


def gram(f):
    n, c, h, w = f.shape
    f = f.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def timed(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return {"seconds_min": times[0], "seconds_median": times[len(times) // 2], "seconds_max": times[-1]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="256,512,1024")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    results = {}

    net = TransformerNet().eval()
    for size in [int(s) for s in args.sizes.split(",")]:
        x = torch.rand(1, 3, size, size)
        with torch.inference_mode():
            results[f"transformer forward 1×3×{size}×{size}"] = timed(lambda: net(x), args.repeats)

    # One training step, as picasso's trainer does it.
    content_layers, style_layers = ["relu2_2"], ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]
    vgg = VGG(content_layers + style_layers)
    net = TransformerNet().train()
    adam = torch.optim.Adam(net.parameters(), lr=1e-3)
    mean = torch.tensor([123.68, 116.779, 103.939]).view(1, 3, 1, 1)

    def features(img, taps=None):
        return vgg(img * 255 - mean, taps)

    with torch.no_grad():
        style_targets = {k: gram(v) for k, v in features(torch.rand(1, 3, 256, 256)).items() if k in style_layers}
    batch = torch.rand(4, 3, 256, 256)

    def step():
        adam.zero_grad(set_to_none=False)
        with torch.no_grad():
            target = features(batch, content_layers)  # as picasso: VGG to relu2_2 only
        y = net(batch)
        f = features(y)
        content = sum(nn.functional.mse_loss(f[k], target[k]) for k in content_layers)
        style = sum(nn.functional.mse_loss(gram(f[k]), style_targets[k].expand(4, -1, -1)) for k in style_layers)
        tv = ((y[:, :, 1:, :] - y[:, :, :-1, :]) ** 2).sum() + ((y[:, :, :, 1:] - y[:, :, :, :-1]) ** 2).sum()
        (content + 5 * style + tv).backward()
        adam.step()

    results["training step 4×3×256×256"] = timed(step, args.repeats)

    # One Gatys evaluation at 512: loss and gradient with respect to the image.
    style_layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
    vgg = VGG(["relu4_2"] + style_layers)
    with torch.no_grad():
        img = torch.rand(1, 3, 512, 512)
        target = vgg(img * 255 - mean)["relu4_2"]
        style_targets = {k: gram(v) for k, v in vgg(torch.rand(1, 3, 512, 512) * 255 - mean).items() if k in style_layers}
    x = img.clone().requires_grad_(True)

    def evaluation():
        x.grad = None
        f = vgg(x * 255 - mean)
        loss = nn.functional.mse_loss(f["relu4_2"], target)
        loss = loss + 200 * sum(nn.functional.mse_loss(gram(f[k]), style_targets[k]) for k in style_layers)
        loss.backward()

    results["gatys evaluation 512×512"] = timed(evaluation, args.repeats)
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "results": results}))


if __name__ == "__main__":
    main()
