"""The Qt application: main window, one widget per module, and the backend worker living in a QThread.

Only this package imports Qt. :mod:`.messages` and :mod:`.compute` are Qt-free (the backend's synchronous
core); :mod:`.backend` puts that core into a ``QThread``.
"""
