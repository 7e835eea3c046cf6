"""Time conv2d (3×3 kernel) on 8×8, 16×16 and 28×28 images, forward and backward, in one run.

    python3 benchmarks/conv2d.py

Images of random small integers (seeded). Prints the seconds of the full solution (every step,
exact and float) and of its text rendering; nothing is asserted.
"""

from __future__ import annotations

import random
import time

import symderiv


def main() -> None:
    rnd = random.Random(0)
    kernel = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
    print(f"{'image':>7} {'outputs':>8} {'solve s':>8} {'text s':>7} {'total s':>8}")
    for n in (8, 16, 28):
        image = [[rnd.randint(0, 9) for _ in range(n)] for _ in range(n)]
        t0 = time.perf_counter()
        sol = symderiv.solve("conv2d", image=image, kernel=kernel)
        t1 = time.perf_counter()
        sol.to_text()
        t2 = time.perf_counter()
        print(f"{n:>4}x{n:<2} {(n - 2) ** 2:>8} {t1 - t0:8.2f} {t2 - t1:7.2f} {t2 - t0:8.2f}")


if __name__ == "__main__":
    main()
