"""SSW: an open class-5 softswitch compatible with ECSS-10's operator interfaces."""

__version__ = "0.1.0"
