"""Fixtures for the app tests: one server per session on a free port, a client, small media files.

The server is ``python app.py`` in a subprocess pointed at a tiny random
checkpoint through ``$VDSR_MODEL``, limited to one CPU thread so it stays
light beside other work. Shipped weights (``weights/*.safetensors``) are
offered by the same server when present.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from vdsr.checkpoint import save_checkpoint
from vdsr.config import ModelConfig
from vdsr.models import build_model

ROOT = Path(__file__).resolve().parents[2]
QUEUE_SIZE = 6  # small, so the burst test meets a full queue
# Before it answers, the app builds each offered model's auto engine, measuring it on a fresh cache (about
# 40 s a model on 2 cores).
START_SECONDS = 240


@dataclass(frozen=True)
class Server:
    url: str
    log: Path
    process: subprocess.Popen[bytes]
    queue_size: int = QUEUE_SIZE

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def app_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random VDSR (4 layers, 8 channels): fast, and not the identity."""
    model = build_model(ModelConfig(arch="plain", repeats=2, channels=8))
    model.tail.weight.data.normal_(0, 0.01)
    return save_checkpoint(tmp_path_factory.mktemp("app-ckpt") / "tiny-test.safetensors", model, scales=[2, 3, 4])


@pytest.fixture(scope="session")
def server(app_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``python app.py`` on a free local port; stopped (and its log kept in tmp) at the end of the session."""
    work = tmp_path_factory.mktemp("app-server")
    port = _free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(work / "gradio"),
        "TMPDIR": str(work),
        "VDSR_MODEL": str(app_checkpoint),
        "VDSR_APP_QUEUE_SIZE": str(QUEUE_SIZE),
        "VDSR_CACHE_DIR": str(work / "cache"),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    log = work / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    srv = Server(url, log, process)
    deadline = time.monotonic() + START_SECONDS
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"app.py exited with {process.returncode}:\n{srv.log_text()[-3000:]}")
            try:
                if httpx.get(url + "/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"app.py did not answer within {START_SECONDS} s:\n{srv.log_text()[-3000:]}")
            time.sleep(0.3)
        yield srv
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def client(server: Server, tmp_path_factory: pytest.TempPathFactory):
    from gradio_client import Client

    return Client(server.url, verbose=False, download_files=str(tmp_path_factory.mktemp("client-downloads")))


def write_clip(
    path: Path, *, width: int = 48, height: int = 32, frames: int = 12, fps: int = 12, audio: bool = True
) -> Path:
    """A small H.264 clip (moving gradient) with an optional AAC sine track, written with PyAV."""
    with av.open(str(path), mode="w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast"}
        sound = None
        if audio:
            sound = out.add_stream("aac", rate=22050, layout="mono")
        x = np.linspace(0, 255, width, dtype=np.float32)
        for i in range(frames):
            rgb = np.empty((height, width, 3), np.uint8)
            rgb[..., 0] = (x[None, :] + 10 * i) % 256
            rgb[..., 1] = np.linspace(0, 255, height, dtype=np.float32)[:, None]
            rgb[..., 2] = 128
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if sound is not None:
            rate, samples = 22050, 1024
            total = int(rate * frames / fps)
            for start in range(0, total, samples):
                t = (np.arange(start, start + samples) / rate).astype(np.float32)
                chunk = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                frame.sample_rate, frame.pts = rate, start
                for packet in sound.encode(frame):
                    out.mux(packet)
            for packet in sound.encode(None):
                out.mux(packet)
    return path


def write_audio_only(path: Path) -> Path:
    """An .mp4 holding only an AAC track (no video stream)."""
    with av.open(str(path), mode="w") as out:
        sound = out.add_stream("aac", rate=22050, layout="mono")
        for start in range(0, 22050, 1024):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 22050, start
            for packet in sound.encode(frame):
                out.mux(packet)
        for packet in sound.encode(None):
            out.mux(packet)
    return path


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def clip(media: Path) -> Path:
    """48x32, 12 frames at 12 fps (1 s), with AAC audio."""
    return write_clip(media / "clip.mp4")


@pytest.fixture(scope="session")
def long_clip(media: Path) -> Path:
    """32x32, 46 frames at 4 fps: 11.5 s, over the app's 10 s limit."""
    return write_clip(media / "long.mp4", width=32, height=32, frames=46, fps=4, audio=False)


@pytest.fixture(scope="session")
def slow_clip(media: Path) -> Path:
    """160x120, 96 frames at 12 fps, no audio: at x4, a job long enough to show a frame and be stopped (the
    first frame shows at once; the whole job takes seconds), within the app's 30 MP of output."""
    return write_clip(media / "slow.mp4", width=160, height=120, frames=96, fps=12, audio=False)


@pytest.fixture(scope="session")
def audio_only(media: Path) -> Path:
    return write_audio_only(media / "sound.mp4")
