"""Scripts that are not the product (the step profiler); run from the repository's root."""
