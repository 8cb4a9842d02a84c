"""For each WORK/NAME.onnx: onnx.checker, then onnxruntime on each photo against picasso
stylize's output WORK/NAME/PHOTO.png; exits 1 if any pixel differs by more than one 8-bit
level. Usage: check_onnx.py WORK PHOTO..."""
import glob
import os
import sys

import numpy as np
import onnx
import onnxruntime
from PIL import Image


def main():
    work, photos = sys.argv[1], sys.argv[2:]
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    worst_overall, failed = 0, False
    for path in sorted(glob.glob(os.path.join(work, "*.onnx"))):
        name = os.path.splitext(os.path.basename(path))[0]
        onnx.checker.check_model(onnx.load(path), full_check=True)
        session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        for photo in photos:
            image = np.asarray(Image.open(photo).convert("RGB"))
            x = (image.astype(np.float32) / 255).transpose(2, 0, 1)[None]
            (y,) = session.run(["stylized"], {"image": x})
            ours = np.rint(y[0].transpose(1, 2, 0) * 255).astype(np.int16)
            stylize = os.path.join(work, name, os.path.splitext(os.path.basename(photo))[0] + ".png")
            theirs = np.asarray(Image.open(stylize).convert("RGB")).astype(np.int16)
            if ours.shape != theirs.shape:
                print(f"{name} on {os.path.basename(photo)}: onnxruntime gives {ours.shape}, picasso stylize {theirs.shape}")
                failed = True
                continue
            diff = np.abs(ours - theirs)
            worst = int(diff.max())
            worst_overall = max(worst_overall, worst)
            status = "ok" if worst <= 1 else "FAILED"
            print(f"{name} on {os.path.basename(photo)} ({image.shape[1]}x{image.shape[0]}): largest difference {worst}/255, "
                  f"{(diff > 0).mean() * 100:.2f} % of values differ  {status}")
            failed |= worst > 1
    print(f"onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}: largest difference {worst_overall}/255 over all models and photos")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
