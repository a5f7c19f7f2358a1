"""The workflow file format: loader with positions, type strings, models, validator."""
