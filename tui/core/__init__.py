"""The core: model, errors, job specs, the log parser, formats, settings and the use cases.

It imports nothing else of the project, so both front ends and every backend can build on it.
"""
