"""How long from_torch takes: the 2-2-2 sigmoid network and the CNN of issue 18
(Conv2d(1, 2, 3, padding=1) → ReLU → MaxPool2d(2) → Flatten → Linear(18, 2) → CrossEntropyLoss on
a 6×6 image), traced, solved, checked against autograd, and printed as text.

    python3 benchmarks/from_torch.py
"""

import time

import torch
from torch import nn

import symderiv


def measure(label, model, x, loss, target):
    start = time.perf_counter()
    sol = symderiv.from_torch(model, x, loss=loss, target=target)
    solved = time.perf_counter()
    text = sol.to_text()
    printed = time.perf_counter()
    print(f"{label}: from_torch {solved - start:.2f} s (trace, build, backward, autograd check), "
          f"to_text {printed - solved:.2f} s, {len(text.splitlines())} lines")


def main():
    torch.manual_seed(0)
    symderiv.from_torch(nn.Linear(1, 1), torch.ones(1), loss=nn.MSELoss(), target=torch.ones(1))  # warm up torch.fx
    net = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid())
    measure("2-2-2 sigmoid network", net, torch.tensor([0.05, 0.10]), nn.MSELoss(reduction="sum"),
            torch.tensor([0.01, 0.99]))
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 2))
    measure("CNN on a 6x6 image", cnn, torch.randn(1, 1, 6, 6), nn.CrossEntropyLoss(), torch.tensor([1]))


if __name__ == "__main__":
    main()
