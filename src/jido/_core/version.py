"""The version of jido (also ``jido.__version__``)."""

VERSION = "0.1.0"
