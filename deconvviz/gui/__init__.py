"""The Qt application: main window, analysis views, one widget per module, and the runner's QThreads.

Only this package imports Qt. The state the windows observe, the requests and the runner's core live in
:mod:`deconvviz.session` (Qt-free); :mod:`.backend` gives that core its QThreads, timers and signals.
"""
