"""``usguide batch``: re-analyse an archive of inputs on Dask, resumable, one JSONL per input.

``inputs`` finds and hashes the inputs, ``segments`` splits long ones into frame ranges and
stitches them, ``worker`` runs on the Dask workers (one cached detector per worker thread),
``manifest`` and ``summary`` write the archive's bookkeeping, ``runner`` drives a Dask client.
Only ``runner`` imports Dask; the rest works without it.
"""
