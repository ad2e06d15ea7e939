"""Reading and writing images with their bit depth, channels, orientation and metadata intact.

Arrays are (H, W) gray, (H, W, 2) gray+alpha, (H, W, 3) RGB or (H, W, 4) RGBA,
uint8 or uint16. PIL reads most files and honours EXIF orientation; OpenCV
reads and writes 16-bit colour, which PIL cannot; pillow-heif adds the HEIC photos of
phones (read only). A photo's colour profile and EXIF
(:class:`ImageMeta`) are read apart from its pixels and written back with the result.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from vdsr.files import written_whole

try:
    from pillow_heif import register_heif_opener
except ImportError:  # a minimal install; HEIC files are then refused with the reason
    HEIF_READER = False
else:
    register_heif_opener()
    HEIF_READER = True

__all__ = [
    "MAX_INPUT_PIXELS",
    "WRITE_SUFFIXES",
    "ImageMeta",
    "ImageReadError",
    "ImageWriteError",
    "check_output",
    "pixels_of",
    "read_image",
    "read_meta",
    "write_image",
]

MAX_INPUT_PIXELS = 50_000_000
_FORMATS = {"PNG", "JPEG", "MPO", "BMP", "WEBP", "TIFF", "HEIF", "AVIF", "GIF"}
READ_FORMATS = "PNG, JPEG, HEIC, AVIF, WebP, GIF, BMP or TIFF"
WRITE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
_TO_MODE = {
    "1": "L",
    "P": "RGB",
    "PA": "RGBA",
    "CMYK": "RGB",
    "YCbCr": "RGB",
    "LAB": "RGB",
    "HSV": "RGB",
    "La": "LA",
    "RGBa": "RGBA",
    "RGBX": "RGB",
}
_KEEP_MODES = {"L", "LA", "RGB", "RGBA"}


class ImageReadError(ValueError):
    """A file is missing, not a supported image, damaged, or too large."""


class ImageWriteError(ValueError):
    """An output cannot be written: an unsupported format for the data, no permission, a full disk."""


@dataclass(frozen=True)
class ImageMeta:
    """What a photo carries besides its pixels that stays true of its upscale.

    The colour profile says what the pixel values mean (a phone's Display P3, Adobe RGB): without
    it, viewers take them as sRGB and the colours shift. The EXIF holds the date taken, the camera and
    the place, which photo libraries sort and search by.
    """

    icc_profile: bytes | None = None
    exif: bytes | None = None


def _orient(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an HxW[xC] array, as ImageOps.exif_transpose does."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.rot90(a, 1)[::-1],
        8: lambda a: np.rot90(a, 1),
    }
    op = ops.get(orientation)
    return np.ascontiguousarray(op(arr)) if op else arr


def _read_16bit_colour(path: Path) -> np.ndarray | None:
    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype != np.uint16 or arr.ndim != 3:
        return None
    code = cv2.COLOR_BGRA2RGBA if arr.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return cv2.cvtColor(arr, code)


def read_image(path: str | Path, *, max_pixels: int = MAX_INPUT_PIXELS) -> np.ndarray:
    """Read an image file into a uint8 or uint16 array (see module docstring).

    Raises:
        ImageReadError: with a one-line reason for anything that cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path)
    except UnidentifiedImageError:
        heic = not HEIF_READER and path.suffix.lower() in {".heic", ".heif"}
        known = "HEIC needs pillow-heif (pip install pillow-heif)" if heic else READ_FORMATS
        raise ImageReadError(f"{path}: not a readable image ({known})") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageReadError(f"{path}: not a readable image (its header claims an absurd size)") from None
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot open ({exc})") from None
    with im:
        if im.format not in _FORMATS:
            raise ImageReadError(f"{path}: {im.format} images are not supported (use {READ_FORMATS})")
        width, height = im.size
        if width * height > max_pixels:
            raise ImageReadError(f"{path}: {width}x{height} is over the limit of {max_pixels / 1e6:.0f} megapixels")
        if width < 1 or height < 1:
            raise ImageReadError(f"{path}: image is empty")
        try:
            orientation = int(im.getexif().get(0x0112, 1))
            if im.format in {"PNG", "TIFF"} and im.mode in {"RGB", "RGBA"}:
                deep = _read_16bit_colour(path)
                if deep is not None:
                    return _orient(deep, orientation)
            im.load()
            if im.mode == "F":
                raise ImageReadError(f"{path}: floating-point images are not supported")
            return _orient(pixels_of(im), orientation)
        except (OSError, SyntaxError, ValueError) as exc:
            if isinstance(exc, ImageReadError):
                raise
            raise ImageReadError(f"{path}: damaged or truncated image ({exc})") from None


def pixels_of(im: Image.Image) -> np.ndarray:
    """A loaded PIL image or frame as an array of the module's kinds: 16-bit gray kept, palettes
    expanded (to RGBA where one colour is transparent), CMYK and the rest made RGB."""
    if im.mode.startswith("I;16") or im.mode == "I":
        return np.clip(np.asarray(im, dtype=np.int64), 0, 65535).astype(np.uint16)
    converted: Image.Image = im
    if im.mode == "P" and "transparency" in im.info:
        converted = im.convert("RGBA")
    elif im.mode not in _KEEP_MODES:
        converted = im.convert(_TO_MODE.get(im.mode, "RGB"))
    return np.array(converted)


_STORAGE_TAGS = frozenset(
    {254, 255, 256, 257, 258, 259, 262, 263, 264, 265, 266, 273, 277, 278, 279, 280, 281, 284, 288, 289}
    | {290, 291, 292, 293, 317, 320, 322, 323, 324, 325, 330, 338, 339, 340, 341, 347, 529, 530, 531, 532}
    | set(range(512, 522))
    | {34675, 37724}
)
"""TIFF tags that say how a file stores its pixels (size, compression, strips, colour map, the ICC
profile, Photoshop's layers). A TIFF's EXIF holds them beside the photo's own tags; they describe
the input file, not the photo, and written into a new TIFF they conflict with its own."""


def read_meta(path: str | Path) -> ImageMeta:
    """The colour profile and EXIF of an image file; none for a file that has none or cannot be read."""
    try:
        with Image.open(path) as im:
            exif = im.getexif()
            for tag in _STORAGE_TAGS & set(exif):
                del exif[tag]
            return ImageMeta(icc_profile=im.info.get("icc_profile") or None, exif=exif.tobytes() if exif else None)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):  # read_image reports a bad file
        return ImageMeta()


def _meta_options(meta: ImageMeta, img: np.ndarray) -> dict[str, Any]:
    """PIL save options carrying ``meta`` onto ``img``: a profile only of its colour space (a CMYK
    JPEG's profile does not describe the RGB it was read as), EXIF upright and with the new size."""
    options: dict[str, Any] = {}
    channels = 1 if img.ndim == 2 else img.shape[2]
    space = b"GRAY" if channels <= 2 else b"RGB "
    if meta.icc_profile and meta.icc_profile[16:20] == space:
        options["icc_profile"] = meta.icc_profile
    if meta.exif:
        exif = Image.Exif()
        exif.load(meta.exif)
        if 0x0112 in exif:
            exif[0x0112] = 1  # orientation: the pixels were turned upright on reading
        sizes = exif.get_ifd(0x8769)  # the Exif IFD
        for tag, value in ((0xA002, img.shape[1]), (0xA003, img.shape[0])):  # pixel width, height
            if tag in sizes:
                sizes[tag] = value
        options["exif"] = exif.tobytes()
    return options


def check_output(path: str | Path, img: np.ndarray) -> None:
    """Raise ImageWriteError if ``path``'s format cannot hold ``img`` (its dtype and channels).

    The upscaler keeps both, so a caller can check an output against its input before any work.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise ImageWriteError(f"{path}: unsupported output format {suffix or '(none)'}")
    channels = 1 if img.ndim == 2 else img.shape[2]
    if suffix in {".jpg", ".jpeg"} and (img.dtype != np.uint8 or channels in (2, 4)):
        raise ImageWriteError(f"{path}: JPEG cannot store alpha or 16-bit data; write .png instead")
    if img.dtype == np.uint16 and suffix not in {".png", ".tif", ".tiff"}:
        raise ImageWriteError(f"{path}: 16-bit images need .png or .tif")
    if img.dtype == np.uint16 and channels == 2:
        raise ImageWriteError(f"{path}: 16-bit gray+alpha is not supported; write 8-bit or drop alpha")


def write_image(
    path: str | Path, img: np.ndarray, *, quality: int = 95, lossless: bool = False, meta: ImageMeta | None = None
) -> Path:
    """Write an array from :func:`read_image` (or the upscaler) to ``path``; format from the suffix.

    16-bit colour goes through OpenCV (PNG/TIFF only). JPEG cannot hold alpha or
    16 bits, so those raise rather than silently losing data. ``lossless`` writes
    WebP losslessly (smaller than PNG); other formats ignore it. ``meta`` (from
    :func:`read_meta` of the input) is written into PNG, JPEG, WebP and TIFF; BMP and
    16-bit colour hold none. The file appears whole or not at all (:func:`~vdsr.files.written_whole`).

    Raises:
        ImageWriteError: the format cannot hold ``img``, or the file cannot be written (one line).
    """
    path = Path(path)
    check_output(path, img)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with written_whole(path) as hidden:
            _save(hidden, img, quality=quality, lossless=lossless, meta=meta or ImageMeta())
    except OSError as exc:
        not_a_folder = isinstance(exc, (FileExistsError, NotADirectoryError))
        reason = f"{path.parent} is a file, not a folder" if not_a_folder else exc.strerror or exc
        raise ImageWriteError(f"{path}: cannot write ({reason})") from None
    return path


def _save(path: Path, img: np.ndarray, *, quality: int, lossless: bool, meta: ImageMeta) -> None:
    """Encode ``img`` to ``path``: 16-bit colour through OpenCV, the rest through PIL."""
    suffix = path.suffix.lower()
    channels = 1 if img.ndim == 2 else img.shape[2]
    if img.dtype == np.uint16 and channels > 1:
        code = cv2.COLOR_RGBA2BGRA if channels == 4 else cv2.COLOR_RGB2BGR
        if not cv2.imwrite(str(path), cv2.cvtColor(img, code)):
            raise OSError("OpenCV could not encode it")
        return
    arr = img[..., 0] if channels == 1 and img.ndim == 3 else img
    options: dict[str, Any] = {"quality": quality} if suffix in {".jpg", ".jpeg", ".webp"} else {}
    if lossless and suffix == ".webp":
        options = {"lossless": True, "exact": True}  # exact: keep the colour under transparent pixels
    if suffix != ".bmp":
        options.update(_meta_options(meta, img))
    Image.fromarray(arr).save(path, **options)
