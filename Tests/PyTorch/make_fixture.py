"""Makes the PyTorch fixtures of the import tests (committed beside this script):

  transformer_net.pth         pytorch/examples' fast_neural_style TransformerNet (32-64-128,
                              5 residual blocks), fixed random weights, torch.save's zip format;
  transformer_small.pth, transformer_small_legacy.pth
                              the same network at widths 8-16-32 with 2 blocks, other random
                              weights, in the zip format and in torch.save's legacy format (as
                              the 2017 pretrained models); small enough to seed the fuzzer;
  input.png                   a 96x72 test picture drawn here (gradients, discs, stripes);
  output_net.f32, output_small.f32
                              each network's output for input.png, float32 [3, 72, 96] in
                              0-255 units, unclamped (the network's own range).

The network is written out as pytorch/examples defines it (ConvLayer = reflection pad + conv,
ResidualBlock, UpsampleConvLayer = nearest x2 + reflection pad + conv, InstanceNorm2d affine),
so the state dict keys are theirs: conv1.conv2d.weight, in1.weight, res1.conv1.conv2d.weight,
deconv1.conv2d.weight, ... Its input is RGB in 0-255, as in their neural_style.py.

Weights: PyTorch's default init, then each instance norm's scale drawn from U(0.5, 1.5) and
shift from N(0, 0.2), and the last conv scaled so the output spans about 0-255 (default init
gives outputs within a few units of 0, which would test little).

Usage (needs torch, numpy and pillow): python Tests/PyTorch/make_fixture.py
"""
import os

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


class ConvLayer(torch.nn.Module):
    def __init__(self, cin, cout, kernel, stride):
        super().__init__()
        self.reflection_pad = torch.nn.ReflectionPad2d(kernel // 2)
        self.conv2d = torch.nn.Conv2d(cin, cout, kernel, stride)

    def forward(self, x):
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = ConvLayer(c, c, 3, 1)
        self.in1 = torch.nn.InstanceNorm2d(c, affine=True)
        self.conv2 = ConvLayer(c, c, 3, 1)
        self.in2 = torch.nn.InstanceNorm2d(c, affine=True)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        out = self.relu(self.in1(self.conv1(x)))
        return self.in2(self.conv2(out)) + x


class UpsampleConvLayer(torch.nn.Module):
    def __init__(self, cin, cout, kernel, stride, upsample=None):
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = torch.nn.ReflectionPad2d(kernel // 2)
        self.conv2d = torch.nn.Conv2d(cin, cout, kernel, stride)

    def forward(self, x):
        if self.upsample:
            x = torch.nn.functional.interpolate(x, mode="nearest", scale_factor=self.upsample)
        return self.conv2d(self.reflection_pad(x))


class TransformerNet(torch.nn.Module):
    def __init__(self, w=(32, 64, 128), blocks=5):
        super().__init__()
        self.conv1 = ConvLayer(3, w[0], 9, 1)
        self.in1 = torch.nn.InstanceNorm2d(w[0], affine=True)
        self.conv2 = ConvLayer(w[0], w[1], 3, 2)
        self.in2 = torch.nn.InstanceNorm2d(w[1], affine=True)
        self.conv3 = ConvLayer(w[1], w[2], 3, 2)
        self.in3 = torch.nn.InstanceNorm2d(w[2], affine=True)
        for b in range(blocks):
            setattr(self, f"res{b + 1}", ResidualBlock(w[2]))
        self.blocks = blocks
        self.deconv1 = UpsampleConvLayer(w[2], w[1], 3, 1, upsample=2)
        self.in4 = torch.nn.InstanceNorm2d(w[1], affine=True)
        self.deconv2 = UpsampleConvLayer(w[1], w[0], 3, 1, upsample=2)
        self.in5 = torch.nn.InstanceNorm2d(w[0], affine=True)
        self.deconv3 = ConvLayer(w[0], 3, 9, 1)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        y = self.relu(self.in1(self.conv1(x)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        for b in range(self.blocks):
            y = getattr(self, f"res{b + 1}")(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


def randomize(net, seed):
    torch.manual_seed(seed)
    for module in net.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.reset_parameters()
        if isinstance(module, torch.nn.InstanceNorm2d):
            with torch.no_grad():
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.2)
    with torch.no_grad():
        net.deconv3.conv2d.weight.mul_(60)
        net.deconv3.conv2d.bias.add_(128)


def picture(width=96, height=72):
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 255 * x / (width - 1)
    g = 255 * y / (height - 1)
    b = 127.5 + 127.5 * np.sin(x / 5.0) * np.cos(y / 7.0)
    for cx, cy, rad, colour in [(25, 30, 14, (240, 40, 30)), (70, 45, 18, (20, 60, 220)), (50, 12, 8, (250, 250, 250))]:
        disc = (x - cx) ** 2 + (y - cy) ** 2 < rad ** 2
        r, g, b = [np.where(disc, c, ch) for c, ch in zip(colour, (r, g, b))]
    return np.clip(np.stack([r, g, b], axis=-1).round(), 0, 255).astype(np.uint8)


def main():
    torch.set_num_threads(1)
    image = picture()
    Image.fromarray(image).save(os.path.join(HERE, "input.png"))
    x = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1).unsqueeze(0)  # 0-255, as neural_style.py
    for name, widths, blocks, seed in [("net", (32, 64, 128), 5, 1), ("small", (8, 16, 32), 2, 2)]:
        net = TransformerNet(widths, blocks)
        randomize(net, seed)
        net.eval()
        with torch.no_grad():
            y = net(x)[0].numpy().astype(np.float32)
        y.tofile(os.path.join(HERE, f"output_{name}.f32"))
        formats = [("", True)] + ([("_legacy", False)] if name == "small" else [])
        for suffix, zip_format in formats:
            path = os.path.join(HERE, f"transformer_{name}{suffix}.pth")
            torch.save(net.state_dict(), path, _use_new_zipfile_serialization=zip_format)
            print(f"{path}: {os.path.getsize(path)} bytes; output {y.shape}, range {y.min():.1f}..{y.max():.1f}, torch {torch.__version__}")


if __name__ == "__main__":
    main()
