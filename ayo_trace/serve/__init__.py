"""Serving workflows: the ``ayo`` command line (``cli.py``) and an HTTP server (``app.py``).

This package sits above every layer, beside the driver: nothing in frontend, ir, passes or backend
imports it (``tests/test_layers.py``). Its third-party libraries (click, Starlette, uvicorn,
sse-starlette, prometheus-client) are the optional extra ``serve``.
"""
