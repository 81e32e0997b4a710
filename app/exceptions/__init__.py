"""The exception register: business exceptions raised by detectors and pipelines, owned by a team."""
