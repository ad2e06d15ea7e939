"""Command line: ``python -m vdsr upscale|evaluate ...``; a thin shell over the library."""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import math
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from vdsr.animation import check_animation_output, frame_count
from vdsr.checkpoint import CheckpointError
from vdsr.data import data_dir, load_set
from vdsr.degrade import parse_spec
from vdsr.engine import Engine, EngineUnavailableError, describe_engine
from vdsr.ensemble import SelfEnsemble
from vdsr.evaluate import PAPER_SET5, Lanczos, Method, evaluate, format_degradation_table, format_table
from vdsr.files import same_file
from vdsr.folders import upscale_folder, upscale_image_file
from vdsr.imageio import ImageReadError, ImageWriteError, check_output, read_image
from vdsr.input_kind import InputKind, input_kind
from vdsr.pipeline import NETWORK_MIN_SCALE, InputError, Upscaler
from vdsr.video import OUTPUT_SUFFIXES, VIDEO_SUFFIXES, VideoError  # plain Python: PyAV loads only for video
from vdsr.video.errors import RAY_MISSING
from vdsr.video.formats import DEFAULT_PRESET, DEINTERLACE_MODES
from vdsr.weights import pick_model, resolve_model

__all__ = ["main"]

log = logging.getLogger("vdsr")

# Errors a user can cause; reported as one line, never a traceback.
USER_ERRORS = (
    CheckpointError,
    EngineUnavailableError,
    ImageReadError,
    ImageWriteError,
    InputError,
    VideoError,
    FileNotFoundError,
    KeyError,
    ValueError,
)


def _load_upscaler(model: str | None, engine: str, *, tile: int | None = None, ensemble: bool = False) -> Upscaler:
    from engines import load_upscaler  # the shell wires the backends in; the core never imports them

    return load_upscaler(model, engine, tile=tile, ensemble=ensemble)


def _model_for(args: argparse.Namespace, kind: InputKind) -> str:
    """``--model``, else the model that suits the input, saying which and why (and, below x2, why the
    run takes the time of x2)."""
    model = args.model
    if model is None:
        model, reason = pick_model(kind)
        log.info("model %s: %s (--model chooses another)", model, reason)
    if args.scale < NETWORK_MIN_SCALE:
        log.info("x%g: the network learned x2 to x4, so it runs at x2 and its result is resized down", args.scale)
    return model


def _upscaler(args: argparse.Namespace, kind: InputKind) -> Upscaler:
    """The upscaler for this run: the model of :func:`_model_for`, on ``--engine``."""
    return _load_upscaler(_model_for(args, kind), args.engine, tile=args.tile, ensemble=args.ensemble)


def _upscaler_per_image(args: argparse.Namespace) -> Callable[[Path], Upscaler]:
    """For a folder: ``--model``, or for each image the model that suits it (a phone's folder mixes
    JPEG photos with PNG screenshots). Each model is loaded once, when an image first needs it."""
    loaded: dict[str, Upscaler] = {}

    def upscaler_for(path: Path) -> Upscaler:
        kind = input_kind(path)
        name = args.model or pick_model(kind)[0]
        if name not in loaded:
            loaded[name] = _upscaler(args, kind)
        return loaded[name]

    return upscaler_for


def _tqdm_progress(bar: tqdm) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback that drives a tqdm bar (rate and ETA included)."""

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return progress


def _video_progress(bar: tqdm) -> Callable[[int, int], None]:
    """Like :func:`_tqdm_progress`, but a resumed job's first count (segments an earlier run finished) is the
    bar's starting point, so the rate and ETA come from this run's frames only."""
    first = True

    def progress(done: int, total: int) -> None:
        nonlocal first
        bar.total = total
        if first:
            first = False
            bar.initial = bar.n = bar.last_print_n = done
            bar.refresh()
            return
        bar.update(done - bar.n)

    return progress


def _model_identity(model: str | None, upscaler: Upscaler, ensemble: bool) -> dict[str, object]:
    """What names the model in a video job's manifest: file name and SHA-256, backend and precision."""
    from vdsr.cache import file_sha256

    path = resolve_model(model)
    engine = upscaler.refine.refine if isinstance(upscaler.refine, SelfEnsemble) else upscaler.refine
    return {
        "model": path.name,
        "sha256": file_sha256(path),
        "engine": describe_engine(engine) if isinstance(engine, Engine) else type(engine).__name__,
        "ensemble": ensemble,
    }


def _scale_number(text: str) -> float:
    """``--scales 2 1.5``: a factor >= 1, kept an int when it is one (so tables and JSON say 2, not 2.0)."""
    value = float(text)
    if not (math.isfinite(value) and value >= 1):
        raise argparse.ArgumentTypeError(f"a scale is a number >= 1, got {text!r}")
    return int(value) if value.is_integer() else value


def _frame_numbers(text: str) -> list[int]:
    """``--frames 10,50``: the frame numbers, or one line saying what the option takes."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--frames takes frame numbers separated by commas, such as 10,50; got {text!r}") from None


def _cuda_devices(text: str) -> tuple[int, ...]:
    """``--devices 0,1``: GPU numbers that exist here, each once."""
    try:
        devices = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"--devices takes GPU numbers separated by commas, such as 0,1; got {text!r}") from None
    if not devices or len(set(devices)) != len(devices) or min(devices) < 0:
        raise ValueError(f"--devices takes distinct GPU numbers separated by commas, such as 0,1; got {text!r}")
    import torch

    count = torch.cuda.device_count()
    if count == 0:
        raise ValueError("--devices: no CUDA GPU is visible here")
    if max(devices) >= count:
        raise ValueError(f"--devices: GPU {max(devices)} does not exist; this machine has {count} (0 to {count - 1})")
    return devices


def _upscale_video(args: argparse.Namespace, src: Path, dst: Path) -> int:
    from vdsr.video import extract_frames, probe_video, upscale_video  # PyAV: only a video input pays for it
    from vdsr.video.request import Trim, check_request

    info = probe_video(src)  # fail on a bad file or request before loading any model
    if args.frames:
        indices = _frame_numbers(args.frames)
        Upscaler(None).check(info.height, info.width, args.scale)
    else:
        check_request(src, dst, args.scale, args.crf, DEFAULT_PRESET, Trim(start=args.start, duration=args.duration))
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    if args.ray is not None and importlib.util.find_spec("ray") is None:
        raise ValueError(RAY_MISSING)
    devices = _cuda_devices(args.devices) if args.devices is not None else ()
    model = _model_for(args, InputKind("video"))
    upscaler = _load_upscaler(model, args.engine, tile=args.tile, ensemble=args.ensemble)
    if args.frames:
        for path in extract_frames(src, indices, upscaler, args.scale, dst, deinterlace=args.deinterlace):
            log.info("wrote %s", path)
        return 0
    with tqdm(desc=src.name, unit="frame", disable=args.quiet, dynamic_ncols=True) as bar:
        result = upscale_video(
            src,
            dst,
            upscaler,
            args.scale,
            crf=args.crf,
            start=args.start,
            duration=args.duration,
            deinterlace=args.deinterlace,
            progress=_video_progress(bar),
            segment_seconds=args.segment,
            restart=args.restart,
            model_identity=_model_identity(model, upscaler, args.ensemble),
            workers=args.workers,
            make_upscaler=partial(_load_upscaler, model, args.engine, tile=args.tile, ensemble=args.ensemble),
            ray=args.ray,
            devices=devices,
        )
    log.info(
        "wrote %s: %d frames, %dx%d, %.1f frames/s",
        result.path,
        result.frames,
        result.width,
        result.height,
        result.frames_per_second,
    )
    return 0


def _animation_to_video(src: Path, dst: Path) -> bool:
    """An animated GIF or PNG asked for as a video: FFmpeg reads both as video, with their timing."""
    return src.suffix.lower() in (".gif", ".png") and dst.suffix.lower() in OUTPUT_SUFFIXES and frame_count(src) > 1


def _cmd_upscale(args: argparse.Namespace) -> int:
    src, dst = Path(args.input), Path(args.output)
    if not src.exists():
        raise FileNotFoundError(f"{src}: no such file or folder")
    if src.is_file() and (src.suffix.lower() in VIDEO_SUFFIXES or _animation_to_video(src, dst)):
        return _upscale_video(args, src, dst)
    if same_file(src, dst):
        raise ValueError(f"{dst}: the output would overwrite the input; choose another name")
    if src.is_file():
        img = read_image(src)  # fail on a bad file or request before loading any model
        out_h, out_w = Upscaler(None).check(img.shape[0], img.shape[1], args.scale)
        frames = frame_count(src)
        if frames == 1:
            check_output(dst, img)
        else:
            check_animation_output(dst, frames, out_h, out_w)
        upscaler = _upscaler(args, input_kind(src))
        with tqdm(desc=src.name, unit="frame", disable=args.quiet or frames == 1, dynamic_ncols=True) as bar:
            upscale_image_file(src, dst, upscaler, args.scale, pixels=img, progress=_tqdm_progress(bar))
        log.info("wrote %s%s", dst, f": {frames} frames" if frames > 1 else "")
        return 0
    Upscaler(None).check(1, 1, args.scale)
    # models load as images first need them: their log lines go above the bar, not into it
    with logging_redirect_tqdm(), tqdm(desc=src.name, unit="img", disable=args.quiet, dynamic_ncols=True) as bar:
        progress = _tqdm_progress(bar)
        result = upscale_folder(
            src, dst, _upscaler_per_image(args), args.scale, recursive=args.recursive, progress=progress
        )
    for reason in result.failed.values():
        log.error("skipped %s", reason)
    if result.videos:
        log.info("left out %s: give each video to upscale on its own", ", ".join(result.videos))
    log.info("wrote %d of %d images to %s", len(result.written), len(result.written) + len(result.failed), dst)
    return 1 if result.failed else 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    specs = [parse_spec(spec) for spec in args.degradation]  # a bad spec fails before any model loads
    set_name = args.images or "Set5"
    images = load_set(set_name, data_dir(args.data_dir))
    label = Path(set_name).name
    methods: dict[str, Method] = {"bicubic": Upscaler(None), "lanczos": Lanczos()}
    for model in args.models:
        path = resolve_model(model)
        name = path.stem if path.stem not in methods else f"{path.parent.name}/{path.stem}"  # two runs' last.*
        methods[name] = _load_upscaler(model, args.engine)
        if args.ensemble:
            methods[f"{name} +x8"] = _load_upscaler(model, args.engine, ensemble=True)
    scores = [score for spec in specs for score in evaluate(methods, images, args.scales, degradation=spec)]
    print(f"{label} ({len(images)} images): PSNR dB / SSIM on Y (BT.601), scale px shaved from each border")  # noqa: T201
    if [s.spec for s in specs] == ["clean"]:
        print(format_table(scores, paper=PAPER_SET5 if label == "Set5" else None))  # noqa: T201
    else:
        for scale in args.scales:
            print(f"\nx{scale}: PSNR dB (gain over bicubic); inputs degraded after the bicubic downscale")  # noqa: T201
            print(format_degradation_table(scores, scale))  # noqa: T201
    if args.json:
        rows = [
            {
                "method": s.method,
                "scale": s.scale,
                "degradation": s.degradation,
                "psnr": s.psnr,
                "ssim": s.ssim,
                "per_image": s.per_image,
            }
            for s in scores
        ]
        Path(args.json).write_text(json.dumps({"set": label, "scores": rows}, indent=2))
    return 0


ENSEMBLE_HELP = "x8 self-ensemble: average the 8 flips/rotations; about +0.1 dB, 8x slower"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m vdsr", description="VDSR super-resolution")
    p.add_argument("-q", "--quiet", action="store_true", help="only errors")
    sub = p.add_subparsers(dest="command", required=True)

    up = sub.add_parser("upscale", help="upscale an image, a folder of images (or frames), or a video")
    up.add_argument("input", help="image file, folder of images, or video file")
    up.add_argument("output", help="output file, or folder when INPUT is a folder or --frames is given")
    up.add_argument(
        "--scale", type=float, required=True, help="factor >= 1, e.g. 2, 3, 4 or 2.5; 1 cleans up at the same size"
    )
    up.add_argument(
        "--model",
        default=None,
        help="shipped name, checkpoint or VDSR .onnx export; vdsr-20-real@0.5 blends in vdsr-20 to keep more "
        "detail (0 to 1). Default: vdsr-20-real for video, JPEG below quality 88, HEIC, AVIF and lossy WebP; "
        "vdsr-20-real@0.75 for JPEG 88-95; vdsr-20 for the rest",
    )
    up.add_argument(
        "--engine",
        default="auto",
        help="auto, torch, onnxruntime, openvino or tensorrt, or a backend:precision pair (openvino:int8)",
    )
    up.add_argument("--tile", type=int, default=None, help="tile size in output pixels (default 1024)")
    up.add_argument("--ensemble", action="store_true", help=ENSEMBLE_HELP)
    up.add_argument(
        "--recursive", action="store_true", help="for a folder: its subfolders too, into the same subfolders of OUTPUT"
    )
    vid = up.add_argument_group("video")
    vid.add_argument("--crf", type=int, default=18, help="H.264 quality, 0 (lossless) to 51 (default 18)")
    vid.add_argument("--start", type=float, default=None, help="seconds to skip")
    vid.add_argument("--duration", type=float, default=None, help="seconds to process")
    vid.add_argument("--frames", default=None, help="e.g. 10,50: write these frames as bicubic|VDSR PNGs instead")
    vid.add_argument(
        "--deinterlace",
        choices=DEINTERLACE_MODES,
        default="auto",
        help="auto (default): deinterlace a video flagged interlaced (DVD, 480i/1080i TV, camcorders); "
        "on: every frame, for interlaced footage without the flag; off: never",
    )
    vid.add_argument(
        "--segment",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="a longer video is upscaled in segments of this length, kept in OUTPUT.parts/ until joined, so an "
        "interrupted run continues where it stopped when run again (default 5; 0: one pass)",
    )
    vid.add_argument("--restart", action="store_true", help="discard an unfinished job for OUTPUT and start again")
    vid.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="upscale N segments at once, in N processes that each build the engine once (default 1; with "
        "--ray, one per node); on a CPU each gets an equal share of the cores (OMP_NUM_THREADS sets it)",
    )
    vid.add_argument(
        "--devices",
        metavar="0,1",
        help="CUDA GPUs for the worker processes, dealt out in turn (default: one worker per GPU listed)",
    )
    vid.add_argument(
        "--ray",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help="send segments to the Ray cluster at ADDRESS (default: RAY_ADDRESS, a cluster started on this "
        "machine, or a new local one); INPUT and OUTPUT's folder must be at the same paths on every node",
    )
    up.set_defaults(run=_cmd_upscale)

    ev = sub.add_parser("evaluate", help="PSNR/SSIM on a benchmark set in the standard protocol")
    ev.add_argument("--models", nargs="*", default=["vdsr-20"], help="model names or checkpoint paths")
    ev.add_argument(
        "--scales",
        type=_scale_number,
        nargs="+",
        default=[2, 3, 4],
        help="factors, e.g. 2 3 4, or free ones such as 1.5 (default: 2 3 4)",
    )
    ev.add_argument(
        "--images",
        help="folder of ground-truth images, or 'holdout' for the held-out video frames (default: <data-dir>/Set5)",
    )
    ev.add_argument(
        "--degradation",
        nargs="+",
        default=["clean"],
        metavar="SPEC",
        help="damage the low-resolution inputs: clean, jpeg:50, h264:23, mpeg2:1500k, noise:5, "
        "blur:1.2+jpeg:60 ... (default clean, the paper's protocol)",
    )
    ev.add_argument("--data-dir", help="datasets root (default $VDSR_DATA_DIR or ../shared/data)")
    ev.add_argument("--engine", default="torch", help="engine to evaluate with (default torch; fp16 on CUDA)")
    ev.add_argument("--json", help="also write the scores to this JSON file")
    ev.add_argument("--ensemble", action="store_true", help="also score each model with the x8 self-ensemble")
    ev.set_defaults(run=_cmd_evaluate)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.ERROR if args.quiet else logging.INFO, format="%(message)s")
    logging.getLogger("onnxruntime").setLevel(logging.WARNING)  # its quantiser's progress lines are not ours
    try:
        return int(args.run(args))
    except USER_ERRORS as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {message}", file=sys.stderr)  # noqa: T201 - the one line a user sees
        return 2
    except OSError as exc:  # the file system refused (permissions, a full disk): still one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)  # noqa: T201
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)  # noqa: T201
        return 130
