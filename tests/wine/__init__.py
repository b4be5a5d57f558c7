"""tests/wine: the Windows side in Wine against Linux peers (run by ``nox -s wine``)."""
