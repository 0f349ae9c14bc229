"""Workflows written the way users write them, using parallel constructs and control flow that
the tracer turns into graph nodes (``gather``, task groups, loops with ``break``/``continue``,
``while``, ``try``/``except``, ``match``). Golden texts name lines of these files: edit with care."""
