"""The Video tab's endpoints: thin handlers between the Gradio UI and :mod:`vdsr.video`.

A clip is described at upload with the part that fits the limits at the chosen scale; a frame
preview measures how fast the model runs here, and the plan turns that into an estimated time
for the chosen start and duration. Bad input raises :class:`gradio.Error` with a one-line reason.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from demo.compare import METRIC_HEADERS, compare, damage_kind, damage_label
from demo.errors import request_error, user_error
from demo.inputs import describe_video, file_stem, parse_scale, probe_upload, read_frame, scale_tag, uploaded_video
from demo.state import AppState
from demo.video_job import VideoJob
from demo.video_plan import VideoPlan
from vdsr.imageio import write_image
from vdsr.input_kind import InputKind
from vdsr.pipeline import InputError, Upscaler
from vdsr.video import VideoError, VideoResult, as_displayed
from vdsr.video import upscale_video as video_upscale

__all__ = ["VideoHandlers"]

_FRAME_EVERY_S = 2.0  # how often a running job shows its latest frame
_FIRST_FRAME_POLL_S = 0.2  # until the first frame is shown: it tells at once what the result will look like


@dataclass(frozen=True)
class VideoHandlers:
    """The video endpoints, bound to the app's state (a method per endpoint, so Gradio sees each one's parameters)."""

    state: AppState

    def _plan(
        self, video: str | None, start: float | None, duration: float | None, scale: str, factor: float
    ) -> tuple[str, float, VideoPlan]:
        """(the upload's path, the scale, the plan for that part of it); a bad video or scale is refused."""
        path = uploaded_video(video)
        info = probe_upload(path, self.state.limits)
        value = parse_scale(scale, factor, self.state.limits)
        bicubic = Upscaler(None, limits=self.state.limits.upscale_limits())  # the output size is the model's too
        try:
            out_size = bicubic.check(info.height, info.width, value)
        except InputError as exc:
            raise user_error(f"{exc}.") from None
        return path, value, VideoPlan.make(info, start, duration, out_size)

    def video_info(self, video: str | None, scale: str = "x2", factor: float = 2.5) -> tuple[Any, str, float, float]:
        """Describe an uploaded video, size the frame slider to it, and propose the longest part that fits.

        Args:
            video: the clip (MP4, MOV, MKV, WebM, ...).
            scale: ``x1`` (the same size, cleaned up), ``x2``, ``x3``, ``x4`` or ``free`` (then ``factor`` is
                used), for the part that fits.
            factor: the free scale factor, 1 to 4.

        Returns:
            (an update for the frame slider: maximum = last frame index, value 0; a one-line description;
            the proposed start, 0 s; the proposed duration in seconds: the longest that fits at this scale).
        """
        _, _, plan = self._plan(video, 0.0, None, scale, factor)
        longest = plan.longest(self.state.limits)
        duration = max(math.floor(longest * 100) / 100, 0.01)
        slider = gr.Slider(minimum=0, maximum=max(plan.info.frames - 1, 0), value=0, step=1)
        return slider, describe_video(plan.info), 0.0, duration

    def video_plan(
        self,
        video: str | None,
        start: float = 0.0,
        duration: float | None = None,
        scale: str = "x2",
        factor: float = 2.5,
        model: str | None = None,
        engine: str = "auto",
    ) -> str:
        """The part of the clip to upscale, whether it fits, and the estimated time (no network is run).

        Args:
            video: the clip (MP4, MOV, MKV, WebM, ...).
            start: seconds to skip first.
            duration: seconds to upscale from ``start``; empty for the rest of the clip.
            scale: ``x1`` (the same size, cleaned up), ``x2``, ``x3``, ``x4`` or ``free`` (then ``factor`` is used).
            factor: the free scale factor, 1 to 4.
            model: ``auto`` (the real-world model: video is always compressed) or a model name.
            engine: ``auto`` or a backend that runs here; the estimate is for this pair once it has run here.

        Returns:
            one line of Markdown; empty when no video is loaded.
        """
        if not video:
            return ""
        _, _, plan = self._plan(video, start, duration, scale, factor)
        name = self.state.models.pick(model, InputKind("video")).name
        return plan.describe(self.state.limits, self.state.speeds.pixels_per_second(name, engine or "auto"))

    def preview_frame(
        self,
        video: str | None,
        frame: float = 0,
        mode: str = "upscale",
        scale: str = "x2",
        factor: float = 2.5,
        model: str | None = None,
        engine: str = "auto",
        damage: str = "clean",
    ) -> tuple[tuple[str, str], dict[str, Any], str]:
        """Preview one frame: bicubic vs VDSR.

        In ``upscale`` mode the frame itself is upscaled (and timed, for the video's time estimate);
        in ``compare`` mode it is taken as ground truth (downscaled, damaged by ``damage``, then
        restored) and PSNR/SSIM are measured.

        Args:
            video: the clip (MP4, MOV, MKV, WebM, ...).
            frame: index of the frame, from 0.
            mode: ``upscale`` or ``compare``.
            scale: ``x1`` (the same size, cleaned up), ``x2``, ``x3``, ``x4`` or ``free`` (then ``factor`` is used).
            factor: the free scale factor, 1 to 4.
            model: ``auto`` or a model name.
            engine: ``auto`` or a backend that runs here.
            damage: in compare mode, ``clean``, ``jpeg:90/70/50/30`` or ``h264:18/23/28/33``.

        Returns:
            ((bicubic PNG, VDSR PNG) for the slider, the metrics table (no rows in upscale mode),
            which model ran and why, after what the table was computed for in compare mode).
        """
        if mode not in ("upscale", "compare"):
            raise user_error(f"Mode must be 'upscale' or 'compare', got {mode!r}.")
        path = uploaded_video(video)
        info = probe_upload(path, self.state.limits)
        value = parse_scale(scale, factor, self.state.limits)
        index = int(frame or 0)
        rgb = read_frame(path, index, info)
        table: dict[str, Any] = {"headers": METRIC_HEADERS, "data": []}
        caption = ""
        if mode == "compare":
            context = f"for input with {damage_label(damage)} damage"
            run = self.state.run(self.state.models.pick(model, damage_kind(damage), context), engine)
            result = compare(rgb, value, run.upscaler, damage)
            bicubic, sr, value, table = result.bicubic, result.upscaled, result.scale, result.table()
            caption = result.caption() + "\n\n"
        else:
            run = self.state.run(self.state.models.pick(model, InputKind("video")), engine)
            started = time.perf_counter()
            bicubic, sr = run.pair(rgb, value)
            pixels = sr.shape[0] * sr.shape[1]
            self.state.speeds.record(run.model.name, engine or "auto", pixels, time.perf_counter() - started)
        out = self.state.work.request_folder()
        name = f"{file_stem(path, 'video')}_f{index:06d}_{scale_tag(value)}"
        bicubic_path = str(write_image(out / f"{name}_bicubic.png", as_displayed(bicubic, info)))
        sr_path = str(write_image(out / f"{name}_vdsr.png", as_displayed(sr, info)))
        return (bicubic_path, sr_path), table, caption + run.describe()

    def upscale_video(
        self,
        video: str | None,
        scale: str = "x2",
        factor: float = 2.5,
        model: str | None = None,
        engine: str = "auto",
        start: float = 0.0,
        duration: float | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio injects the tracker through this default
    ) -> Iterator[tuple[Any, str, Any]]:
        """Upscale a clip, or the part from ``start`` for ``duration`` seconds; H.264 out, audio copied, timing kept.

        While it runs, the latest upscaled frame is shown every few seconds; stopping the request stops
        the job at the next frame, and no output is left behind.

        Args:
            video: the clip (MP4, MOV, MKV, WebM, ...).
            scale: ``x1`` (the same size, cleaned up), ``x2``, ``x3``, ``x4`` or ``free`` (then ``factor`` is used).
            factor: the free scale factor, 1 to 4.
            model: ``auto`` (the real-world model: video is always compressed) or a model name.
            engine: ``auto`` or a backend that runs here.
            start: seconds to skip first.
            duration: seconds to upscale from ``start``; empty for the rest of the clip. The part must fit the
                limits (``/video_plan`` says how long a part fits).

        Returns:
            (path of the upscaled MP4, a summary: frames, size, time, and which model ran and why,
            the latest frame while running (None at the end)).
        """
        path, value, plan = self._plan(video, start, duration, scale, factor)
        plan.check(self.state.limits)
        run = self.state.run(self.state.models.pick(model, InputKind("video")), engine)
        progress(0.0, desc="Starting")
        whole = plan.start == 0 and plan.duration >= plan.info.duration
        settings = {"scale": value, "start": plan.start, "duration": plan.duration, "model": run.model.name}
        out = self.state.work.job_folder(path, {**settings, "engine": run.engine, "precision": run.precision})
        dst = out / f"{file_stem(path, 'video')}_{scale_tag(value)}.mp4"

        def work(upscaler: Upscaler, report: Callable[[int, int], None]) -> VideoResult:
            start, duration = (None, None) if whole else (plan.start, plan.duration)
            return video_upscale(path, dst, upscaler, value, start=start, duration=duration, progress=report)

        job = VideoJob.start(work, run.upscaler)
        shown = 0
        try:
            while job.running(timeout=_FRAME_EVERY_S if shown else _FIRST_FRAME_POLL_S):
                if job.total:
                    progress((job.done, job.total), desc="Upscaling frames", unit="frames")
                latest, frame = job.tap.latest, gr.skip()
                if latest is not None and job.tap.frames != shown:
                    shown = job.tap.frames
                    picture = as_displayed(latest, plan.info, upright=False)
                    frame = str(write_image(out / f"latest_{shown:06d}.jpg", picture, quality=85))
                # Yield at every poll, new frame or not: a cancelled request can close the generator only here.
                yield gr.skip(), f"{job.done} of {job.total} frames done.", frame
        finally:
            job.stop()  # a no-op once finished; when the request is cancelled, ends the job at the next frame
        try:
            result = job.result()
        except (VideoError, InputError) as exc:
            raise request_error("Cannot upscale this video", exc, path, dst) from None
        pixels = result.frames * result.width * result.height
        self.state.speeds.record(run.model.name, engine or "auto", pixels, result.seconds)
        audio = ", ".join(result.audio) if result.audio else "no audio"
        resumed = result.resumed_frames
        continued = f" Continued a stopped run: {resumed} frames were already done." if resumed else ""
        summary = (
            f"{result.frames} frames at {result.width}x{result.height}, {float(result.fps):.3g} fps, {audio}; "
            f"{result.seconds:.1f} s ({result.frames_per_second:.2f} frames/s).{continued}\n\n{run.describe()}"
        )
        yield str(result.path), summary, None
