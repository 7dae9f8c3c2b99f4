"""Benchmarks of tap-xero and target-xero against xero-sandbox, side by side with the peer.

``make bench`` (``python -m bench.run``) writes ``bench/RESULTS.md`` and ``bench/results.json``;
``python -m bench.run --smoke`` is the small version that ``make test`` runs.
"""
