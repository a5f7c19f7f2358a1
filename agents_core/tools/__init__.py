"""Tools the model may call, registered by name (see :mod:`agents_core.tools.registry`)."""
