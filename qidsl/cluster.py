"""``qidsl build --cluster``: the graph's products made as Dask tasks, on a cluster's workers.

Only imported with ``--cluster``; needs ``pip install 'qidsl[cluster]'``
(dask.distributed).  Each product the graph would make here is submitted as
one task whose Dask key is the product's own key, so a product asked for
twice (two routines, two voices) runs once.  The task writes its file into
the shared store (a folder every worker sees at the same path) under a
temporary name and renames it into place, as a local make does: a task
that runs again, after its worker died, writes the same bytes.  A worker
that dies mid-task has its tasks run again elsewhere (Dask's
``distributed.scheduler.allowed-failures``).  Every product that takes a
pool's slot goes: levelled sounds, MP3 runs, the mix, video segments (each
task carries what the frames are drawn from; a worker makes its painter
once), AAC chunks and the MP4's join.  What plans the work (the segments'
keys, where the narration is cut) stays in the building process.

``--cluster local:N`` starts a ``LocalCluster`` of N worker processes;
``--cluster tls://host:8786`` uses Dask's TLS security from its
configuration (``distributed.comm.tls.*``: CA, certificate and key files).
"""

from __future__ import annotations

from pathlib import Path

from .errors import BuildError

RETRIES = 2  # a task that fails (not a dead worker: Dask reruns those on its own) is tried again


def _make_in_store(directory: str, kind: str, key: str, ext: str, make, *inputs: str) -> str:
    """On a worker: make one product into the shared store, unless it is there already."""
    from .store import Store

    store = Store(Path(directory))
    if store.get(kind, key, ext) is None:
        with store.put(kind, key, ext) as tmp:
            make(tmp, *(Path(p) for p in inputs))
    return key


class Cluster:
    """A Dask client: :meth:`make` runs a product's make on a worker and waits for its file."""

    def __init__(self, address: str):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise BuildError("--cluster needs dask.distributed: pip install 'qidsl[cluster]'") from None
        self.local = None
        try:
            if address.startswith("local:"):
                try:
                    workers = int(address.split(":", 1)[1])
                except ValueError:
                    raise BuildError(f"--cluster local:N needs a number of workers, not '{address}'") from None
                # Processes, not threads: as on a real cluster, every task is pickled to its worker.
                self.local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                          dashboard_address=None)
                self.client = Client(self.local)
            elif address.startswith("tls://"):
                from distributed.security import Security

                # Dask's own configuration names the files (~/.config/dask/*.yaml or DASK_DISTRIBUTED__COMM__TLS__*)
                security = Security()
                # Security sets its attributes from the config at run time (its stubs do not name them).
                if not (getattr(security, "tls_ca_file", None) and getattr(security, "tls_client_cert", None)):
                    raise BuildError(f"{address} needs Dask's TLS files: set distributed.comm.tls.ca-file, "
                                     "client.cert and client.key in a Dask config file (docs/cluster.md)")
                self.client = Client(address, security=security, timeout="30s")
            else:
                self.client = Client(address, timeout="30s")
        except OSError as exc:
            raise BuildError(f"cannot reach the Dask scheduler at {address}: {exc}") from None

    def make(self, store, product, make, inputs: list[Path]) -> None:
        """Make ``product`` by ``make`` from the files ``inputs`` into ``store`` on a worker; wait for its file."""
        future = self.client.submit(_make_in_store, str(store.directory.resolve()), product.kind, product.key,
                                    product.ext, make, *(str(p.resolve()) for p in inputs),
                                    key=f"qidsl-{product.kind}-{product.key}", retries=RETRIES)
        future.result()
        if store.get(product.kind, product.key, product.ext) is None:
            raise BuildError(f"a Dask worker made {product.kind} {product.key[:12]} but it is not in the store "
                             f"{store.directory}: do the workers see the same folder at the same path?")

    def close(self) -> None:
        self.client.close()
        if self.local is not None:
            self.local.close()
