"""`make bench`: the server on one core, a Node socket.io-client load generator on the other.

bench/run.py orchestrates, bench/setup.py seeds agents, bench/loadgen.mjs drives the load.
Results are explained in docs/benchmarks.md.
"""
