"""``qidsl build --cluster``: a real local Dask cluster of two worker processes makes the same bytes.

Speech, levelled sounds, MP3 runs, the mix, video segments, AAC chunks and
the MP4's join all run as Dask tasks (a worker plugin lists what ran).

The speech is made once, by the local build, and copied into the cluster
build's store (Piper's speech may differ a little between syntheses; every
other product is then made again, on the workers, from the same speech).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from qidsl.cli import main

distributed = pytest.importorskip("distributed")

ROUTINES = {
    "arriving": 'title: "Arriving"\n\nsection "Standing":\n    say "Stand tall."\n    bell 1s\n'
                'section "Breathing":\n    inhale 2s "In."\n    exhale 2s "Out."\n',
    "closing": 'title: "Closing"\n\nsection "Rest":\n    bell 1s\n    say "Thank you."\n',
}


class Ran(distributed.WorkerPlugin):
    """Notes the key of every task a worker starts, one line each, in a file (shared by the workers)."""

    def __init__(self, listing: str):
        self.listing = listing

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing":
            with open(self.listing, "a", encoding="utf-8") as out:
                out.write(f"{key}\n")


class DieOnce(distributed.WorkerPlugin):
    """Kills the worker it runs in as it starts its first MP3 task (once in all: a marker file says so)."""

    def __init__(self, marker: str):
        self.marker = marker

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing" and str(key).startswith("qidsl-mp3-") and not os.path.exists(self.marker):
            Path(self.marker).write_text(f"{key} {os.getpid()}\n", encoding="utf-8")
            os._exit(1)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "class"
    folder.mkdir()
    for name, text in ROUTINES.items():
        (folder / f"{name}.qi").write_text(text, encoding="utf-8")
    return folder


def _outputs(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
            and ".cache" not in p.parts}


@pytest.fixture(scope="module")
def local_build(tmp_path_factory):
    work = tmp_path_factory.mktemp("local")
    folder = _folder(work)
    assert main(["build", str(folder), "--no-video", "--wav", "-j", "2", "--out", str(work / "out"),
                 "--cache-dir", str(work / "cache")]) == 0
    return folder, work


def _cluster_build(local_build, tmp_path: Path, address: str) -> dict[str, bytes]:
    folder, work = local_build
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copytree(work / "cache" / "speech", cache / "speech")
    assert main(["build", str(folder), "--no-video", "--wav", "-j", "2", "--out", str(tmp_path / "out"),
                 "--cache-dir", str(cache), "--cluster", address]) == 0
    made = {p.parent.parent.name for p in cache.rglob("*") if p.is_file()}
    assert {"level", "mp3-run", "mp3", "wav", "page"} <= made
    return _outputs(tmp_path / "out")


def test_a_local_cluster_makes_the_same_bytes(local_build, tmp_path):
    expected = _outputs(local_build[1] / "out")
    assert len(expected) == 14  # 7 outputs of each routine
    assert _cluster_build(local_build, tmp_path, "local:2") == expected


def test_a_worker_killed_mid_task_is_retried_and_the_bytes_are_the_same(local_build, tmp_path):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the plugin travels to the workers by value
    marker = tmp_path / "died"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        client.register_plugin(DieOnce(str(marker)))
        pids = set(client.run(os.getpid).values())
        outputs = _cluster_build(local_build, tmp_path, cluster.scheduler_address)
        died = marker.read_text(encoding="utf-8").split()
    assert died[0].startswith("qidsl-mp3-") and int(died[1]) in pids  # a worker of this cluster died in a task
    assert outputs == _outputs(local_build[1] / "out")


def test_a_build_without_cluster_never_imports_dask(tmp_path):
    import subprocess

    routine = tmp_path / "closing.qi"
    routine.write_text(ROUTINES["closing"], encoding="utf-8")
    code = ("import sys; from qidsl.cli import main; "
            f"code = main(['build', {str(routine)!r}, '--no-video', '--out', {str(tmp_path / 'out')!r}]); "
            "assert code == 0, code; assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def _families_run(listing: Path) -> set[str]:
    """The product families of the tasks the workers ran (keys are ``qidsl-KIND-KEY``)."""
    return {line[len("qidsl-"):].rsplit("-", 1)[0] for line in listing.read_text(encoding="utf-8").split()}


def _cluster_with(plugin):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the plugins travel to the workers by value
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    client.register_plugin(plugin)
    return cluster, client


def test_video_segments_narration_chunks_and_the_join_run_on_workers_with_the_same_bytes(tmp_path):
    folder = tmp_path / "one"
    folder.mkdir()
    routine = folder / "arriving.qi"
    routine.write_text(ROUTINES["arriving"], encoding="utf-8")
    local = tmp_path / "local"
    assert main(["build", str(routine), "--preview", "--out", str(local / "out"), "--cache-dir",
                 str(local / "cache")]) == 0
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copytree(local / "cache" / "speech", cache / "speech")
    listing = tmp_path / "ran.txt"
    listing.touch()
    cluster, client = _cluster_with(Ran(str(listing)))
    try:
        assert main(["build", str(routine), "--preview", "--out", str(tmp_path / "out"), "--cache-dir", str(cache),
                     "--cluster", cluster.scheduler_address]) == 0
    finally:
        client.close()
        cluster.close()
    assert {"video-segment", "aac-chunk", "mp4", "level", "wav", "mp3"} <= _families_run(listing)
    expected = _outputs(local / "out")
    assert "arriving/arriving.mp4" in expected
    assert _outputs(tmp_path / "out") == expected  # every segment, chunk and the join: the same bytes
    # Each segment made on a worker is byte for byte the one made locally.
    segments = list((local / "cache" / "video-segment").rglob("*.h264"))
    assert len(segments) >= 2
    for segment in segments:
        assert (cache / segment.relative_to(local / "cache")).read_bytes() == segment.read_bytes()


def test_speech_is_spoken_on_the_workers(tmp_path):
    routine = tmp_path / "closing.qi"
    routine.write_text(ROUTINES["closing"], encoding="utf-8")
    listing = tmp_path / "ran.txt"
    listing.touch()
    cluster, client = _cluster_with(Ran(str(listing)))
    try:
        assert main(["build", str(routine), "--no-video", "--out", str(tmp_path / "out"), "--cache-dir",
                     str(tmp_path / "cache"), "--cluster", cluster.scheduler_address]) == 0
    finally:
        client.close()
        cluster.close()
    ran = listing.read_text(encoding="utf-8").split()
    assert sum(key.startswith("qidsl-speech-") for key in ran) == 1  # "Thank you." (the bell is no speech)
    assert len(list((tmp_path / "cache" / "speech").rglob("*.clip"))) == 1
    assert (tmp_path / "out" / "closing" / "closing.mp3").stat().st_size > 1000
