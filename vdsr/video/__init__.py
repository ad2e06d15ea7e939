"""Video in, video out: decode with PyAV, upscale every frame, encode H.264, keep the audio.

Modules, one job each:

- :mod:`~vdsr.video.formats`: which suffixes are video, which containers can be written, size limits.
- :mod:`~vdsr.video.errors`: :class:`VideoError`, the one-line error every failure becomes.
- :mod:`~vdsr.video.colour`: colour tags and YUV <-> RGB with the source's own matrix and range.
- :mod:`~vdsr.video.probe`: open a file, find the picture stream, describe it (:func:`probe_video`).
- :mod:`~vdsr.video.deinterlace`: interlaced frames woven back whole (bwdif) before the upscaler.
- :mod:`~vdsr.video.tracks`: audio and subtitles copied packet for packet (audio re-encoded to AAC where
  it must be); the file's tags and chapters.
- :mod:`~vdsr.video.request`: checks on an upscale request before anything is opened.
- :mod:`~vdsr.video.encoder`: the H.264 stream, and a track end that players read as the source's duration.
- :mod:`~vdsr.video.files`: outputs written whole (hidden temporary, renamed) with the normal file mode.
- :mod:`~vdsr.video.overlap`: each frame upscaled on a worker thread while the next decodes and the last encodes.
- :mod:`~vdsr.video.transcode`: the decode -> upscale -> encode loop, audio and subtitles interleaved.
- :mod:`~vdsr.video.upscale`: :func:`upscale_video`, the whole run: checks, output size, one pass or a job.
- :mod:`~vdsr.video.index`: every frame's exact timestamp, from the packets; a trim as a frame range.
- :mod:`~vdsr.video.segments`: a frame range cut into segments of a few seconds.
- :mod:`~vdsr.video.part`: one segment decoded, upscaled and encoded into a part file.
- :mod:`~vdsr.video.job`: the job folder ``OUT.parts/`` and its manifest (what the parts were made from).
- :mod:`~vdsr.video.runners`: segments encoded here or in worker processes.
- :mod:`~vdsr.video.join`: parts joined without re-encoding, the audio copied once.
- :mod:`~vdsr.video.segmented`: a resumable job from start to finish.
- :mod:`~vdsr.video.frames`: single frames as arrays (:func:`read_frames`) or comparison PNGs.

Importing this package does not import PyAV: the suffixes, limits and :class:`VideoError` are
plain Python, and the rest loads on first use, so upscaling an image never pays for PyAV.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vdsr.video.errors import VideoError
from vdsr.video.formats import MAX_OUTPUT_PIXELS, MAX_VIDEO_PIXELS, OUTPUT_SUFFIXES, VIDEO_SUFFIXES

if TYPE_CHECKING:
    from vdsr.video.frames import as_displayed, extract_frames, read_frames
    from vdsr.video.probe import VideoInfo, probe_video
    from vdsr.video.upscale import VideoResult, upscale_video

__all__ = [
    "MAX_OUTPUT_PIXELS",
    "MAX_VIDEO_PIXELS",
    "OUTPUT_SUFFIXES",
    "VIDEO_SUFFIXES",
    "VideoError",
    "VideoInfo",
    "VideoResult",
    "as_displayed",
    "extract_frames",
    "read_frames",
    "probe_video",
    "upscale_video",
]

# Names that need PyAV -> the module that defines them; imported when first asked for.
_NEEDS_PYAV = {
    "VideoInfo": "probe",
    "probe_video": "probe",
    "VideoResult": "upscale",
    "upscale_video": "upscale",
    "as_displayed": "frames",
    "extract_frames": "frames",
    "read_frames": "frames",
}


def __getattr__(name: str) -> Any:
    module = _NEEDS_PYAV.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NEEDS_PYAV))
