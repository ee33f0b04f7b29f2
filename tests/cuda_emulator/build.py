"""Builds axonic's CUDA kernels as a CPU extension module for the emulator.

``build_emulated_module(repo_root)`` compiles ``csrc/cuda/*.cu`` as C++20 with g++
(``-DAXONIC_CUDA_EMULATION``: ``cuda_emulator.h`` replaces the CUDA runtime), the CUDA
bindings, the array checks and ``csrc/common``, links them with the emulator's scheduler
into an extension named ``_cuda`` and loads it without registering it as ``axonic._cuda``.

Objects are compiled in parallel and cached under ``<repo>/build/cuda_emulator/``: an
object is reused while its source, every header it includes (g++'s dependency list),
the flags, the compiler and pybind11 are unchanged; the linked module sits in a folder
named after the hash of its objects. A compile or link error raises
``EmulatorBuildError`` with the compiler's output; ``EmulatorUnavailable`` means the
emulator cannot be built here at all (no g++, no pybind11, no C++ sources).

By hand: ``python tests/cuda_emulator/build.py`` builds both modules and prints where.
``AXONIC_EMULATOR_ASAN=1`` builds with AddressSanitizer (see README.md).
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from types import ModuleType

EMULATOR_DIR = Path(__file__).resolve().parent
STALE_SECONDS = 600  # cached objects and modules unused this long go after a build


class EmulatorUnavailable(Exception):
    """The emulator cannot be built on this machine (tests skip)."""


class EmulatorBuildError(RuntimeError):
    """Compiling or linking the emulated module failed (tests fail, with the output)."""


def asan_enabled() -> bool:
    """Whether AXONIC_EMULATOR_ASAN asks for an AddressSanitizer build."""
    return os.environ.get("AXONIC_EMULATOR_ASAN", "") not in ("", "0")


def asan_preload() -> str:
    """The LD_PRELOAD value an AXONIC_EMULATOR_ASAN=1 run needs."""
    def library(name: str) -> str:
        return subprocess.run([_compiler(), f"-print-file-name={name}"], capture_output=True,
                              text=True).stdout.strip()

    return f"{library('libasan.so')} {library('libstdc++.so')}"


def _compiler() -> str:
    compiler = shutil.which(os.environ.get("AXONIC_EMULATOR_CXX", "g++"))
    if compiler is None:
        raise EmulatorUnavailable("g++ is not installed (the CUDA emulator compiles with it)")
    return compiler


@functools.cache
def _compiler_identity(compiler: str) -> str:
    return subprocess.run([compiler, "--version"], capture_output=True, text=True,
                          check=True).stdout.splitlines()[0]


def _pybind11_include() -> tuple[str, str]:
    try:
        import pybind11
    except ImportError as error:
        raise EmulatorUnavailable("pybind11 is not installed (pip install pybind11)") from error
    return pybind11.get_include(), pybind11.__version__


def _compile_flags(repo_root: Path, source: Path) -> list[str]:
    """g++'s flags for `source`. The kernels (and everything else) get -O2, the pybind11
    bindings -O0: they only validate and call, and pybind11's templates take most of the
    build time at -O2 (a third less at -O0)."""
    pybind11_include, _ = _pybind11_include()
    flags = ["-std=c++20", "-fPIC", "-fvisibility=hidden", "-fno-strict-aliasing",
             "-ffp-contract=off", "-DAXONIC_CUDA_EMULATION",
             f"-I{repo_root / 'csrc'}", f"-I{EMULATOR_DIR}",
             "-isystem", pybind11_include, "-isystem", sysconfig.get_paths()["include"]]
    if asan_enabled():
        return flags + ["-O1", "-g", "-fsanitize=address", "-fno-omit-frame-pointer"]
    bindings = repo_root / "csrc" / "bindings"
    return flags + ["-O0" if source.parent == bindings else "-O2", "-g0"]


def _link_flags() -> list[str]:
    return ["-shared"] + (["-fsanitize=address"] if asan_enabled() else [])


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _FileHashes:
    """Content hashes of files, each read once per build."""

    def __init__(self) -> None:
        self._hashes: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        if path not in self._hashes:
            try:
                self._hashes[path] = _sha256(Path(path).read_bytes())
            except OSError:
                self._hashes[path] = "missing"
        return self._hashes[path]


def _parse_depfile(text: str) -> list[str]:
    """The prerequisites of a g++ -MMD dependency file (target first, then headers)."""
    body = text.replace("\\\n", " ").split(":", 1)[1]
    return [p.replace("\\ ", " ") for p in re.split(r"(?<!\\)\s+", body.strip()) if p]


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _compile_object(compiler: str, identity: str, source: Path, repo_root: Path,
                    objects_dir: Path, hashes: _FileHashes) -> Path:
    """Compiles `source` unless a cached object with unchanged inputs exists; returns it.
    `identity` names the compiler and pybind11 versions (part of the cache key)."""
    flags = _compile_flags(repo_root, source)
    relative = source.relative_to(repo_root) if source.is_relative_to(repo_root) else source
    language = ["-x", "c++"] if source.suffix == ".cu" else []
    key = _sha256("\0".join([identity, *flags, str(relative),
                             hashes(str(source))]).encode())[:16]
    stem = str(relative).replace("/", "_").replace(".", "_")
    obj, deps = objects_dir / f"{stem}-{key}.o", objects_dir / f"{stem}-{key}.deps.json"
    if obj.exists() and deps.exists():
        try:
            recorded = json.loads(deps.read_text())
            if all(hashes(path) == digest for path, digest in recorded.items()):
                os.utime(obj)
                os.utime(deps)
                return obj
        except (OSError, ValueError):
            pass
    temporary = obj.with_name(f"{obj.name}.{os.getpid()}.tmp.o")
    depfile = obj.with_name(f"{obj.name}.{os.getpid()}.d")
    command = [compiler, *flags, *language, "-c", str(source), "-o", str(temporary),
               "-MMD", "-MF", str(depfile)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        temporary.unlink(missing_ok=True)
        depfile.unlink(missing_ok=True)
        raise EmulatorBuildError(f"compiling {relative} for the CUDA emulator failed:\n"
                                 f"{' '.join(command)}\n{result.stderr}")
    headers = _parse_depfile(depfile.read_text())[1:]
    depfile.unlink(missing_ok=True)
    _write_atomically(deps, json.dumps({h: hashes(h) for h in headers}).encode())
    os.replace(temporary, obj)
    return obj


def _undefined_axonic_symbols(library: Path) -> list[str]:
    """Demangled undefined symbols of `library` from axonic's code (a missing definition:
    a launcher never instantiated, a binding family not written yet)."""
    nm = shutil.which("nm")
    if nm is None:
        return []
    result = subprocess.run([nm, "-D", "-C", "--undefined-only", str(library)],
                            capture_output=True, text=True)
    symbols = [line.split(None, 1)[-1] for line in result.stdout.splitlines()]
    return [s for s in symbols if "axonic" in s]


def _remove_stale(build_dir: Path, keep: set[Path]) -> None:
    """Deletes cached objects and modules unused for STALE_SECONDS (never ones in use)."""
    cutoff = time.time() - STALE_SECONDS
    for path in list(build_dir.glob("objects/*")) + list(build_dir.glob("module-*")):
        try:
            if path in keep or path.stat().st_mtime > cutoff:
                continue
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        except OSError:
            pass


def build_extension(name: str, sources: list[Path], repo_root: Path) -> Path:
    """Compiles `sources` (C++; .cu files as C++) with the emulator's flags and links them
    into the extension module `name`; returns its path (a cached one when up to date)."""
    compiler = _compiler()
    _, pybind11_version = _pybind11_include()
    identity = f"{_compiler_identity(compiler)}; pybind11 {pybind11_version}"
    build_dir = repo_root / "build" / "cuda_emulator"
    objects_dir = build_dir / "objects"
    objects_dir.mkdir(parents=True, exist_ok=True)
    hashes = _FileHashes()
    workers = max(1, min(len(sources), os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        # The bindings first: they take longest, so two cores finish together.
        ordered = sorted(sources, key=lambda source: source.parent.name != "bindings")
        futures = [pool.submit(_compile_object, compiler, identity, source, repo_root,
                               objects_dir, hashes) for source in ordered]
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise EmulatorBuildError("\n\n".join(str(e) for e in errors))
        objects = [f.result() for f in futures]
    digest = hashlib.sha256()
    for obj in objects:
        digest.update(obj.read_bytes())
    digest.update(" ".join(_link_flags()).encode())
    module_dir = build_dir / f"module-{name}-{digest.hexdigest()[:16]}"
    library = module_dir / f"{name}{sysconfig.get_config_var('EXT_SUFFIX')}"
    if not library.exists():
        module_dir.mkdir(parents=True, exist_ok=True)
        temporary = module_dir / f"{name}.{os.getpid()}.tmp.so"
        command = [compiler, *_link_flags(), *map(str, objects), "-o", str(temporary)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise EmulatorBuildError(f"linking the emulated {name} module failed:\n"
                                     f"{' '.join(command)}\n{result.stderr}")
        missing = _undefined_axonic_symbols(temporary)
        if missing:
            temporary.unlink()
            raise EmulatorBuildError(
                f"the emulated {name} module lacks definitions (a binding family whose "
                "register_cuda_* is not written yet, or a launcher template that the .cu "
                "does not instantiate explicitly):\n  " + "\n  ".join(missing))
        os.replace(temporary, library)
    os.utime(module_dir)
    in_use = {module_dir, *objects, *(o.with_suffix(".deps.json") for o in objects)}
    _remove_stale(build_dir, keep=in_use)
    return library


def load_extension(name: str, path: Path) -> ModuleType:
    """Imports the extension at `path` as `name`, without adding it to sys.modules."""
    if asan_enabled() and "libasan" not in Path("/proc/self/maps").read_text():
        raise EmulatorBuildError(
            "AXONIC_EMULATOR_ASAN=1: AddressSanitizer's runtime (and libstdc++, whose "
            "exceptions it intercepts) must be loaded before Python starts; run with "
            f"LD_PRELOAD='{asan_preload()}' ASAN_OPTIONS=detect_leaks=0")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise EmulatorBuildError(f"cannot load {path} as an extension module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _require_sources(repo_root: Path) -> None:
    if not (repo_root / "csrc" / "cuda" / "runtime.cuh").is_file():
        raise EmulatorUnavailable(f"no C++ sources under {repo_root / 'csrc'} (an installed "
                                  "axonic without its source tree)")


def kernel_sources(repo_root: Path) -> list[Path]:
    """What the emulated _cuda module is made of (the same files as CMake's _cuda)."""
    csrc = repo_root / "csrc"
    return sorted([*csrc.glob("cuda/*.cu"), *csrc.glob("bindings/cuda_*.cpp"),
                   csrc / "bindings" / "array_checks.cpp", *csrc.glob("common/*.cpp"),
                   EMULATOR_DIR / "cuda_emulator.cpp"])


@functools.cache
def _build_and_load(repo_root: Path, name: str, sources: tuple[Path, ...],
                    asan: bool) -> ModuleType:
    del asan  # part of the cache key only
    return load_extension(name, build_extension(name, list(sources), repo_root))


def build_emulated_module(repo_root: Path | str) -> ModuleType:
    """axonic's CUDA module (``_cuda``) compiled for the emulator, built or taken from the
    cache, and loaded (once per process)."""
    root = Path(repo_root).resolve()
    _require_sources(root)
    _compiler()
    _pybind11_include()
    return _build_and_load(root, "_cuda", tuple(kernel_sources(root)), asan_enabled())


def build_selftest_module(repo_root: Path | str) -> ModuleType:
    """The emulator's own test kernels (selftest.cu) as the module ``_emulator_selftest``."""
    root = Path(repo_root).resolve()
    _require_sources(root)
    _compiler()
    _pybind11_include()
    sources = (EMULATOR_DIR / "selftest.cu", EMULATOR_DIR / "cuda_emulator.cpp",
               root / "csrc" / "cuda" / "runtime.cu")
    return _build_and_load(root, "_emulator_selftest", sources, asan_enabled())


def _main() -> None:
    root = EMULATOR_DIR.parents[1]
    for build in (build_emulated_module, build_selftest_module):
        start = time.perf_counter()
        module = build(root)
        print(f"{module.__name__}: {module.__file__} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    try:
        _main()
    except (EmulatorUnavailable, EmulatorBuildError) as error:
        sys.exit(f"{type(error).__name__}: {error}")
