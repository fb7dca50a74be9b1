"""Text and image views of a profile against its users, with no plotting dependency."""

from __future__ import annotations

import numbers

import numpy as np

USER_COLOUR = (31, 119, 180)  # matplotlib's C0 blue
PRODUCER_COLOUR = (255, 127, 14)  # C1 orange


def ansi_table(user_dist, producer_dist, counts, step: int = 0) -> str:
    """One row per feature: user mass share, producer share, producer count."""
    lines = [
        f"step {step}",
        f"{'feature':>7}  {'users':>7}  {'producers':>9}  {'count':>5}",
    ]
    for j, (u, p, c) in enumerate(zip(user_dist, producer_dist, counts, strict=True)):
        bar_u = "#" * round(20 * u)
        bar_p = "*" * round(20 * p)
        lines.append(f"{j:>7}  {u:7.3f}  {p:9.3f}  {int(c):>5}  {bar_u}|{bar_p}")
    return "\n".join(lines) + "\n"


def bar_chart(user_dist, producer_dist, height: int = 240, bar: int = 12) -> np.ndarray:
    """(height, width, 3) uint8 image: per feature a blue user bar beside an orange producer bar."""
    user_dist = np.asarray(user_dist, dtype=float)
    producer_dist = np.asarray(producer_dist, dtype=float)
    dim = user_dist.size
    gap, margin = bar, 10
    width = 2 * margin + dim * (2 * bar + gap)
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    top = max(float(user_dist.max()), float(producer_dist.max()), 1e-12)
    base = height - margin
    scale = (height - 2 * margin) / top
    for j in range(dim):
        left = margin + j * (2 * bar + gap)
        for offset, value, colour in (
            (0, user_dist[j], USER_COLOUR),
            (bar, producer_dist[j], PRODUCER_COLOUR),
        ):
            h = round(value * scale)
            if h:
                image[base - h : base, left + offset : left + offset + bar] = colour
    image[base, margin : width - margin] = 0  # axis line
    return image


def save_gif(frames, path, fps: float = 4.0, scale: int = 2, hold: int = 6) -> None:
    """Write ``rgb_array`` frames as an animated GIF (looping; the last frame held ``hold``
    frames longer). Needs Pillow (a matplotlib dependency, so the ``experiments`` extra)."""
    from PIL import Image

    frames = [np.asarray(f) for f in frames]
    if not frames:
        raise ValueError("frames is empty: nothing to animate")
    shapes = {f.shape for f in frames}
    if len(shapes) != 1 or frames[0].ndim != 3 or frames[0].shape[2] != 3:
        raise ValueError(f"frames must be (height, width, 3) images of one shape, got {shapes}")
    if any(f.dtype != np.uint8 for f in frames):
        raise ValueError("frames must be uint8 images (render_mode='rgb_array')")
    for name, value in (("fps", fps), ("scale", scale), ("hold", hold)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    if int(scale) != scale or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    if int(hold) != hold or hold < 0:
        raise ValueError(f"hold must be a non-negative integer, got {hold!r}")
    scale, hold = int(scale), int(hold)
    images = [
        Image.fromarray(f).resize((f.shape[1] * scale, f.shape[0] * scale), Image.NEAREST)
        for f in frames
    ]
    images += [images[-1]] * hold
    images[0].save(
        path,
        save_all=True,
        append_images=images[1:],
        duration=int(1000 / fps),
        loop=0,
        optimize=True,
    )
