"""Benchmarks: the fast core against a naive implementation, in the same process and input.

Timings are single-threaded (one core) unless the caller sets the thread variables itself:
``python -m benchmarks`` sets them before NumPy is first imported; importing this package
(the tests do) changes nothing.
"""
