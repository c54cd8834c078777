"""The ``irr`` command: thin click commands over the Python API."""
