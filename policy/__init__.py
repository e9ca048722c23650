"""The convention as data and pure functions: no I/O, no imports of our other layers."""
